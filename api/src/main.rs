//! The `canvass` command: `serve`, `migrate`, `verify`, `demo`.

use std::process::ExitCode;
use std::time::Duration;

use canvass_api::db::DbTarget;
use canvass_api::settings::Settings;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

const ENV_HELP: &str = "\
Secrets and the first admin are read from the environment only, never from flags:
  CANVASS_JWT_SECRET       HMAC secret for access tokens (default: generated once and kept
                           in the database)
  CANVASS_ADMIN_USERNAME   login of the first admin, created only when the database has no
                           user (default: admin)
  CANVASS_ADMIN_PASSWORD   its password (default: a random one, printed once on stderr)
  CANVASS_REFRESH_GRACE_SECS
                           seconds after its first use during which a refresh token may be
                           presented again and answered like the first time (default: 60)
  RUST_LOG                 log filter, e.g. info or canvass_api=debug (default: info)";

/// canvass: offline door-to-door campaign backend.
#[derive(Debug, Parser)]
#[command(name = "canvass", version, about, after_help = ENV_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, create the first admin if there is no user, and serve the API.
    #[command(after_help = ENV_HELP)]
    Serve(ServeArgs),
    /// Only migrate the database.
    Migrate(MigrateArgs),
    /// Copy a SQLite database to a new file while it is being served (PostgreSQL: use
    /// pg_dump).
    Backup(BackupArgs),
    /// Recount every campaign's coverage counters from the records; exits 1 naming each
    /// ward whose counters differ.
    Verify(DatabaseArgs),
    /// Build a living demo campaign in a fresh database (the 91 wards of Bình Dương, streets,
    /// households, users of every role, four days of visits synced by simulated phones),
    /// then serve it and print the logins.
    #[command(after_help = DEMO_ENV_HELP)]
    Demo(DemoArgs),
}

const DEMO_ENV_HELP: &str = "\
The demo password, shared by every demo login, is CANVASS_ADMIN_PASSWORD when set, else
random; either way it is printed with the logins. The other variables of `serve` apply.";

#[derive(Debug, Args)]
struct DemoArgs {
    /// A fresh, empty database: sqlite://PATH or postgres://… (default: a new SQLite file in
    /// a temporary folder). DATABASE_URL is deliberately not read: the demo never fills a
    /// database by accident.
    #[arg(long)]
    database_url: Option<String>,
    /// How much to generate: small, normal (a few hundred households per ward), large, or a
    /// factor such as 0.5.
    #[arg(long, default_value = "normal")]
    scale: canvass_api::demo::Scale,
    /// Seed of the generated streets, households and visits (same seed, same world).
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// Database: sqlite://PATH, sqlite::memory: (trials only: nothing is kept) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://canvass.db")]
    database_url: String,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Run once after restoring a backup, before serving: every street's seqs jump past a
    /// gap, so phones' cursors from before the restore start over instead of skipping.
    #[arg(long)]
    after_restore: bool,
    /// How many seqs each street skips with --after-restore.
    #[arg(long, default_value_t = canvass_api::backup::DEFAULT_SEQ_GAP, requires = "after_restore")]
    seq_gap: i64,
}

#[derive(Debug, Args)]
struct BackupArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The new file to write; an existing file is never overwritten.
    path: String,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    server: ServerArgs,
}

/// The flags of a serving process, shared by `serve` and `demo`.
#[derive(Debug, Args)]
struct ServerArgs {
    /// Address and port to listen on (port 0 picks a free one and prints it).
    #[arg(long, env = "CANVASS_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Database connections in the pool.
    #[arg(long, env = "CANVASS_POOL_SIZE", default_value_t = 16)]
    pool_size: u32,
    /// SQLite only: the writer's page cache in MiB, most of the server's memory. A larger
    /// cache speeds up large imports on a machine with memory to spare.
    #[arg(long, env = "CANVASS_SQLITE_CACHE_MIB", default_value_t = canvass_api::db::pool::DEFAULT_SQLITE_CACHE_MIB,
          value_parser = clap::value_parser!(u32).range(2..=65_536))]
    sqlite_cache_mib: u32,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CANVASS_WORKERS", default_value_t = 0)]
    workers: usize,
    /// Failed logins from one client address within 15 minutes before it gets 429. Raise
    /// it when many phones share one carrier-NAT address.
    #[arg(long, env = "CANVASS_LOGIN_FAILURES_PER_IP", default_value_t = 100)]
    login_failures_per_ip: usize,
    /// Origins allowed to call the API from a browser (comma-separated `scheme://host[:port]`,
    /// or `*` for any). CORS stays closed when empty.
    #[arg(long, env = "CANVASS_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Take the client address from X-Forwarded-For (only behind a proxy you run).
    #[arg(long, env = "CANVASS_TRUST_PROXY")]
    trust_proxy: bool,
    /// Seconds a client may take to send its request head before it is dropped.
    #[arg(long, env = "CANVASS_CLIENT_TIMEOUT_SECS", default_value_t = 10)]
    client_timeout_secs: u64,
    /// Seconds a JSON body may take to arrive once its head has (CSV imports: ten times as
    /// long); a client that trickles its body is answered 408 `request_timeout` and dropped.
    #[arg(long, env = "CANVASS_BODY_TIMEOUT_SECS", default_value_t = 60)]
    body_timeout_secs: u64,
    /// Seconds shutdown waits for in-flight requests.
    #[arg(long, env = "CANVASS_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    shutdown_timeout_secs: u64,
    /// Access token lifetime in seconds.
    #[arg(long, env = "CANVASS_ACCESS_TOKEN_SECS", default_value_t = 900)]
    access_token_secs: u64,
    /// Log lines as JSON.
    #[arg(long, env = "CANVASS_LOG_JSON")]
    log_json: bool,
    /// Mark the dashboard's cookies `Secure` (turn on when users reach it over HTTPS).
    #[arg(long, env = "CANVASS_COOKIE_SECURE", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    cookie_secure: bool,
}

/// The allowed CORS origins: `*`, or `scheme://host[:port]` each (what a browser sends as
/// `Origin`); anything else stops the server at start-up with a message instead of a panic
/// in every worker.
fn cors_origins(given: Vec<String>) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for origin in given.into_iter().map(|o| o.trim().to_owned()) {
        if origin.is_empty() {
            continue;
        }
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let well_formed = origin == "*"
            || host.is_some_and(|h| {
                !h.is_empty()
                    && !h.contains(['/', '?', '#', '*'])
                    && !h.contains(char::is_whitespace)
            });
        if !well_formed {
            return Err(format!(
                "--cors-origins: {origin:?} is not an origin; give `*` or scheme://host[:port], e.g. https://dashboard.example"
            ));
        }
        origins.push(origin);
    }
    Ok(origins)
}

fn database(url: &str) -> Result<DbTarget, String> {
    DbTarget::parse(url)
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Settings from the server flags and the environment.
fn settings(args: ServerArgs, database: DbTarget) -> Result<Settings, String> {
    let mut settings = Settings::new(database);
    settings.bind = args.bind;
    settings.pool_size = args.pool_size;
    settings.sqlite_cache_mib = args.sqlite_cache_mib;
    settings.workers = args.workers;
    settings.login_failures_per_ip = args.login_failures_per_ip;
    settings.cors_origins = cors_origins(args.cors_origins)?;
    settings.trust_proxy = args.trust_proxy;
    settings.client_request_timeout = Duration::from_secs(args.client_timeout_secs);
    settings.body_timeout = Duration::from_secs(args.body_timeout_secs.max(1));
    settings.shutdown_timeout = Duration::from_secs(args.shutdown_timeout_secs);
    settings.access_token_ttl = Duration::from_secs(args.access_token_secs.max(1));
    settings.json_logs = args.log_json;
    settings.cookie_secure = args.cookie_secure;
    settings.jwt_secret = env_secret("CANVASS_JWT_SECRET");
    settings.admin_password = env_secret("CANVASS_ADMIN_PASSWORD");
    if let Ok(text) = std::env::var("CANVASS_REFRESH_GRACE_SECS") {
        let secs: u64 = text.trim().parse().map_err(|_| {
            format!("CANVASS_REFRESH_GRACE_SECS: {text:?} is not a number of seconds")
        })?;
        settings.refresh_grace = Duration::from_secs(secs);
    }
    if let Ok(name) = std::env::var("CANVASS_ADMIN_USERNAME") {
        if !name.is_empty() {
            settings.admin_username = name;
        }
    }
    Ok(settings)
}

fn serve(args: ServeArgs) -> Result<(), String> {
    canvass_api::memory::bound_allocator();
    init_logging(args.server.log_json);
    let settings = settings(args.server, database(&args.database.database_url)?)?;
    actix_web::rt::System::new().block_on(canvass_api::startup::serve(settings))
}

fn demo(args: DemoArgs) -> Result<(), String> {
    canvass_api::memory::bound_allocator();
    init_logging(args.server.log_json);
    let (database, kept_in) = match &args.database_url {
        Some(url) => (database(url)?, None),
        None => {
            let folder = canvass_api::demo::temp_folder()?;
            let url = format!("sqlite://{}", folder.join("canvass-demo.db").display());
            (database(&url)?, Some(folder))
        }
    };
    let settings = settings(args.server, database)?;
    let plan = canvass_api::demo::Plan {
        scale: args.scale,
        seed: args.seed,
        kept_in,
    };
    actix_web::rt::System::new().block_on(canvass_api::demo::run(settings, plan))
}

fn migrate(args: MigrateArgs) -> Result<(), String> {
    init_logging(false);
    let settings = Settings::new(database(&args.database.database_url)?);
    let db = canvass_api::startup::open_and_migrate(&settings)?;
    if args.after_restore {
        let mut conn = db.get().map_err(|e| e.to_string())?;
        let moved = canvass_api::backup::after_restore(&mut conn, args.seq_gap)?;
        println!(
            "{moved} street(s): seqs moved {} past the restored ones",
            args.seq_gap
        );
    }
    Ok(())
}

fn backup(args: BackupArgs) -> Result<(), String> {
    init_logging(false);
    let target = database(&args.database.database_url)?;
    canvass_api::backup::backup_sqlite(&target, &args.path)?;
    println!("backed up to {}", args.path);
    Ok(())
}

fn verify(args: DatabaseArgs) -> Result<(), String> {
    init_logging(false);
    let settings = Settings::new(database(&args.database_url)?);
    let db = canvass_api::startup::open_and_migrate(&settings)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let mismatches = canvass_api::verify::verify(&mut conn)?;
    if mismatches.is_empty() {
        println!("counters are exact");
        return Ok(());
    }
    for m in &mismatches {
        println!(
            "MISMATCH campaign={} ward={} stored: {} recount: {}",
            m.campaign_id.as_deref().unwrap_or("-"),
            m.ward_id,
            m.stored,
            m.recounted
        );
    }
    Err(format!(
        "{} ward(s) differ from a recount",
        mismatches.len()
    ))
}

fn main() -> ExitCode {
    canvass_api::db::pool::init_tls();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => migrate(args),
        Command::Backup(args) => backup(args),
        Command::Verify(args) => verify(args),
        Command::Demo(args) => demo(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("canvass: {err}");
            ExitCode::FAILURE
        }
    }
}
