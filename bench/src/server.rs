//! The real `canvass` binary, started on a free port over a fresh database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::backend::Database;
use crate::BenchError;

/// The admin password of every server the bench starts.
pub const ADMIN_PASSWORD: &str = "bench-admin-password";

/// Finds the `canvass` binary of the bench's own profile, building it first when the bench
/// runs under cargo (so the one documented command measures the current sources).
pub fn canvass_binary() -> Result<PathBuf, BenchError> {
    if let Ok(path) = std::env::var("CANVASS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let own = std::env::current_exe()?;
    let dir = own
        .parent()
        .ok_or_else(|| BenchError::Setup("the bench binary has no folder".into()))?;
    let release = dir.ends_with("release");
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "canvass-api", "--bin", "canvass"]);
        if release {
            build.arg("--release");
        }
        let status = build.status()?;
        if !status.success() {
            return Err(BenchError::Setup("building canvass failed".into()));
        }
    }
    let binary = dir.join("canvass");
    if !binary.exists() {
        return Err(BenchError::Setup(format!(
            "{} is missing: run the bench with `cargo run -p canvass-bench` or set CANVASS_BIN",
            binary.display()
        )));
    }
    Ok(binary)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16, BenchError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running `canvass serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts the server on `database` and waits until `/readyz` answers 200.
    pub fn start(binary: &Path, database: &Database) -> Result<Server, BenchError> {
        let port = free_port()?;
        let child = Command::new(binary)
            .args(["serve", "--database-url", &database.url])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env("CANVASS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = ureq::get(&format!("{}/readyz", server.base))
                .timeout(Duration::from_secs(2))
                .call()
                .is_ok();
            if ready {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(BenchError::Setup("the server did not become ready".into()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The CPU time the process has used so far, user and system (see [`crate::cpu`]).
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::cpu::of_process(self.child.id())
    }

    /// The process's peak resident memory so far, in bytes (Linux `VmHWM`).
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `canvass verify` over `database`: whether every counter equals a recount, and how
/// long the recount took (the whole command).
pub fn verify(binary: &Path, database: &Database) -> Result<(bool, Duration), BenchError> {
    let started = Instant::now();
    let output = Command::new(binary)
        .args(["verify", "--database-url", &database.url])
        .env("RUST_LOG", "warn")
        .output()?;
    let took = started.elapsed();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    Ok((output.status.success(), took))
}
