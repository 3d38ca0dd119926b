//! Server hygiene: security headers, CORS closed unless configured, header and body limits,
//! slow clients dropped, graceful shutdown that finishes in-flight pushes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{fresh_db, spawn_app, spawn_app_with, Backend, Server, TestApp, World};

fn every_answer_carries_the_security_headers(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    for resp in [
        app.get("/api/v1/me", &app.admin),
        app.get("/api/v1/nothing", &app.admin),
        app.get("/healthz", ""),
    ] {
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert!(resp.header("content-security-policy").is_some());
    }
}

fn preflight(app: &TestApp, origin: &str) -> crate::common::Resp {
    let agent = ureq::AgentBuilder::new().build();
    let result = agent
        .request("OPTIONS", &app.url("/api/v1/me"))
        .set("Origin", origin)
        .set("Access-Control-Request-Method", "GET")
        .set("Access-Control-Request-Headers", "authorization")
        .call();
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(err) => panic!("{err}"),
    };
    let headers = response
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = response.header(&n).unwrap_or("").to_owned();
            (n.to_lowercase(), v)
        })
        .collect();
    crate::common::Resp {
        status: response.status(),
        content_type: String::new(),
        headers,
        text: String::new(),
        body: serde_json::Value::Null,
    }
}

fn cors_is_closed_by_default_and_opens_only_to_configured_origins(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    let answer = preflight(&app, "https://evil.example");
    assert!(
        answer.header("access-control-allow-origin").is_none(),
        "CORS must be closed by default"
    );
    drop(app);
    let Some(app) = spawn_app_with(
        backend,
        &[("CANVASS_CORS_ORIGINS", "https://dashboard.example")],
    ) else {
        return;
    };
    let allowed = preflight(&app, "https://dashboard.example");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://dashboard.example")
    );
    let refused = preflight(&app, "https://evil.example");
    assert!(refused.header("access-control-allow-origin").is_none());
}

fn cors_open_to_any_origin_starts_and_answers_preflights(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("CANVASS_CORS_ORIGINS", "*")]) else {
        return;
    };
    // Any origin is allowed: the answer names the one that asked.
    let answer = preflight(&app, "https://any.example");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://any.example")
    );
    assert_eq!(app.get("/healthz", "").status, 200);
}

fn a_cors_origin_that_is_not_an_origin_stops_the_server_with_a_message(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let (ok, _, stderr) = crate::common::run_cli(
        &db,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--cors-origins",
            "dashboard.example/path",
        ],
    );
    assert!(!ok, "serve started with a malformed CORS origin");
    assert!(
        stderr.contains("--cors-origins"),
        "no message naming the flag: {stderr}"
    );
}

fn a_client_that_trickles_its_body_is_answered_and_dropped(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("CANVASS_BODY_TIMEOUT_SECS", "1")]) else {
        return;
    };
    let mut stream = TcpStream::connect(app.server.bind()).unwrap();
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"username\"",
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let read = stream.read(&mut buf).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..read]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "a trickled body held the request open"
    );
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "unexpected answer: {text}"
    );
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
    assert_eq!(app.get("/healthz", "").status, 200);
}

fn shutdown_finishes_in_flight_pushes(backend: Backend) {
    let Some(db) = fresh_db(backend) else { return };
    let server = Server::start(&db, &[]);
    let app = TestApp::new(server, fresh_db(Backend::Sqlite).unwrap(), backend);
    let world = World::build(&app);
    let street = uuid::Uuid::parse_str(&world.street1).unwrap();
    let changes: Vec<serde_json::Value> = (0..1000)
        .map(|n| {
            let house = format!("{n}");
            json!({"kind": "household", "id": sync_protocol::household_id(street, &house).unwrap(),
                   "street_id": world.street1,
                   "fields": {"house_number": {"value": house, "hlc": format!("1597742400000-{:04x}-phone-lan", n)}}})
        })
        .collect();
    let body = json!({"campaign_id": world.campaign, "device_id": "phone-lan", "changes": changes});
    let url = app.url("/api/v1/sync/push");
    let token = world.volunteer1.1.clone();
    let pusher = std::thread::spawn(move || {
        ureq::post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(&body)
            .map(|r| r.status())
            .map_err(|err| err.to_string())
    });
    std::thread::sleep(Duration::from_millis(30));
    let mut app = app;
    assert!(
        app.server.terminate(),
        "the server did not stop cleanly on SIGTERM"
    );
    let answered = pusher.join().unwrap();
    app.reattach(Server::start(&db, &[]));
    let stored = app
        .pull_all(&world.volunteer1.1, &world.campaign, "checker")
        .len();
    match answered {
        Ok(200) => assert_eq!(stored, 1000, "an acknowledged push was cut short"),
        // The push may also have been refused before it started; then nothing is half-done.
        Ok(other) => panic!("push answered {other}"),
        Err(_) => assert!(
            stored == 0 || stored == 1000,
            "a push was half applied: {stored}"
        ),
    }
}

macro_rules! per_backend {
    ($($name:ident),*) => {
        mod sqlite { $( #[test] fn $name() { super::$name(crate::common::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(crate::common::Backend::Postgres) } )* }
    };
}

per_backend!(
    every_answer_carries_the_security_headers,
    cors_is_closed_by_default_and_opens_only_to_configured_origins,
    cors_open_to_any_origin_starts_and_answers_preflights,
    a_cors_origin_that_is_not_an_origin_stops_the_server_with_a_message,
    a_client_that_trickles_its_body_is_answered_and_dropped,
    shutdown_finishes_in_flight_pushes
);
