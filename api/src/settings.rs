//! The typed configuration, built once in `main` from flags and environment and passed down.

use std::time::Duration;

use secrecy::SecretString;

use crate::db::DbTarget;

/// Everything `canvass serve` needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the data lives.
    pub database: DbTarget,
    /// Listen address.
    pub bind: String,
    /// HMAC secret for access tokens; generated and kept in the database when absent.
    pub jwt_secret: Option<SecretString>,
    /// Login name of the first admin.
    pub admin_username: String,
    /// Password of the first admin; random and printed once when absent.
    pub admin_password: Option<SecretString>,
    /// Database connections.
    pub pool_size: u32,
    /// The page cache of SQLite's writer connection, in MiB.
    pub sqlite_cache_mib: u32,
    /// HTTP worker threads.
    pub workers: usize,
    /// Access token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_token_ttl: Duration,
    /// How long a spent refresh token may be presented again and answered like the first
    /// time (`CANVASS_REFRESH_GRACE_SECS`).
    pub refresh_grace: Duration,
    /// Failed logins per username in the window before 429.
    pub login_failures_per_username: usize,
    /// Failed logins per client address in the window before 429.
    pub login_failures_per_ip: usize,
    /// Origins allowed by CORS; empty means CORS stays closed.
    pub cors_origins: Vec<String>,
    /// Trust `X-Forwarded-For` for the client address (only behind a proxy you run).
    pub trust_proxy: bool,
    /// How long a client may take to send its request head.
    pub client_request_timeout: Duration,
    /// How long a JSON body may take to arrive (CSV imports get ten times as long).
    pub body_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Log lines as JSON instead of text.
    pub json_logs: bool,
    /// Dashboard cookies carry `Secure` (the server is reached over HTTPS).
    pub cookie_secure: bool,
}

impl Settings {
    /// Defaults for everything but the database (tests and tools start from here).
    pub fn new(database: DbTarget) -> Settings {
        Settings {
            database,
            bind: "127.0.0.1:8080".into(),
            jwt_secret: None,
            admin_username: "admin".into(),
            admin_password: None,
            pool_size: 16,
            sqlite_cache_mib: crate::db::pool::DEFAULT_SQLITE_CACHE_MIB,
            workers: 0,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(60),
            login_failures_per_username: 10,
            login_failures_per_ip: 100,
            cors_origins: Vec::new(),
            trust_proxy: false,
            client_request_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
            json_logs: false,
            cookie_secure: false,
        }
    }
}
