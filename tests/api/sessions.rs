//! Contract v1.1 sections 3 and 4: the refresh grace window, concurrent refreshes on one
//! process or two, and ending logins (logout all, disabling a user, a new password).

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use serde_json::{json, Value};

use crate::common::world::PASSWORD;
use crate::common::{Backend, Server, TestApp, ADMIN_PASSWORD};
use crate::support::{create_user, refresh, text};

/// POSTs a refresh to `base` (any process of the test's database): (status, body).
fn refresh_on(base: &str, token: &str) -> (u16, Value) {
    let result = ureq::post(&format!("{base}/api/v1/auth/refresh"))
        .set("Content-Type", "application/json")
        .send_string(&json!({"refresh_token": token}).to_string());
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("refresh failed: {err}"),
    };
    let status = response.status();
    let body = response.into_json().unwrap_or(Value::Null);
    (status, body)
}

/// Presents `token` `n` times at once, the requests spread over `bases`.
fn refresh_at_once(bases: &[String], token: &str, n: usize) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (base, token, barrier) = (
                bases[i % bases.len()].clone(),
                token.to_owned(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                refresh_on(&base, &token)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// A second `canvass serve` on the app's PostgreSQL database (SQLite serves one process,
/// so there the race runs between threads of the one process).
fn second_process(app: &TestApp, env: &[(&str, &str)]) -> Option<Server> {
    (app.backend == Backend::Postgres).then(|| Server::start(&app.db, env))
}

fn bases(app: &TestApp, second: &Option<Server>) -> Vec<String> {
    let mut bases = vec![app.base.clone()];
    bases.extend(second.iter().map(|server| server.base.clone()));
    bases
}

fn login_refresh_token(app: &TestApp, username: &str, password: &str) -> String {
    text(
        &app.login_resp(username, password).expect(200).body,
        "refresh_token",
    )
}

fn a_refresh_token_presented_again_within_the_grace_window_gets_the_same_new_token(app: TestApp) {
    let first = login_refresh_token(&app, "admin", ADMIN_PASSWORD);
    let answer = refresh(&app, &first).expect(200).body;
    // The first answer was lost on the way to the phone, which sends its token again.
    let again = refresh(&app, &first).expect(200).body;
    assert_eq!(
        again["refresh_token"], answer["refresh_token"],
        "answered like the first time: one login never forks into two"
    );
    app.get("/api/v1/me", &text(&again, "access_token"))
        .expect(200);

    let next = text(
        &refresh(&app, &text(&answer, "refresh_token"))
            .expect(200)
            .body,
        "refresh_token",
    );
    // The new token has been used, so the phone had it: the first one again is a reuse,
    // inside the window or not, and ends the login.
    refresh(&app, &first).expect_problem(401, "unauthorized");
    refresh(&app, &next).expect_problem(401, "unauthorized");
}

fn concurrent_refreshes_of_one_token_get_one_new_token_on_one_process_or_two(app: TestApp) {
    let second = second_process(&app, &[]);
    let first = login_refresh_token(&app, "admin", ADMIN_PASSWORD);
    let answers = refresh_at_once(&bases(&app, &second), &first, 8);
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "one exchange wins, the others are inside the grace window: {answers:?}"
    );
    let tokens: BTreeSet<String> = answers
        .iter()
        .map(|(_, body)| text(body, "refresh_token"))
        .collect();
    assert_eq!(tokens.len(), 1, "never two families: {tokens:?}");
    let token = tokens.into_iter().next().unwrap();
    let last = bases(&app, &second).last().cloned().unwrap();
    let (status, body) = refresh_on(&last, &token);
    assert_eq!(status, 200, "{body}");
    let (status, _) = refresh_on(&app.base, &text(&body, "refresh_token"));
    assert_eq!(status, 200, "the chain goes on on either process");
}

fn a_token_copied_before_a_disable_does_not_work_after_the_re_enable(app: TestApp) {
    let user = create_user(&app, &app.admin, "admin.2", "admin", None).expect(201);
    let path = format!("/api/v1/users/{}", text(&user.body, "id"));
    let copied = login_refresh_token(&app, "admin.2", PASSWORD);
    app.patch(&path, &app.admin, &json!({"disabled": true}))
        .expect(200);
    app.patch(&path, &app.admin, &json!({"disabled": false}))
        .expect(200);
    refresh(&app, &copied).expect_problem(401, "unauthorized");
    // The user itself logs in again.
    app.login("admin.2", PASSWORD);
}

fn a_new_password_ends_every_login_of_the_user(app: TestApp) {
    let user = create_user(&app, &app.admin, "admin.2", "admin", None).expect(201);
    let path = format!("/api/v1/users/{}", text(&user.body, "id"));
    let phone = login_refresh_token(&app, "admin.2", PASSWORD);
    let laptop = login_refresh_token(&app, "admin.2", PASSWORD);
    let admins = login_refresh_token(&app, "admin", ADMIN_PASSWORD);
    app.patch(&path, &app.admin, &json!({"password": "mat-khau-moi-456"}))
        .expect(200);
    refresh(&app, &phone).expect_problem(401, "unauthorized");
    refresh(&app, &laptop).expect_problem(401, "unauthorized");
    refresh(&app, &admins).expect(200);

    // Changing its own password ends the user's logins too, the current one included.
    let login = app
        .login_resp("admin.2", "mat-khau-moi-456")
        .expect(200)
        .body;
    app.patch(
        &path,
        &text(&login, "access_token"),
        &json!({"password": "mat-khau-moi-789", "current_password": "mat-khau-moi-456"}),
    )
    .expect(200);
    refresh(&app, &text(&login, "refresh_token")).expect_problem(401, "unauthorized");
}

fn logout_with_all_ends_every_login_of_the_caller(app: TestApp) {
    create_user(&app, &app.admin, "admin.2", "admin", None).expect(201);
    let lost_phone = app.login_resp("admin.2", PASSWORD).expect(200).body;
    let other_phone = login_refresh_token(&app, "admin.2", PASSWORD);
    let other_phone = text(
        &refresh(&app, &other_phone).expect(200).body,
        "refresh_token",
    );
    let admins = login_refresh_token(&app, "admin", ADMIN_PASSWORD);
    let access = text(&lost_phone, "access_token");

    app.post("/api/v1/auth/logout", &access, &json!({}))
        .expect_problem(422, "validation");
    app.post("/api/v1/auth/logout", &access, &json!({"all": false}))
        .expect_problem(422, "validation");
    let resp = app
        .post("/api/v1/auth/logout", &access, &json!({"all": true}))
        .expect(204);
    assert!(resp.text.is_empty());

    refresh(&app, &text(&lost_phone, "refresh_token")).expect_problem(401, "unauthorized");
    refresh(&app, &other_phone).expect_problem(401, "unauthorized");
    refresh(&app, &admins).expect(200);
    app.login("admin.2", PASSWORD);
}

crate::both_backends!(
    a_refresh_token_presented_again_within_the_grace_window_gets_the_same_new_token,
    concurrent_refreshes_of_one_token_get_one_new_token_on_one_process_or_two,
    a_token_copied_before_a_disable_does_not_work_after_the_re_enable,
    a_new_password_ends_every_login_of_the_user,
    logout_with_all_ends_every_login_of_the_caller,
);

/// `CANVASS_REFRESH_GRACE_SECS=0`: every second presentation is a reuse.
mod without_grace {
    use super::*;

    const ENV: &[(&str, &str)] = &[("CANVASS_REFRESH_GRACE_SECS", "0")];

    fn concurrent_refreshes_of_one_token_leave_one_winner_and_revoke_the_login(app: TestApp) {
        let second = second_process(&app, ENV);
        let first = login_refresh_token(&app, "admin", ADMIN_PASSWORD);
        let answers = refresh_at_once(&bases(&app, &second), &first, 8);
        let winners: Vec<&Value> = answers
            .iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
            .collect();
        assert_eq!(winners.len(), 1, "exactly one exchange wins: {answers:?}");
        assert!(answers
            .iter()
            .all(|(status, _)| *status == 200 || *status == 401));
        // The losers were reuses: they revoked the login, the winner's new token included.
        refresh(&app, &text(winners[0], "refresh_token")).expect_problem(401, "unauthorized");
    }

    crate::both_backends_with_env!(
        ENV;
        concurrent_refreshes_of_one_token_leave_one_winner_and_revoke_the_login,
    );
}

/// A one-second grace window, to see it close.
mod short_grace {
    use super::*;

    const ENV: &[(&str, &str)] = &[("CANVASS_REFRESH_GRACE_SECS", "1")];

    fn after_the_grace_window_a_spent_token_revokes_the_login(app: TestApp) {
        let first = login_refresh_token(&app, "admin", ADMIN_PASSWORD);
        let next = text(&refresh(&app, &first).expect(200).body, "refresh_token");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        refresh(&app, &first).expect_problem(401, "unauthorized");
        refresh(&app, &next).expect_problem(401, "unauthorized");
    }

    crate::both_backends_with_env!(ENV; after_the_grace_window_a_spent_token_revokes_the_login);
}
