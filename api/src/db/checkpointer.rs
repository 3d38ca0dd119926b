//! Copies SQLite's write-ahead log back into the database file on a thread of its own.
//!
//! With only `wal_autocheckpoint`, the commit that crosses the threshold makes the copy,
//! and its syncs, itself: on the one writer connection that every push waits for, where it
//! was 29% of the commit and 5% of a push in the profile (docs/benchmarks.md). Here a
//! connection of its own copies what is committed every [`INTERVAL`]; in WAL mode a
//! checkpoint never blocks the writer, nor waits for it. The writer's automatic checkpoint
//! stays, as the backstop for when this thread falls behind: it then finds most of the log
//! copied already.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::pool::DbTarget;
use super::DbConn;

/// How often committed pages are copied: at full speed a few pushes' pages each time.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// The running copier; it stops (and closes its connection) once this is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    stop: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts copying the log of the SQLite file at `path`.
    pub(super) fn start(path: &str) -> std::io::Result<Checkpointer> {
        let stop = Arc::new(AtomicBool::new(false));
        let target = DbTarget::SqliteFile(path.to_owned());
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&target, &stopped))?;
        Ok(Checkpointer { stop })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn run(target: &DbTarget, stop: &AtomicBool) {
    let mut conn = None;
    // Logged when it starts failing and when it works again, not every INTERVAL.
    let mut failing = false;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(INTERVAL);
        match copy_log(target, &mut conn) {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("the write-ahead log is copied into the database again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "cannot copy the write-ahead log into the database; the writer's own checkpoint will");
            }
            Err(_) => {}
        }
    }
}

/// Copies what is committed, opening the copier's connection first if it has none.
fn copy_log(target: &DbTarget, conn: &mut Option<DbConn>) -> Result<(), String> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(target.connect().map_err(|e| e.to_string())?),
    };
    // PASSIVE copies what no reader still needs and never waits for anyone.
    c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
        .map_err(|e| e.to_string())
}
