//! Contract section 1: the first admin, `canvass migrate`, and what survives a restart.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{fresh_db, run_cli, Backend, Server, TestApp, ADMIN_PASSWORD};

/// Logs in against a bare server, returning (status, body).
fn login(server: &Server, username: &str, password: &str) -> (u16, Value) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let result = agent
        .post(&format!("{}/api/v1/auth/login", server.base))
        .send_json(json!({"username": username, "password": password}));
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("login failed: {err}"),
    };
    let status = response.status();
    (status, response.into_json().unwrap_or(Value::Null))
}

/// The password the server printed for a first admin it made up.
fn printed_password(server: &Server) -> Option<String> {
    let log = server.log.lock().unwrap().clone();
    log.lines().find_map(|line| {
        line.split_once(" with password ")
            .map(|(_, rest)| rest.trim().to_owned())
    })
}

fn a_first_admin_without_a_password_gets_a_random_one_printed_once(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut server = Server::start(&db, &[("CANVASS_ADMIN_PASSWORD", "")]);
    let password =
        printed_password(&server).expect("the first admin's password is printed on stderr");
    assert!(password.chars().count() >= 8, "{password:?}");
    assert_eq!(login(&server, "admin", &password).0, 200);
    server.kill();

    let server = Server::start(&db, &[("CANVASS_ADMIN_PASSWORD", "")]);
    assert_eq!(
        printed_password(&server),
        None,
        "a second start creates no admin and prints nothing"
    );
    assert_eq!(
        login(&server, "admin", &password).0,
        200,
        "the admin made on the first start stays"
    );
}

#[test]
fn a_first_admin_without_a_password_gets_a_random_one_printed_once_on_sqlite() {
    a_first_admin_without_a_password_gets_a_random_one_printed_once(Backend::Sqlite);
}

#[test]
fn a_first_admin_without_a_password_gets_a_random_one_printed_once_on_postgres() {
    a_first_admin_without_a_password_gets_a_random_one_printed_once(Backend::Postgres);
}

fn the_first_admin_takes_its_name_from_the_environment_and_only_on_an_empty_database(
    backend: Backend,
) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut server = Server::start(&db, &[("CANVASS_ADMIN_USERNAME", "chief")]);
    let (status, body) = login(&server, "chief", ADMIN_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(login(&server, "admin", ADMIN_PASSWORD).0, 401);
    server.kill();

    // The database has a user now: another name in the environment creates nobody.
    let server = Server::start(&db, &[("CANVASS_ADMIN_USERNAME", "boss")]);
    assert_eq!(login(&server, "boss", ADMIN_PASSWORD).0, 401);
    assert_eq!(login(&server, "chief", ADMIN_PASSWORD).0, 200);
}

#[test]
fn the_first_admin_takes_its_name_from_the_environment_and_only_on_an_empty_database_on_sqlite() {
    the_first_admin_takes_its_name_from_the_environment_and_only_on_an_empty_database(
        Backend::Sqlite,
    );
}

#[test]
fn the_first_admin_takes_its_name_from_the_environment_and_only_on_an_empty_database_on_postgres() {
    the_first_admin_takes_its_name_from_the_environment_and_only_on_an_empty_database(
        Backend::Postgres,
    );
}

fn canvass_migrate_only_migrates(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let (ok, _, stderr) = run_cli(&db, &["migrate"]);
    assert!(ok, "canvass migrate failed: {stderr}");
    assert!(
        !stderr.contains("with password"),
        "migrate must not create the first admin: {stderr}"
    );
    let (ok, _, stderr) = run_cli(&db, &["migrate"]);
    assert!(ok, "a second migrate is a no-op: {stderr}");
    // Serving on the migrated database creates the first admin then, with the given password.
    let server = Server::start(&db, &[]);
    assert_eq!(login(&server, "admin", ADMIN_PASSWORD).0, 200);
}

#[test]
fn canvass_migrate_only_migrates_on_sqlite() {
    canvass_migrate_only_migrates(Backend::Sqlite);
}

#[test]
fn canvass_migrate_only_migrates_on_postgres() {
    canvass_migrate_only_migrates(Backend::Postgres);
}

fn tokens_and_data_survive_a_restart(mut app: TestApp) {
    let area = app
        .post(
            "/api/v1/areas",
            &app.admin,
            &json!({"code": "74", "name": "Bình Dương", "level": "province"}),
        )
        .expect(201)
        .body;
    let old_access = app.admin.clone();
    let login = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body;
    let refresh_token = login["refresh_token"].as_str().unwrap().to_owned();

    app.server.kill();
    let server = Server::start(&app.db, &[]);
    app.reattach(server);

    // The signing secret generated on the first start is kept in the database.
    app.get("/api/v1/me", &old_access).expect(200);
    crate::support::refresh(&app, &refresh_token).expect(200);
    let id = area["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/areas/{id}"), &app.admin)
            .expect(200)
            .body,
        area
    );
}

crate::both_backends!(tokens_and_data_survive_a_restart);
