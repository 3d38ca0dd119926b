//! What every handler shares.

use std::sync::Mutex;
use std::time::Duration;

use sync_protocol::{Clock, Hlc};

use crate::auth::hash_slots::HashSlots;
use crate::auth::jwt::TokenKeys;
use crate::auth::sessions::RefreshPolicy;
use crate::auth::throttle::LoginThrottle;
use crate::db::Db;
use crate::http::metrics::Metrics;
use crate::services::page_token::PageTokens;

/// The node name of HLCs the server stamps itself (reviews, imports).
pub const SERVER_NODE: &str = "server";

/// Shared application state.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Access token keys.
    pub keys: TokenKeys,
    /// Login throttling.
    pub throttle: LoginThrottle,
    /// The cap on password hashes in flight.
    pub hash_slots: HashSlots,
    /// A valid hash verified for unknown usernames, so timing does not tell them apart.
    pub dummy_password_hash: String,
    /// Access token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh token lifetime, grace window and successor key.
    pub refresh: RefreshPolicy,
    /// Trust `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// How long a JSON body may take to arrive.
    pub body_timeout: Duration,
    /// The server's hybrid logical clock, above every HLC it has stored.
    pub clock: Mutex<Clock>,
    /// Request metrics.
    pub metrics: Metrics,
    /// Signs and opens the page tokens of the visit list and history.
    pub page_tokens: PageTokens,
}

impl AppState {
    /// A new server HLC, above everything stored or seen.
    pub fn tick(&self) -> Hlc {
        let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        clock.tick(now_ms())
    }

    /// A new server HLC above `stored` as well as everything this process stored or saw:
    /// for stamping a record whose HLCs another process may have written.
    pub fn tick_above(&self, stored: Option<&Hlc>) -> Hlc {
        let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(stored) = stored {
            clock.witness(stored);
        }
        clock.tick(now_ms())
    }

    /// Raises the server clock above HLCs just stored.
    pub fn witness(&self, hlc: &Hlc) {
        let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        clock.witness(hlc);
    }
}

/// Wall-clock Unix milliseconds.
pub fn now_ms() -> u64 {
    let ms = chrono::Utc::now().timestamp_millis();
    u64::try_from(ms).unwrap_or(0)
}

/// Wall-clock Unix milliseconds as stored.
pub fn now_ms_i64() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
