//! TLS to PostgreSQL through `DATABASE_URL`: with `sslmode=require`, and with
//! `sslmode=verify-full` and the CA that signed the server's certificate, `canvass serve`
//! logs in, stores a visit and serves it back over connections that PostgreSQL lists as
//! encrypted; with a CA that did not sign it, `canvass serve` refuses to start and says why.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::tempdir::TempDir;
use crate::common::{fresh_db, Backend, Server, TestApp, TestDb, World};
use crate::pg_tls::{connections_encrypted, make_certificates, tls_postgres, with_params};
use crate::support::*;

#[test]
fn serves_over_tls_with_sslmode_require() {
    let Some(_tls) = tls_postgres() else {
        return;
    };
    serves_over_tls("sslmode=require");
}

#[test]
fn serves_over_tls_with_sslmode_verify_full_and_the_ca_of_the_server() {
    let Some(tls) = tls_postgres() else {
        return;
    };
    serves_over_tls(&format!(
        "sslmode=verify-full&sslrootcert={}",
        tls.ca_file.display()
    ));
}

#[test]
fn verify_full_with_a_ca_that_did_not_sign_the_server_refuses_to_start() {
    let Some(_tls) = tls_postgres() else {
        return;
    };
    let stranger = TempDir::new();
    let stranger_ca = stranger.0.join("root.crt");
    std::fs::write(&stranger_ca, make_certificates().ca).unwrap();
    let db = fresh_db(Backend::Postgres).unwrap();
    let url = with_params(
        &db.url(),
        &format!("sslmode=verify-full&sslrootcert={}", stranger_ca.display()),
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_canvass"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that started would run until killed: give up waiting long after the pool's
    // connection timeout.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("canvass serve started with a CA that did not sign the server's certificate");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "exited successfully: {stderr}");
    assert!(!stderr.contains("canvass listening on"), "{stderr}");
    assert!(
        stderr.contains("cannot open the database") && stderr.contains("certificate verify failed"),
        "the reason is not given: {stderr}"
    );
}

/// Starts `canvass serve` with `params` added to the database URL, and uses it as a person
/// would: logs in, sets up a campaign, pushes a visit, pulls it back.
fn serves_over_tls(params: &str) {
    let db = fresh_db(Backend::Postgres).unwrap();
    let TestDb::Postgres { name, .. } = &db else {
        unreachable!("a PostgreSQL database");
    };
    let name = name.clone();
    let server = Server::start_url(&with_params(&db.url(), params), "127.0.0.1:0", &[]);
    let app = TestApp::new(server, db, Backend::Postgres);
    let world = World::build(&app);

    let mut clock = Ticker::new("phone-tls");
    let house = house_id(&world.street1, "12");
    let v = new_id();
    let pushed = push(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-tls",
        &[
            household(
                &house,
                &world.street1,
                &[("house_number", json!("12"))],
                &clock.next(),
            ),
            visit(
                &v,
                &world.street1,
                &house,
                &knock("installed_now", "2026-11-28T09:30:00+07:00", 3, 1),
                &clock.next(),
            ),
        ],
    );
    assert_eq!(pushed, ["applied", "applied"]);
    let pulled = pull_all(&app, &world.leader1.1, &world.campaign, "tablet-tls", 100);
    assert_eq!(
        pulled.records[&v]["fields"]["outcome"]["value"],
        "installed_now"
    );

    let (listed, encrypted) = connections_encrypted(&name);
    assert!(listed > 0, "PostgreSQL lists no connection of canvass");
    assert_eq!(encrypted, listed, "unencrypted connections of canvass");
}
