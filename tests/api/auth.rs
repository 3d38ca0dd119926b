//! Contract section 3: login, refresh rotation and reuse, logout, `/me`, disabled users,
//! login throttling, and which access tokens are refused.

use serde_json::json;

use crate::common::world::PASSWORD;
use crate::common::{TestApp, World, ADMIN_PASSWORD};
use crate::support::{post_raw, refresh, text};

fn login_answers_a_bearer_token_a_refresh_token_and_the_user(app: TestApp) {
    let resp = app.login_resp("admin", ADMIN_PASSWORD).expect(200);
    assert!(
        resp.content_type.starts_with("application/json"),
        "{}",
        resp.content_type
    );
    let body = &resp.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["expires_in"],
        json!(900),
        "access tokens live 15 minutes by default"
    );
    assert!(!text(body, "access_token").is_empty());
    assert!(!text(body, "refresh_token").is_empty());
    let user = &body["user"];
    assert_eq!(user["username"], "admin");
    assert_eq!(user["role"], "admin");
    assert_eq!(user["area_id"], json!(null), "an admin has no area");
    assert_eq!(user["disabled"], json!(false));
    assert!(uuid::Uuid::parse_str(&text(user, "id")).is_ok());
    let keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "username",
        "display_name",
        "role",
        "area_id",
        "disabled",
    ] {
        assert!(keys.contains(&key), "User lacks {key}: {user}");
    }
    assert!(
        !resp.text.contains("password"),
        "a login answer must not echo password data"
    );

    let me = app
        .get("/api/v1/me", &text(body, "access_token"))
        .expect(200);
    assert_eq!(me.body, *user, "/me answers the same User as the login");
}

fn me_answers_the_calling_user_in_every_role(app: TestApp) {
    let world = World::build(&app);
    for (token, id, role, area) in [
        (
            &world.volunteer1.1,
            &world.volunteer1.0,
            "volunteer",
            &world.ward1,
        ),
        (
            &world.leader2.1,
            &world.leader2.0,
            "ward_leader",
            &world.ward2,
        ),
        (
            &world.supervisor_d1.1,
            &world.supervisor_d1.0,
            "supervisor",
            &world.district1,
        ),
    ] {
        let me = app.get("/api/v1/me", token).expect(200);
        assert_eq!(me.body["id"], json!(id));
        assert_eq!(me.body["role"], role);
        assert_eq!(me.body["area_id"], json!(area));
    }
}

fn refresh_hands_out_a_new_refresh_token_and_the_old_one_stops_working(app: TestApp) {
    let first = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body;
    let old = text(&first, "refresh_token");
    let second = refresh(&app, &old).expect(200).body;
    let new = text(&second, "refresh_token");
    assert_ne!(new, old, "refresh must rotate the refresh token");
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], json!(900));
    assert_eq!(second["user"], first["user"]);
    app.get("/api/v1/me", &text(&second, "access_token"))
        .expect(200);

    // Once the new token has been used, the phone evidently got it: the old one is dead,
    // even inside the grace window.
    refresh(&app, &new).expect(200);
    refresh(&app, &old).expect_problem(401, "unauthorized");
}

fn reusing_a_spent_refresh_token_revokes_every_token_of_that_login(app: TestApp) {
    let login = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body;
    let other_login = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body;
    let spent = text(&login, "refresh_token");
    let next = text(&refresh(&app, &spent).expect(200).body, "refresh_token");
    let current = text(&refresh(&app, &next).expect(200).body, "refresh_token");

    refresh(&app, &spent).expect_problem(401, "unauthorized");
    // The reuse ended the whole login: the token handed out after the spent one is dead too.
    refresh(&app, &current).expect_problem(401, "unauthorized");
    // Another login of the same user is a different family and lives on.
    refresh(&app, &text(&other_login, "refresh_token")).expect(200);
}

fn logout_ends_the_login_and_answers_204(app: TestApp) {
    let login = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body;
    let access = text(&login, "access_token");
    let token = text(&login, "refresh_token");
    let resp = app
        .post(
            "/api/v1/auth/logout",
            &access,
            &json!({"refresh_token": token}),
        )
        .expect(204);
    assert!(resp.text.is_empty(), "204 has no body: {}", resp.text);
    refresh(&app, &token).expect_problem(401, "unauthorized");
}

fn logout_needs_an_access_token(app: TestApp) {
    let login = app.login_resp("admin", ADMIN_PASSWORD).expect(200).body;
    let token = text(&login, "refresh_token");
    let body = json!({"refresh_token": token}).to_string();
    post_raw(&app, "/api/v1/auth/logout", None, "application/json", &body)
        .expect_problem(401, "unauthorized");
    refresh(&app, &token).expect(200);
}

fn an_unknown_refresh_token_is_refused(app: TestApp) {
    refresh(&app, "no-such-token").expect_problem(401, "unauthorized");
    refresh(&app, "").expect_problem(401, "unauthorized");
}

fn a_wrong_password_and_an_unknown_username_get_the_same_401(app: TestApp) {
    let wrong_password = app
        .login_resp("admin", "not-the-password")
        .expect_problem(401, "unauthorized");
    let unknown_user = app
        .login_resp("nobody-here", "not-the-password")
        .expect_problem(401, "unauthorized");
    assert_eq!(
        wrong_password.body, unknown_user.body,
        "the answers must not tell the two apart"
    );
    assert_eq!(wrong_password.content_type, unknown_user.content_type);
}

fn the_eleventh_failed_login_for_one_username_is_rate_limited_even_with_the_right_password(
    app: TestApp,
) {
    for attempt in 1..=10 {
        let resp = app.login_resp("admin", "wrong-password");
        assert_eq!(resp.status, 401, "attempt {attempt}: {}", resp.text);
    }
    app.login_resp("admin", "wrong-password")
        .expect_problem(429, "rate_limited");
    app.login_resp("admin", ADMIN_PASSWORD)
        .expect_problem(429, "rate_limited");
    // The throttle is per username: the access token already issued still works.
    app.get("/api/v1/me", &app.admin).expect(200);
}

fn throttling_one_username_leaves_other_usernames_alone(app: TestApp) {
    let _world = World::build(&app);
    for _ in 0..11 {
        app.login_resp("tnv.lan", "wrong-password");
    }
    app.login_resp("tnv.lan", PASSWORD)
        .expect_problem(429, "rate_limited");
    app.login_resp("tnv.minh", PASSWORD).expect(200);
    app.login_resp("admin", ADMIN_PASSWORD).expect(200);
}

fn a_disabled_user_is_refused_at_login_at_refresh_and_with_its_access_token(app: TestApp) {
    let world = World::build(&app);
    let login = app.login_resp("tnv.lan", PASSWORD).expect(200).body;
    let access = text(&login, "access_token");
    let refresh_token = text(&login, "refresh_token");
    app.get("/api/v1/me", &access).expect(200);

    let path = format!("/api/v1/users/{}", world.volunteer1.0);
    let patched = app
        .patch(&path, &app.admin, &json!({"disabled": true}))
        .expect(200);
    assert_eq!(patched.body["disabled"], json!(true));

    app.get("/api/v1/me", &access)
        .expect_problem(401, "unauthorized");
    app.get(&format!("/api/v1/campaigns/{}", world.campaign), &access)
        .expect_problem(401, "unauthorized");
    refresh(&app, &refresh_token).expect_problem(401, "unauthorized");
    app.login_resp("tnv.lan", PASSWORD)
        .expect_problem(401, "unauthorized");

    // Enabled again, the user logs in again (the old login stays ended).
    app.patch(&path, &app.admin, &json!({"disabled": false}))
        .expect(200);
    let again = app.login("tnv.lan", PASSWORD);
    app.get("/api/v1/me", &again).expect(200);
}

fn a_missing_malformed_or_foreign_bearer_token_is_401(app: TestApp) {
    let me = |auth: Option<&str>| {
        let mut request = ureq::get(&app.url("/api/v1/me"));
        if let Some(auth) = auth {
            request = request.set("Authorization", auth);
        }
        match request.call() {
            Ok(resp) => resp.status(),
            Err(ureq::Error::Status(status, _)) => status,
            Err(err) => panic!("{err}"),
        }
    };
    assert_eq!(me(None), 401);
    assert_eq!(me(Some("Bearer")), 401);
    assert_eq!(me(Some("Bearer not.a.jwt")), 401);
    assert_eq!(
        me(Some(&format!("Basic {}", app.admin))),
        401,
        "only the Bearer scheme"
    );
    app.send("GET", "/api/v1/me", None, None, None)
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/me", "garbage")
        .expect_problem(401, "unauthorized");

    // A token signed with another secret is forged.
    let claims = claims_for(&app, 0, 900);
    let forged = canvass_api::auth::jwt::TokenKeys::new(b"some-other-secret")
        .sign(&claims)
        .unwrap();
    app.get("/api/v1/me", &forged)
        .expect_problem(401, "unauthorized");

    // `alg: none` is never accepted.
    let b64 = |bytes: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(serde_json::to_string(&claims).unwrap().as_bytes())
    );
    app.get("/api/v1/me", &unsigned)
        .expect_problem(401, "unauthorized");

    // A real token with one character changed is forged too.
    let mut tampered = app.admin.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    app.get("/api/v1/me", std::str::from_utf8(&tampered).unwrap())
        .expect_problem(401, "unauthorized");
}

/// Claims for the admin, issued `age` seconds ago and living `ttl` seconds.
fn claims_for(app: &TestApp, age: i64, ttl: i64) -> canvass_api::auth::jwt::Claims {
    let me = app.get("/api/v1/me", &app.admin).expect(200);
    let now = chrono::Utc::now().timestamp();
    canvass_api::auth::jwt::Claims {
        sub: text(&me.body, "id"),
        role: "admin".into(),
        area: None,
        iat: now - age,
        nbf: now - age,
        exp: now - age + ttl,
    }
}

crate::both_backends!(
    login_answers_a_bearer_token_a_refresh_token_and_the_user,
    me_answers_the_calling_user_in_every_role,
    refresh_hands_out_a_new_refresh_token_and_the_old_one_stops_working,
    reusing_a_spent_refresh_token_revokes_every_token_of_that_login,
    logout_ends_the_login_and_answers_204,
    logout_needs_an_access_token,
    an_unknown_refresh_token_is_refused,
    a_wrong_password_and_an_unknown_username_get_the_same_401,
    the_eleventh_failed_login_for_one_username_is_rate_limited_even_with_the_right_password,
    throttling_one_username_leaves_other_usernames_alone,
    a_disabled_user_is_refused_at_login_at_refresh_and_with_its_access_token,
    a_missing_malformed_or_foreign_bearer_token_is_401,
);

/// Tests that sign their own tokens with a known secret.
mod known_secret {
    use super::*;

    const SECRET: &str = "a-test-secret-known-to-the-test-0123456789";
    const ENV: &[(&str, &str)] = &[("CANVASS_JWT_SECRET", SECRET)];

    fn keys() -> canvass_api::auth::jwt::TokenKeys {
        canvass_api::auth::jwt::TokenKeys::new(SECRET.as_bytes())
    }

    fn a_token_signed_with_the_server_secret_works_until_it_expires(app: TestApp) {
        let live = keys().sign(&claims_for(&app, 0, 900)).unwrap();
        app.get("/api/v1/me", &live).expect(200);
        let expired = keys().sign(&claims_for(&app, 1000, 900)).unwrap();
        app.get("/api/v1/me", &expired)
            .expect_problem(401, "unauthorized");
        let not_yet = keys().sign(&claims_for(&app, -600, 900)).unwrap();
        app.get("/api/v1/me", &not_yet)
            .expect_problem(401, "unauthorized");
    }

    fn a_token_naming_an_unknown_user_is_401(app: TestApp) {
        let mut claims = claims_for(&app, 0, 900);
        claims.sub = uuid::Uuid::new_v4().to_string();
        let token = keys().sign(&claims).unwrap();
        app.get("/api/v1/me", &token)
            .expect_problem(401, "unauthorized");
    }

    crate::both_backends_with_env!(
        ENV;
        a_token_signed_with_the_server_secret_works_until_it_expires,
        a_token_naming_an_unknown_user_is_401,
    );
}

/// Tests with a low per-address login limit (carrier NAT makes it configurable).
mod per_address_limit {
    use super::*;

    const ENV: &[(&str, &str)] = &[("CANVASS_LOGIN_FAILURES_PER_IP", "3")];

    fn failures_from_one_address_across_usernames_are_rate_limited(app: TestApp) {
        for username in ["a.1", "a.2", "a.3"] {
            app.login_resp(username, "wrong-password")
                .expect_problem(401, "unauthorized");
        }
        app.login_resp("a.4", "wrong-password")
            .expect_problem(429, "rate_limited");
        app.login_resp("admin", ADMIN_PASSWORD)
            .expect_problem(429, "rate_limited");
    }

    crate::both_backends_with_env!(ENV; failures_from_one_address_across_usernames_are_rate_limited);
}
