//! SQLite serves one process: a second `canvass serve` on the same file refuses to start.

use std::process::{Command, Stdio};

use crate::common::{fresh_db, Backend, Server};

#[test]
fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let db = fresh_db(Backend::Sqlite).unwrap();
    let mut first = Server::start(&db, &[]);
    let second = Command::new(env!("CARGO_BIN_EXE_canvass"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &db.url(),
        ])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run a second canvass serve");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "the second server started: {stderr}"
    );
    assert!(
        stderr.contains("another canvass serve is already using the SQLite database"),
        "no clear message: {stderr}"
    );
    // The first one is unharmed, and once it is gone the file can be served again.
    let health = ureq::get(&format!("{}/healthz", first.base))
        .call()
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(first.terminate(), "the first server did not stop cleanly");
    let _again = Server::start(&db, &[]);
}
