//! `canvass-bench`: the real server against the database's own limit and against a peer
//! (pouchdb-server), on SQLite and PostgreSQL in one run, printed as a table of ratios; and a
//! fleet simulator of many phones in the field's conditions.
//!
//! ```sh
//! cargo run --release -p canvass-bench -- run            # the full table (tens of minutes)
//! cargo run --release -p canvass-bench -- run --quick    # seconds: that it works, not how fast
//! cargo run --release -p canvass-bench -- fleet --phones 1000
//! ```

mod backend;
mod client;
mod coverage;
mod cpu;
mod fleet;
mod ingest;
mod limit;
mod peer;
mod phone;
mod pull;
mod server;
mod table;
mod world;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use backend::{postgres_available, Backend};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The bench could not build what it measures, or saw a wrong answer.
    #[error("{0}")]
    Setup(String),
    /// A file or process.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An HTTP call.
    #[error("HTTP: {0}")]
    Http(String),
    /// A JSON body.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A direct database call.
    #[error("database: {0}")]
    Database(String),
}

impl From<ureq::Error> for BenchError {
    fn from(error: ureq::Error) -> BenchError {
        match error {
            ureq::Error::Status(status, answer) => {
                let body = answer.into_string().unwrap_or_default();
                BenchError::Http(format!("{status}: {body}"))
            }
            other => BenchError::Http(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for BenchError {
    fn from(error: diesel::result::Error) -> BenchError {
        BenchError::Database(error.to_string())
    }
}

impl From<diesel::ConnectionError> for BenchError {
    fn from(error: diesel::ConnectionError) -> BenchError {
        BenchError::Database(error.to_string())
    }
}

#[derive(Parser)]
#[command(
    name = "canvass-bench",
    about = "Benchmarks and a fleet simulator for canvass"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Subcommand)]
enum Command {
    /// Every measurement, printed as one table with its ratios.
    Run {
        /// Small sizes: checks that every measurement works, in seconds; the figures mean
        /// nothing.
        #[arg(long)]
        quick: bool,
        /// Which backends.
        #[arg(long, value_enum, default_value = "both")]
        backend: Which,
        /// Only these rows (the limit is measured with ingest); all when not given.
        #[arg(long, value_enum, value_delimiter = ',')]
        only: Vec<table::Part>,
    },
    /// Many phones syncing through offline periods, lost answers, stale and duplicated
    /// pushes and wrong clocks; prints sync latencies and checks convergence.
    Fleet {
        /// Phones (four per volunteer).
        #[arg(long, default_value_t = 1000)]
        phones: usize,
        /// Rounds of work per phone.
        #[arg(long, default_value_t = 6)]
        rounds: u32,
        /// Which backend.
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: Which,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 2020)]
        seed: u64,
    },
}

fn backends(which: Which) -> Vec<Backend> {
    let wanted = match which {
        Which::Sqlite => vec![Backend::Sqlite],
        Which::Postgres => vec![Backend::Postgres],
        Which::Both => vec![Backend::Sqlite, Backend::Postgres],
    };
    wanted
        .into_iter()
        .filter(|b| *b == Backend::Sqlite || postgres_available())
        .collect()
}

fn main() -> ExitCode {
    // OpenSSL (libpq's TLS) without its exit-time cleanup, which can race threads still
    // holding PostgreSQL connections as the process ends (see canvass's `init_tls`).
    openssl_sys::init();
    let cli = Cli::parse();
    let wanted = match &cli.command {
        Command::Run { backend, .. } | Command::Fleet { backend, .. } => *backend,
    };
    if !matches!(wanted, Which::Sqlite) && !postgres_available() {
        // CI sets this so that the PostgreSQL half cannot be skipped in silence.
        if std::env::var("CANVASS_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            eprintln!("canvass-bench: PostgreSQL is required (CANVASS_REQUIRE_POSTGRES=1) but not reachable");
            return ExitCode::FAILURE;
        }
        println!("PostgreSQL: not reachable at CANVASS_TEST_POSTGRES_URL; its half is SKIPPED");
    }
    let outcome = match cli.command {
        Command::Run {
            quick,
            backend,
            only,
        } => table::run(&backends(backend), quick, &only),
        Command::Fleet {
            phones,
            rounds,
            backend,
            seed,
        } => table::fleet(&backends(backend), phones, rounds, seed),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("canvass-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
