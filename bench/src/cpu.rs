//! CPU time from Linux `/proc`, in clock ticks of 10 ms: on a machine shared by the
//! phones, the server and the database, the CPU each spends per change says where a rate
//! goes, which the rate alone cannot.

use std::time::Duration;

/// User and system ticks of one `stat` line, and those of its reaped children.
fn ticks(stat: &str) -> Option<(u64, u64)> {
    // The fields after the command's closing parenthesis: utime, stime, cutime and cstime
    // are the 14th to 17th of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n).and_then(|f| f.parse::<u64>().ok());
    Some((field(11)? + field(12)?, field(13)? + field(14)?))
}

fn duration(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 10)
}

/// CPU time of a process so far.
pub fn of_process(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    ticks(&stat).map(|(own, _)| duration(own))
}

/// CPU time of the calling thread so far.
pub fn of_thread() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    ticks(&stat).map(|(own, _)| duration(own))
}

/// CPU time of every PostgreSQL process on this machine so far, with the backends that
/// have exited (their time is added to the postmaster's children when it reaps them).
/// `None` when none is visible.
pub fn of_postgres() -> Option<Duration> {
    let mut total = 0;
    let mut seen = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if !stat.contains("(postgres)") {
            continue;
        }
        if let Some((own, children)) = ticks(&stat) {
            total += own + children;
            seen = true;
        }
    }
    seen.then(|| duration(total))
}
