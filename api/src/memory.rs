//! How the C allocator keeps a serving process's memory.
//!
//! Most of a SQLite server's memory is SQLite's page cache, which SQLite takes from the C
//! allocator on whichever thread runs the query. glibc gives threads up to eight arenas per
//! core and keeps what is freed in the arena that freed it, so the one writer's cache,
//! moving between the blocking pool's threads, ended up spread over five arenas of about
//! 60 MiB each. And after a large buffer is freed glibc raises the size above which it maps
//! memory straight from the kernel, so later buffers of that size stay in the heap once
//! freed. With a million visits the server peaked at 214 MiB with glibc's defaults, and at
//! less with two arenas and a fixed threshold (docs/benchmarks.md).
//!
//! glibc reads these settings once, when the process starts, from `GLIBC_TUNABLES`; the
//! call to change them later is `unsafe`, which this workspace forbids. So a serving process
//! started without them starts itself again, in place (`exec`: the same process id, the same
//! arguments and open files), with them set.

/// The tunable whose presence says the allocator is already bounded, by us or the operator.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MARK: &str = "glibc.malloc.arena_max";

/// Buffers this large or larger are mapped from the kernel and returned to it when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: usize = 1024 * 1024;

/// The `GLIBC_TUNABLES` value to start with: what `current` holds, and one arena per core
/// (at least two) and a fixed mapping threshold; `None` when `current` already bounds the
/// arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tunables(current: &str, cores: usize) -> Option<String> {
    if current.contains(MARK) {
        return None;
    }
    let ours = format!(
        "{MARK}={}:glibc.malloc.mmap_threshold={MMAP_THRESHOLD}",
        cores.max(2)
    );
    Some(if current.is_empty() {
        ours
    } else {
        format!("{current}:{ours}")
    })
}

/// Starts this process again with the allocator bounded, unless it already is. Call it
/// first thing in a serving command, before any thread starts. Where the C library is not
/// glibc, or the restart fails (it says why on stderr), the process goes on as it is.
pub fn bound_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;

        let current = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let Some(value) = tunables(&current, cores) else {
            return;
        };
        let Ok(binary) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(binary);
        if let Some(name) = args.next() {
            command.arg0(name);
        }
        let error = command.args(args).env("GLIBC_TUNABLES", value).exec();
        eprintln!("canvass: serving with glibc's default allocator settings: cannot restart with bounded ones ({error})");
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    #[test]
    fn the_tunables_bound_arenas_by_cores_and_keep_the_operators_own() {
        assert_eq!(
            tunables("", 1).as_deref(),
            Some("glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=1048576")
        );
        assert_eq!(
            tunables("glibc.malloc.tcache_count=0", 8).as_deref(),
            Some("glibc.malloc.tcache_count=0:glibc.malloc.arena_max=8:glibc.malloc.mmap_threshold=1048576")
        );
        assert_eq!(tunables("glibc.malloc.arena_max=4", 8), None);
    }
}
