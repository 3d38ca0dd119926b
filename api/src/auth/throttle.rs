//! Login throttling in a sliding 15-minute window, per username and per client address,
//! kept in the database so that every process on one PostgreSQL database throttles alike.
//!
//! An attempt is counted *before* its password is checked, in one transaction that also
//! decides whether it may go ahead; concurrent guesses therefore cannot all slip through
//! between a check and a count. A login that succeeds takes its attempt back, so what stays
//! in the window is the failures (and the attempts in flight). An attempt refused with 429
//! is not counted. Old attempts are pruned by time only, so no amount of junk forgets a
//! username under attack.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::login_attempts::{self, AttemptRow, CountedBy};
use crate::db::{Db, DbConn};
use crate::error::ApiError;

/// How often a process prunes attempts that left the window.
const PRUNE_EVERY_MS: i64 = 60_000;

/// The throttle's limits; its state lives in the database.
#[derive(Debug)]
pub struct LoginThrottle {
    window_ms: i64,
    per_username: i64,
    per_client: i64,
    last_prune_ms: AtomicI64,
}

/// An attempt that was counted and may go ahead; give it to [`LoginThrottle::forgive`]
/// when the password turns out right (or was never checked).
#[derive(Debug, Clone)]
pub struct Attempt {
    id: String,
}

/// What the throttle decided about an attempt.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Counted; go ahead and check the password.
    Counted(Attempt),
    /// Refused without being counted; a slot frees in this many seconds.
    Throttled {
        /// The `Retry-After`.
        retry_after_secs: u64,
    },
}

impl Verdict {
    /// The counted attempt, or the 429 to answer.
    pub fn into_result(self) -> Result<Attempt, ApiError> {
        match self {
            Verdict::Counted(attempt) => Ok(attempt),
            Verdict::Throttled { retry_after_secs } => Err(ApiError::rate_limited(
                "too many failed logins; try again later",
                retry_after_secs,
            )),
        }
    }
}

fn key_hash(kind: &str, text: &str) -> String {
    let digest = Sha256::new()
        .chain_update(kind.as_bytes())
        .chain_update([0u8])
        .chain_update(text.as_bytes())
        .finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Whole seconds from `now_ms` until `until_ms`, rounded up, at least 1.
fn seconds_until(now_ms: i64, until_ms: i64) -> u64 {
    let ms = until_ms.saturating_sub(now_ms).max(1);
    u64::try_from(ms.saturating_add(999) / 1000).unwrap_or(1)
}

impl LoginThrottle {
    /// `per_username` and `per_client` failures are allowed in `window`; the next attempt
    /// is refused until the oldest of them leaves the window.
    pub fn new(window: Duration, per_username: usize, per_client: usize) -> LoginThrottle {
        LoginThrottle {
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            per_username: i64::try_from(per_username).unwrap_or(i64::MAX),
            per_client: i64::try_from(per_client).unwrap_or(i64::MAX),
            last_prune_ms: AtomicI64::new(0),
        }
    }

    /// Decides about an attempt for `username_key` (the normalized username) from `client`,
    /// and counts it when it may go ahead. Run it in a write transaction: it locks both keys
    /// until the transaction ends.
    pub fn begin(
        &self,
        conn: &mut DbConn,
        username_key: &str,
        client: &str,
        now_ms: i64,
    ) -> diesel::QueryResult<Verdict> {
        let user = key_hash("username", username_key);
        let from = key_hash("client", client);
        login_attempts::lock_keys(conn, &[&user, &from])?;
        let since = now_ms.saturating_sub(self.window_ms);
        let mut frees_at = None::<i64>;
        for (by, key, limit) in [
            (CountedBy::Username, &user, self.per_username),
            (CountedBy::Client, &from, self.per_client),
        ] {
            let count = login_attempts::count_since(conn, by, key, since)?;
            if count >= limit {
                // The slot frees when the attempt that keeps the count at the limit leaves.
                let oldest = login_attempts::nth_since(conn, by, key, since, count - limit)?;
                let at = oldest.unwrap_or(now_ms).saturating_add(self.window_ms);
                frees_at = Some(frees_at.map_or(at, |other| other.max(at)));
            }
        }
        if let Some(at) = frees_at {
            // An attempt of a concurrent request (or another process's clock) may be
            // stamped a little after `now_ms`; no slot is ever more than a window away.
            let at = at.min(now_ms.saturating_add(self.window_ms));
            return Ok(Verdict::Throttled {
                retry_after_secs: seconds_until(now_ms, at),
            });
        }
        let id = Uuid::new_v4().to_string();
        login_attempts::insert(
            conn,
            &AttemptRow {
                id: id.clone(),
                username_key: user,
                client_key: from,
                at: now_ms,
            },
        )?;
        Ok(Verdict::Counted(Attempt { id }))
    }

    /// Takes a counted attempt back: the password was right, or was never checked.
    pub fn forgive(conn: &mut DbConn, attempt: &Attempt) -> diesel::QueryResult<()> {
        login_attempts::delete(conn, &attempt.id)
    }

    /// Takes back an attempt whose password was never checked (the hashing slots were all
    /// busy); best effort, as it only spares the client a count it did not earn.
    pub async fn take_back(db: &Db, attempt: Attempt) {
        let taken = db
            .write(move |conn| Ok(LoginThrottle::forgive(conn, &attempt)?))
            .await;
        if let Err(err) = taken {
            tracing::warn!(error = %err, "could not take back a login attempt");
        }
    }

    /// Deletes the attempts that left the window, at most once a minute per process.
    /// Best effort: a failure is logged and tried again a minute later.
    pub async fn prune_if_due(&self, db: &Db, now_ms: i64) {
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < PRUNE_EVERY_MS
            || self
                .last_prune_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let before = now_ms.saturating_sub(self.window_ms);
        let pruned = db
            .write(move |conn| Ok(login_attempts::prune(conn, before)?))
            .await;
        match pruned {
            Ok(count) if count > 0 => tracing::debug!(count, "pruned old login attempts"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "pruning login attempts failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(seconds_until(1_000, 1_001), 1);
        assert_eq!(seconds_until(1_000, 2_000), 1);
        assert_eq!(seconds_until(1_000, 2_001), 2);
        assert_eq!(seconds_until(5_000, 1_000), 1);
        assert_eq!(seconds_until(0, 900_000), 900);
    }

    #[test]
    fn usernames_and_addresses_hash_to_distinct_fixed_size_keys() {
        assert_ne!(key_hash("username", "a"), key_hash("client", "a"));
        assert_eq!(key_hash("username", &"x".repeat(100_000)).len(), 64);
    }
}
