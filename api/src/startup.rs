//! Bringing the server up: migrate, make sure there is a signing secret and a first admin,
//! put the HLC above everything stored, then serve until SIGINT/SIGTERM.

use std::sync::Mutex;

use actix_web::web;
use base64::Engine;
use rand::RngCore;
use secrecy::ExposeSecret;
use sync_protocol::Clock;

use crate::auth::hash_slots::HashSlots;
use crate::auth::jwt::TokenKeys;
use crate::auth::refresh::SuccessorKey;
use crate::auth::sessions::RefreshPolicy;
use crate::auth::throttle::LoginThrottle;
use crate::auth::{password, username};
use crate::db::{server_settings, streets, users, Db, DbConn};
use crate::http::metrics::Metrics;
use crate::model::UserId;
use crate::services::page_token::PageTokens;
use crate::settings::Settings;
use crate::state::{now_ms_i64, AppState, SERVER_NODE};
use crate::sync::ingest::MAX_SKEW_MS;

/// Opens the database and runs pending migrations.
pub fn open_and_migrate(settings: &Settings) -> Result<Db, String> {
    let db = Db::open(
        &settings.database,
        settings.pool_size,
        settings.sqlite_cache_mib,
    )?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let ran = conn.migrate()?;
    if ran > 0 {
        tracing::info!(migrations = ran, "database migrated");
    }
    let kept_apart = conn
        .write_transaction(users::fill_username_keys)
        .map_err(|e| format!("cannot normalize stored usernames: {e}"))?;
    for name in kept_apart {
        tracing::warn!(username = %name, "username collides with an older one after \
            normalization; it logs in with its exact spelling only");
    }
    Ok(db)
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn jwt_secret(conn: &mut DbConn, settings: &Settings) -> Result<Vec<u8>, String> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.expose_secret().as_bytes().to_vec());
    }
    let stored = server_settings::get_or_insert(conn, "jwt_secret", &random_text(48))
        .map_err(|e| e.to_string())?;
    Ok(stored.into_bytes())
}

fn ensure_first_admin(conn: &mut DbConn, settings: &Settings) -> Result<(), String> {
    if users::any(conn).map_err(|e| e.to_string())? {
        return Ok(());
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.expose_secret().to_owned(), false),
        None => (random_text(18), true),
    };
    username::check_new(&settings.admin_username)
        .map_err(|e| format!("CANVASS_ADMIN_USERNAME: {e}"))?;
    password::check_new_password(&password).map_err(|e| format!("CANVASS_ADMIN_PASSWORD: {e}"))?;
    let row = users::UserRow {
        id: UserId::new_v4(),
        username: settings.admin_username.clone(),
        display_name: "Administrator".into(),
        role: sync_protocol::Role::Admin,
        area_id: None,
        password_hash: password::hash(&password).map_err(|e| e.to_string())?,
        disabled: false,
        created_at: now_ms_i64(),
    };
    users::insert(conn, &row).map_err(|e| e.to_string())?;
    if generated {
        // Printed once, on stderr only, never logged.
        eprintln!(
            "canvass: created the first admin {:?} with password {password}\n\
             canvass: store it now; it is not shown again",
            settings.admin_username
        );
    }
    tracing::info!(username = %settings.admin_username, "first admin created");
    Ok(())
}

/// Builds the shared state from an opened database.
pub fn build_state(db: Db, settings: &Settings) -> Result<AppState, String> {
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let secret = jwt_secret(&mut conn, settings)?;
    ensure_first_admin(&mut conn, settings)?;
    let mut clock = Clock::new(SERVER_NODE, MAX_SKEW_MS).map_err(|e| e.to_string())?;
    if let Some(max) = streets::max_hlc(&mut conn).map_err(|e| e.to_string())? {
        clock.witness(&max);
    }
    drop(conn);
    Ok(AppState {
        db,
        keys: TokenKeys::new(&secret),
        page_tokens: PageTokens::from_secret(&secret),
        throttle: LoginThrottle::new(
            std::time::Duration::from_secs(15 * 60),
            settings.login_failures_per_username,
            settings.login_failures_per_ip,
        ),
        hash_slots: HashSlots::per_core()?,
        dummy_password_hash: password::hash(&random_text(16)).map_err(|e| e.to_string())?,
        access_token_ttl: settings.access_token_ttl,
        refresh: RefreshPolicy {
            ttl: settings.refresh_token_ttl,
            grace: settings.refresh_grace,
            key: SuccessorKey::from_secret(&secret),
        },
        trust_proxy: settings.trust_proxy,
        body_timeout: settings.body_timeout,
        clock: Mutex::new(clock),
        metrics: Metrics::default(),
    })
}

/// Binds the HTTP server on `settings.bind` with `state` and starts it; the returned
/// server runs until it is stopped or receives SIGINT/SIGTERM once awaited.
pub fn start(
    settings: &Settings,
    state: web::Data<AppState>,
) -> Result<(actix_web::dev::Server, Vec<std::net::SocketAddr>), String> {
    crate::http::server::start(settings, state)
}

/// Serves until SIGINT or SIGTERM, then finishes in-flight requests and returns.
pub async fn serve(settings: Settings) -> Result<(), String> {
    let _single_process = match &settings.database {
        crate::db::DbTarget::SqliteFile(path) => Some(crate::db::sqlite_lock::acquire(path)?),
        _ => None,
    };
    let db = open_and_migrate(&settings)?;
    let state = web::Data::new(build_state(db, &settings)?);
    let (server, _) = start(&settings, state)?;
    server.await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
