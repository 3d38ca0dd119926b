//! A full disk under the SQLite file. SQLite refuses the write that needs more space and
//! rolls it back whole; the server answers it 503 `unavailable` and keeps serving reads.
//! This module remembers that the disk is full, so that `/readyz` reports it, logs the
//! moment it starts and the moment it ends, and finds out by itself when space was freed.
//!
//! Only a database file is watched. PostgreSQL's own "no space left" errors are answered
//! the same 503, but not remembered: its disk is not this host's to look at.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{ApiError, ApiResult};

/// How much the database's filesystem must have free, once it was full, before the server
/// reports ready again: more than a large push adds to the WAL.
pub const HEADROOM_BYTES: u64 = 4 * 1024 * 1024;

/// Whether the disk of the database is known to be full.
#[derive(Debug)]
pub struct DiskFull {
    full: AtomicBool,
    /// The folder of the database file, whose filesystem is watched; none for a database
    /// that is not a file.
    folder: Option<PathBuf>,
}

impl DiskFull {
    /// Watches the SQLite database at `database_path` (none: nothing to watch).
    pub fn new(database_path: Option<&str>) -> DiskFull {
        let folder = database_path.map(|path| {
            let parent = std::path::Path::new(path).parent();
            match parent {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
                _ => PathBuf::from("."),
            }
        });
        DiskFull {
            full: AtomicBool::new(false),
            folder,
        }
    }

    /// Learns from the outcome of a write: a refusal for a full disk starts the state; a
    /// committed write ends it if the filesystem has the headroom again. (A write can
    /// succeed on a full disk, when it fits in pages the WAL already holds, so success
    /// alone says nothing.)
    pub fn observe<T>(&self, outcome: &ApiResult<T>) {
        if self.folder.is_none() {
            return;
        }
        match outcome {
            Err(ApiError::StorageFull(_)) => {
                if !self.full.swap(true, Ordering::SeqCst) {
                    tracing::error!(
                        "DISK FULL: the database's filesystem has no space left; every write \
                         that needs more is refused with 503 until space is freed (reads go \
                         on, nothing acknowledged is lost)"
                    );
                } else {
                    tracing::warn!("write refused: the database's disk is still full");
                }
            }
            // Looking is what ends the state when space is back; the answer is not needed.
            Ok(_) => {
                let _ = self.still_full();
            }
            Err(_) => {}
        }
    }

    /// Whether the disk is full right now: it was found full and the filesystem has less
    /// than [`HEADROOM_BYTES`] free. The state ends by itself once space is freed, so the
    /// server recovers without a restart, and without a write having to succeed first
    /// (which a load balancer that trusts `/readyz` would never send).
    pub fn still_full(&self) -> bool {
        let Some(folder) = &self.folder else {
            return false;
        };
        if !self.full.load(Ordering::SeqCst) {
            return false;
        }
        match free_bytes(folder) {
            Ok(free) if free >= HEADROOM_BYTES => {
                if self.full.swap(false, Ordering::SeqCst) {
                    tracing::warn!(free_bytes = free, "the database's disk takes writes again");
                }
                false
            }
            Ok(_) => true,
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell the free space of the database's disk");
                true
            }
        }
    }
}

/// The bytes an unprivileged process may still write on the filesystem holding `folder`.
#[cfg(unix)]
fn free_bytes(folder: &std::path::Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(folder)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Elsewhere the free space is not looked up and taken as enough: a refused write is still
/// answered 503 and logged, but `/readyz` does not report the full disk.
#[cfg(not(unix))]
fn free_bytes(_folder: &std::path::Path) -> std::io::Result<u64> {
    Ok(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn full() -> ApiResult<()> {
        Err(ApiError::StorageFull("full".into()))
    }

    #[test]
    fn a_refusal_for_a_full_disk_starts_the_state_and_free_space_ends_it() {
        // The temp folder has far more than the headroom free.
        let database = std::env::temp_dir().join("canvass.db");
        let disk = DiskFull::new(database.to_str());
        assert!(!disk.still_full());
        disk.full.store(true, Ordering::SeqCst);
        assert!(!disk.still_full(), "space is free: the state ends");
        disk.observe::<()>(&Err(ApiError::validation("a bad field")));
        assert!(
            !disk.full.load(Ordering::SeqCst),
            "other errors say nothing of the disk"
        );
        disk.observe(&full());
        assert!(disk.full.load(Ordering::SeqCst));
        disk.observe(&Ok(()));
        assert!(
            !disk.full.load(Ordering::SeqCst),
            "a commit with space free ends it"
        );
    }

    #[test]
    fn a_folder_whose_free_space_is_unknown_stays_full() {
        let disk = DiskFull::new(Some("/nonexistent-canvass-folder/canvass.db"));
        disk.observe(&full());
        assert!(disk.still_full());
    }

    #[test]
    fn a_database_that_is_not_a_file_is_never_reported_full() {
        let disk = DiskFull::new(None);
        disk.observe(&full());
        assert!(!disk.still_full());
    }
}
