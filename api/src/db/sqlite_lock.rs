//! SQLite serves one process: `canvass serve` holds an exclusive lock on `PATH.lock` for as
//! long as it runs, so a second one on the same file refuses to start instead of sharing
//! the in-process writer queue and throttling state with a process it cannot see.

use std::fs::{File, OpenOptions, TryLockError};

/// The held lock; released when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

/// The lock file beside the database file.
pub fn lock_path(database_path: &str) -> String {
    format!("{database_path}.lock")
}

/// Takes the lock for the SQLite database at `database_path`, or says who holds it.
pub fn acquire(database_path: &str) -> Result<ServeLock, String> {
    let path = lock_path(database_path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {path}: {e}"))?;
    match file.try_lock() {
        Ok(()) => Ok(ServeLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(format!(
            "another canvass serve is already using the SQLite database {database_path} \
             (it holds {path}); SQLite serves one process: stop the other one, or use \
             PostgreSQL to run several"
        )),
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {path}: {e}")),
    }
}
