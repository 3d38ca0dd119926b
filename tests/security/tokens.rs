//! Token attacks: forged, unsigned, wrongly signed, expired or premature tokens, disabled
//! users, refresh-token reuse, login throttling, and secrets kept out of the logs.

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::common::{spawn_app_with, Backend, TestApp, World, ADMIN_PASSWORD};

const SECRET: &str = "test-secret-0123456789-abcdefghij";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims_of(app: &TestApp, token: &str) -> serde_json::Value {
    let _ = app;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn sign(alg: Algorithm, claims: &serde_json::Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn with_secret(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[("CANVASS_JWT_SECRET", SECRET)])
}

fn bad_tokens_are_refused(backend: Backend) {
    let Some(app) = with_secret(backend) else {
        return;
    };
    let claims = claims_of(&app, &app.admin);
    assert_eq!(
        app.get("/api/v1/me", &sign(Algorithm::HS256, &claims))
            .status,
        200,
        "the test signs like the server"
    );

    let mut forged = app.admin.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut expired = claims.clone();
    expired["exp"] = json!(now() - 60);
    expired["iat"] = json!(now() - 1000);
    expired["nbf"] = json!(now() - 1000);
    let mut premature = claims.clone();
    premature["nbf"] = json!(now() + 600);
    premature["exp"] = json!(now() + 1200);
    let mut elevated = claims_of(&app, &app.admin);
    elevated["sub"] = json!(uuid::Uuid::new_v4());
    let other_key = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"not-the-secret"),
    )
    .unwrap();
    let cases = [
        ("forged signature", forged),
        ("alg none", unsigned),
        (
            "HS512 with the right secret",
            sign(Algorithm::HS512, &claims),
        ),
        (
            "HS384 with the right secret",
            sign(Algorithm::HS384, &claims),
        ),
        ("another secret", other_key),
        ("expired", sign(Algorithm::HS256, &expired)),
        ("not yet valid", sign(Algorithm::HS256, &premature)),
        ("unknown user", sign(Algorithm::HS256, &elevated)),
        ("not a JWT", "abc.def".to_owned()),
    ];
    for (name, token) in cases {
        app.get("/api/v1/me", &token)
            .expect_problem(401, "unauthorized");
        let resp = app.post(
            "/api/v1/areas",
            &token,
            &json!({"code": "1", "name": "x", "level": "province"}),
        );
        assert_eq!(resp.status, 401, "{name}: {}", resp.text);
    }
}

fn a_disabled_users_token_dies_on_its_next_request(backend: Backend) {
    let Some(app) = with_secret(backend) else {
        return;
    };
    let world = World::build(&app);
    let token = world.volunteer2.1.clone();
    app.get("/api/v1/me", &token).expect(200);
    app.patch(
        &format!("/api/v1/users/{}", world.volunteer2.0),
        &app.admin,
        &json!({"disabled": true}),
    )
    .expect(200);
    app.get("/api/v1/me", &token)
        .expect_problem(401, "unauthorized");
    app.pull(&token, &world.campaign, "p", &json!({}), 10)
        .expect_problem(401, "unauthorized");
    app.login_resp("tnv.minh", crate::common::world::PASSWORD)
        .expect_problem(401, "unauthorized");
}

fn a_reused_refresh_token_revokes_the_whole_login(backend: Backend) {
    let Some(app) = with_secret(backend) else {
        return;
    };
    let login = app.login_resp("admin", ADMIN_PASSWORD).expect(200);
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: &str| {
        let body = serde_json::to_vec(&json!({"refresh_token": token})).unwrap();
        app.send(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some("application/json"),
            Some(&body),
        )
    };
    let second = refresh(&first).expect(200).body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    let third = refresh(&second).expect(200).body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    refresh(&first).expect_problem(401, "unauthorized");
    // The reuse revoked the family: the newest token is dead too.
    refresh(&third).expect_problem(401, "unauthorized");
    // Another login is its own family and unaffected.
    let other = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    refresh(&other).expect(200);
}

fn login_throttling_blocks_a_username_even_with_its_password(backend: Backend) {
    let Some(app) = with_secret(backend) else {
        return;
    };
    let world = World::build(&app);
    for attempt in 0..10 {
        app.login_resp("tnv.lan", "wrong-password")
            .expect_problem(401, "unauthorized");
        let _ = attempt;
    }
    app.login_resp("tnv.lan", "wrong-password")
        .expect_problem(429, "rate_limited");
    app.login_resp("tnv.lan", crate::common::world::PASSWORD)
        .expect_problem(429, "rate_limited");
    // Other users are not locked out with it, and existing tokens still work.
    app.login_resp("tnv.minh", crate::common::world::PASSWORD)
        .expect(200);
    app.get("/api/v1/me", &world.volunteer1.1).expect(200);
}

fn an_address_is_throttled_after_its_configured_failures(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("CANVASS_LOGIN_FAILURES_PER_IP", "5")]) else {
        return;
    };
    for n in 0..5 {
        app.login_resp(&format!("nobody{n}"), "wrong-password")
            .expect_problem(401, "unauthorized");
    }
    app.login_resp("nobody-else", "wrong-password")
        .expect_problem(429, "rate_limited");
    app.login_resp("admin", ADMIN_PASSWORD)
        .expect_problem(429, "rate_limited");
}

fn secrets_never_reach_the_logs(backend: Backend) {
    let Some(app) = with_secret(backend) else {
        return;
    };
    let login = app.login_resp("admin", ADMIN_PASSWORD).expect(200);
    let refresh_token = login.body["refresh_token"].as_str().unwrap().to_owned();
    let body = serde_json::to_vec(&json!({"refresh_token": refresh_token})).unwrap();
    let refreshed = app
        .send(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some("application/json"),
            Some(&body),
        )
        .expect(200);
    app.login_resp("admin", "a-wrong-password-42").expect(401);
    app.get("/api/v1/me", login.body["access_token"].as_str().unwrap())
        .expect(200);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = app.log();
    assert!(log.contains("request"), "the server logs requests: {log}");
    for secret in [
        ADMIN_PASSWORD,
        "a-wrong-password-42",
        SECRET,
        &refresh_token,
        login.body["access_token"].as_str().unwrap(),
        refreshed.body["refresh_token"].as_str().unwrap(),
        refreshed.body["access_token"].as_str().unwrap(),
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

macro_rules! per_backend {
    ($($name:ident),*) => {
        mod sqlite { $( #[test] fn $name() { super::$name(crate::common::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(crate::common::Backend::Postgres) } )* }
    };
}

per_backend!(
    bad_tokens_are_refused,
    a_disabled_users_token_dies_on_its_next_request,
    a_reused_refresh_token_revokes_the_whole_login,
    login_throttling_blocks_a_username_even_with_its_password,
    an_address_is_throttled_after_its_configured_failures,
    secrets_never_reach_the_logs
);
