//! `canvass demo`: a living campaign in a fresh database within a minute.
//!
//! The demo starts the real server, then plays a campaign against it the way the field
//! would: an admin imports the areas, streets and households over the API, creates the
//! campaign and assigns the streets; simulated phones (each a `sync_protocol::Replica`)
//! pull, record visits, fall offline, edit one visit from two devices, and push through
//! the real push endpoint; ward leaders verify and reject visits by push. What it shows
//! afterwards is therefore exactly what the server made of that traffic.
//!
//! Only the users are written straight into the database: one shared password hashed once,
//! instead of hundreds of Argon2 hashes that would take half the minute. The phones and
//! the admin carry access tokens signed with the server's own keys for the same reason.

mod campaign;
mod client;
mod field;
mod logins;
mod names;
mod people;
mod world;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use actix_web::web;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::db::users;
use crate::settings::Settings;
use crate::startup;

/// The areas the demo loads: Bình Dương as it stood in June 2020.
pub const AREAS_CSV: &str = include_str!("../../../data/binh-duong-2020-areas.csv");

/// How much the demo generates, as a factor of the normal size (a few hundred households
/// per ward).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(pub f64);

impl FromStr for Scale {
    type Err = String;

    fn from_str(text: &str) -> Result<Scale, String> {
        let factor = match text {
            "small" => 0.1,
            "normal" => 1.0,
            "large" => 3.0,
            other => other.parse::<f64>().map_err(|_| {
                format!("{other:?} is not small, normal, large or a factor such as 0.5")
            })?,
        };
        if !(0.01..=10.0).contains(&factor) {
            return Err(format!(
                "a scale factor must lie in 0.01..=10, not {factor}"
            ));
        }
        Ok(Scale(factor))
    }
}

/// What `canvass demo` was asked for.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The size of the world.
    pub scale: Scale,
    /// The seed of everything generated.
    pub seed: u64,
    /// The temporary folder holding the database, when the demo chose it.
    pub kept_in: Option<PathBuf>,
}

/// A new folder in the system's temporary directory for the demo's database.
pub fn temp_folder() -> Result<PathBuf, String> {
    let folder = std::env::temp_dir().join(format!("canvass-demo-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    Ok(folder)
}

fn random_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Builds the demo campaign, then serves it until SIGINT or SIGTERM.
pub async fn run(mut settings: Settings, plan: Plan) -> Result<(), String> {
    let started = Instant::now();
    let password = match &settings.admin_password {
        Some(chosen) => chosen.expose_secret().to_owned(),
        None => random_password(),
    };
    settings.admin_password = Some(SecretString::from(password.clone()));
    let db = startup::open_and_migrate(&settings)?;
    {
        let mut conn = db.get().map_err(|e| e.to_string())?;
        if users::any(&mut conn).map_err(|e| e.to_string())? {
            return Err(
                "the demo needs a fresh database, and this one already has users; \
                 give it another --database-url or none"
                    .into(),
            );
        }
    }
    let state = web::Data::new(startup::build_state(db, &settings)?);
    let (server, addrs) = startup::start(&settings, state.clone())?;
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);
    let Some(addr) = addrs.first().copied() else {
        return Err("the server listens nowhere".into());
    };
    let base = client::base_url(addr);
    let admin_username = settings.admin_username.clone();
    let built = actix_web::rt::task::spawn_blocking(move || {
        campaign::build(&state, &base, &plan, &admin_username, &password)
    })
    .await
    .map_err(|e| format!("the demo builder stopped: {e}"));
    let built = match built.and_then(|inner| inner) {
        Ok(built) => built,
        Err(err) => {
            handle.stop(false).await;
            return Err(err);
        }
    };
    logins::print(&built, &settings.database, addr, started.elapsed());
    running
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
