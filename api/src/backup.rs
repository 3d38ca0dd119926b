//! `canvass backup PATH` (SQLite) and `canvass migrate --after-restore`.
//!
//! A SQLite backup is `VACUUM INTO` a file beside the destination, then a rename: one read
//! transaction, so the copy is a consistent snapshot taken while the server keeps serving
//! and writing (WAL readers never block the writer), and the destination appears only
//! once complete. PostgreSQL is backed up with `pg_dump` (docs/operations.md).

use diesel::connection::SimpleConnection;

use crate::db::{streets, DbConn, DbTarget};

/// Seqs a street skips after a restore, unless told otherwise: far more versions than one
/// street gets between a backup and the failure that needs it.
pub const DEFAULT_SEQ_GAP: i64 = 1_000_000;

/// Copies the SQLite database `target` to the new file `destination`.
pub fn backup_sqlite(target: &DbTarget, destination: &str) -> Result<(), String> {
    match target {
        DbTarget::SqliteFile(_) => {}
        DbTarget::SqliteMemory => {
            return Err("sqlite::memory: keeps nothing: there is nothing to back up".into())
        }
        DbTarget::Postgres(_) => {
            return Err(
                "canvass backup is for SQLite; back PostgreSQL up with pg_dump \
                 (see docs/operations.md)"
                    .into(),
            )
        }
    }
    if std::path::Path::new(destination).exists() {
        return Err(format!(
            "{destination} exists; a backup never overwrites a file"
        ));
    }
    let partial = format!("{destination}.partial");
    let _ = std::fs::remove_file(&partial);
    let mut conn = target
        .connect()
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let quoted = partial.replace('\'', "''");
    let copied = conn
        .batch_execute(&format!("VACUUM INTO '{quoted}'"))
        .map_err(|e| format!("cannot copy the database to {partial}: {e}"));
    if let Err(err) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(|e| format!("cannot flush {partial}: {e}"))?;
    std::fs::rename(&partial, destination)
        .map_err(|e| format!("cannot rename {partial} to {destination}: {e}"))?;
    Ok(())
}

/// After a restore: moves every street's next seq `gap` past its last one and remembers the
/// gap, so seqs phones saw before the restore are never handed out again and their cursors
/// restart (contract §12). Returns how many streets moved.
pub fn after_restore(conn: &mut DbConn, gap: i64) -> Result<usize, String> {
    if gap < 1 {
        return Err("--seq-gap must be at least 1".into());
    }
    conn.write_transaction(|conn| streets::open_restore_gap(conn, gap))
        .map_err(|e| format!("cannot move the seqs past the restore: {e}"))
}
