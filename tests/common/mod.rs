//! Test harness: starts the real `canvass` binary on a free port with a fresh database,
//! SQLite or PostgreSQL, and talks to it over HTTP.
//!
//! PostgreSQL: `CANVASS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! names a server where each test creates and later drops its own database. When that
//! server cannot be reached the PostgreSQL half is skipped with a loud warning, unless
//! `CANVASS_REQUIRE_POSTGRES=1` (set by `.ci/run`), which makes it a failure.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod client;
pub mod relay;
pub mod world;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;

#[allow(unused_imports)]
pub use client::{Resp, TestApp};
pub use world::World;

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temp SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// A database made for one test, removed when dropped.
#[derive(Debug)]
pub enum TestDb {
    /// The SQLite file lives in this directory.
    Sqlite(tempdir::TempDir),
    /// The PostgreSQL database name and the admin URL to drop it with.
    Postgres { name: String, admin_url: String },
}

pub mod tempdir {
    /// A directory removed on drop.
    #[derive(Debug)]
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> TempDir {
            let path = std::env::temp_dir().join(format!("canvass-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).expect("temp dir");
            TempDir(path)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    /// The `DATABASE_URL` of this database.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.0.join("canvass.db").display()),
            TestDb::Postgres { name, admin_url } => {
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { name, admin_url } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ =
                    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// The URL of the PostgreSQL server the tests make their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CANVASS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether a skipped PostgreSQL test is a failure (`CANVASS_REQUIRE_POSTGRES=1`).
pub fn postgres_required() -> bool {
    std::env::var("CANVASS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// Whether PostgreSQL can be used; warns once, loudly, when it is skipped.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    canvass_api::db::pool::init_tls();
    *AVAILABLE.get_or_init(
        || match diesel::PgConnection::establish(&postgres_admin_url()) {
            Ok(_) => true,
            Err(err) => {
                if postgres_required() {
                    panic!("CANVASS_REQUIRE_POSTGRES is set but PostgreSQL is unreachable: {err}");
                }
                // Straight to stderr: the test harness swallows eprintln! of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! PostgreSQL at {} is unreachable ({err}).\n\
                 !!! The PostgreSQL half of the tests is SKIPPED. Set CANVASS_REQUIRE_POSTGRES=1\n\
                 !!! to make this a failure (CI does).\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
                    postgres_admin_url()
                );
                false
            }
        },
    )
}

/// A fresh database for `backend`, or None when PostgreSQL is skipped.
pub fn fresh_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => Some(TestDb::Sqlite(tempdir::TempDir::new())),
        Backend::Postgres => {
            if !postgres_available() {
                return None;
            }
            let admin_url = postgres_admin_url();
            let name = format!("canvass_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = diesel::PgConnection::establish(&admin_url).expect("postgres");
            conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .expect("create database");
            Some(TestDb::Postgres { name, admin_url })
        }
    }
}

/// A running `canvass serve`.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything the server wrote on stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `canvass serve` on `db` with extra environment, waiting until it listens.
    pub fn start(db: &TestDb, env: &[(&str, &str)]) -> Server {
        Server::start_on(db, "127.0.0.1:0", env)
    }

    /// Starts on a given bind address (a restart keeps its port).
    pub fn start_on(db: &TestDb, bind: &str, env: &[(&str, &str)]) -> Server {
        Server::start_url(&db.url(), bind, env)
    }

    /// Starts on a database URL of the test's own making (e.g. through a relay).
    pub fn start_url(url: &str, bind: &str, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_canvass"));
        command
            .args([
                "serve",
                "--bind",
                bind,
                "--database-url",
                url,
                "--pool-size",
                "8",
            ])
            .env("CANVASS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start canvass");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("canvass listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.to_owned());
                    }
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(100)) {
                break addr;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("canvass exited with {status}: {}", log.lock().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "canvass did not start: {}",
                log.lock().unwrap()
            );
        };
        Server { child, base, log }
    }

    /// The port it listens on.
    pub fn bind(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `canvass <args>` against `db` to completion: (exit success, stdout, stderr).
pub fn run_cli(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_canvass"))
        .args(args)
        .args(["--database-url", &db.url()])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run canvass");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Starts a server on a fresh database, or None when PostgreSQL is skipped.
pub fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[])
}

/// [`spawn_app`] with extra environment for the server.
pub fn spawn_app_with(backend: Backend, env: &[(&str, &str)]) -> Option<TestApp> {
    let db = fresh_db(backend)?;
    let server = Server::start(&db, env);
    Some(TestApp::new(server, db, backend))
}

/// Declares each listed `fn name(app: TestApp)` as two tests, one per backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    if let Some(app) = $crate::common::spawn_app($crate::common::Backend::Sqlite) {
                        super::$name(app);
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(app) = $crate::common::spawn_app($crate::common::Backend::Postgres) {
                        super::$name(app);
                    }
                }
            )*
        }
    };
}
