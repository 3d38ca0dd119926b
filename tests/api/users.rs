//! Contract section 4, users: create, list with filters, PATCH.

use serde_json::json;

use crate::common::world::PASSWORD;
use crate::common::{TestApp, World};
use crate::support::{create_user, field_set, set, text};

fn an_admin_creates_a_volunteer_and_gets_201_with_the_user(app: TestApp) {
    let world = World::build(&app);
    let resp = app
        .post(
            "/api/v1/users",
            &app.admin,
            &json!({"username": "tnv.an", "password": "mat-khau-123", "display_name": "Nguyễn Văn An",
                    "role": "volunteer", "area_id": world.ward3}),
        )
        .expect(201);
    let user = &resp.body;
    assert!(uuid::Uuid::parse_str(&text(user, "id")).is_ok());
    assert_eq!(user["username"], "tnv.an");
    assert_eq!(user["display_name"], "Nguyễn Văn An");
    assert_eq!(user["role"], "volunteer");
    assert_eq!(user["area_id"], json!(world.ward3));
    assert_eq!(user["disabled"], json!(false));
    assert!(
        !resp.text.contains("password"),
        "no password data in a User: {}",
        resp.text
    );

    let token = app.login("tnv.an", "mat-khau-123");
    assert_eq!(app.get("/api/v1/me", &token).expect(200).body, *user);
}

fn every_role_can_be_created_on_an_area_of_the_right_level(app: TestApp) {
    let world = World::build(&app);
    create_user(&app, &app.admin, "admin.2", "admin", None).expect(201);
    create_user(
        &app,
        &app.admin,
        "gs.2",
        "supervisor",
        Some(&world.province),
    )
    .expect(201);
    create_user(
        &app,
        &app.admin,
        "gs.3",
        "supervisor",
        Some(&world.district2),
    )
    .expect(201);
    create_user(
        &app,
        &app.admin,
        "to.truong.3",
        "ward_leader",
        Some(&world.ward3),
    )
    .expect(201);
    create_user(&app, &app.admin, "tnv.4", "volunteer", Some(&world.ward3)).expect(201);
    let second_admin = app.login("admin.2", PASSWORD);
    app.get("/api/v1/users", &second_admin).expect(200);
}

fn a_role_on_an_area_of_the_wrong_level_is_422(app: TestApp) {
    let world = World::build(&app);
    let unknown = uuid::Uuid::new_v4().to_string();
    for (role, area) in [
        ("volunteer", Some(world.district1.as_str())),
        ("volunteer", None),
        ("ward_leader", Some(world.province.as_str())),
        ("supervisor", Some(world.ward1.as_str())),
        ("supervisor", None),
        ("admin", Some(world.province.as_str())),
        ("volunteer", Some(unknown.as_str())),
    ] {
        let resp = create_user(&app, &app.admin, "tnv.x", role, area);
        assert_eq!(resp.status, 422, "{role} on {area:?}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
    create_user(&app, &app.admin, "tnv.x", "chairman", Some(&world.ward1))
        .expect_problem(422, "validation");
    let users = app.get("/api/v1/users", &app.admin).expect(200);
    assert!(
        !field_set(&users, "username").contains("tnv.x"),
        "no refused user was stored"
    );
}

fn a_taken_username_is_409(app: TestApp) {
    let world = World::build(&app);
    create_user(&app, &app.admin, "tnv.lan", "volunteer", Some(&world.ward2))
        .expect_problem(409, "conflict");
    create_user(&app, &app.admin, "admin", "admin", None).expect_problem(409, "conflict");
}

fn a_password_under_8_characters_is_422_counting_characters_not_bytes(app: TestApp) {
    let world = World::build(&app);
    let new = |username: &str, password: &str| {
        app.post(
            "/api/v1/users",
            &app.admin,
            &json!({"username": username, "password": password, "display_name": username,
                    "role": "volunteer", "area_id": world.ward1}),
        )
    };
    new("tnv.short", "1234567").expect_problem(422, "validation");
    // Seven characters, but more than eight bytes in UTF-8.
    new("tnv.short", "mậtkhẩu").expect_problem(422, "validation");
    new("tnv.short", "").expect_problem(422, "validation");
    new("tnv.eight", "12345678").expect(201);
    new("tnv.viet", "mật khẩu").expect(201);
    app.login("tnv.viet", "mật khẩu");
}

fn a_bad_username_is_422(app: TestApp) {
    let world = World::build(&app);
    for username in ["", "has space", &"x".repeat(65), "v1a\u{200B}"] {
        let resp = create_user(&app, &app.admin, username, "volunteer", Some(&world.ward1));
        assert_eq!(resp.status, 422, "{username:?}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
}

fn the_user_list_filters_by_role_and_by_area_subtree(app: TestApp) {
    let world = World::build(&app);
    let list = |query: &str| {
        app.get(&format!("/api/v1/users{query}"), &app.admin)
            .expect(200)
    };

    let everyone = list("");
    assert_eq!(
        field_set(&everyone, "username"),
        set(&[
            "admin",
            "gs.bc",
            "gs.tdm",
            "gs.tinh",
            "tnv.hoa",
            "tnv.lan",
            "tnv.minh",
            "to.truong.1",
            "to.truong.2"
        ])
    );
    assert_eq!(
        field_set(&list("?role=volunteer"), "username"),
        set(&["tnv.hoa", "tnv.lan", "tnv.minh"])
    );
    assert_eq!(field_set(&list("?role=admin"), "username"), set(&["admin"]));
    assert_eq!(
        field_set(&list(&format!("?area_id={}", world.ward1)), "username"),
        set(&["tnv.lan", "tnv.minh", "to.truong.1"])
    );
    assert_eq!(
        field_set(&list(&format!("?area_id={}", world.district1)), "username"),
        set(&[
            "gs.tdm",
            "tnv.hoa",
            "tnv.lan",
            "tnv.minh",
            "to.truong.1",
            "to.truong.2"
        ]),
        "an area filter takes the whole subtree"
    );
    assert_eq!(
        field_set(
            &list(&format!("?role=ward_leader&area_id={}", world.district1)),
            "username"
        ),
        set(&["to.truong.1", "to.truong.2"])
    );
    assert_eq!(
        field_set(&list(&format!("?area_id={}", world.ward3)), "username"),
        set::<&str>(&[])
    );
    app.get("/api/v1/users?role=chairman", &app.admin)
        .expect_problem(422, "validation");
}

fn a_patch_changes_the_display_name(app: TestApp) {
    let world = World::build(&app);
    let path = format!("/api/v1/users/{}", world.volunteer1.0);
    let resp = app
        .patch(&path, &app.admin, &json!({"display_name": "Chị Lan"}))
        .expect(200);
    assert_eq!(resp.body["display_name"], "Chị Lan");
    assert_eq!(resp.body["username"], "tnv.lan");
    assert_eq!(resp.body["disabled"], json!(false));
    let me = app.get("/api/v1/me", &world.volunteer1.1).expect(200);
    assert_eq!(me.body["display_name"], "Chị Lan");
}

fn a_patch_changes_the_password_and_the_old_one_stops_working(app: TestApp) {
    let world = World::build(&app);
    let path = format!("/api/v1/users/{}", world.volunteer1.0);
    app.patch(&path, &app.admin, &json!({"password": "short"}))
        .expect_problem(422, "validation");
    app.login("tnv.lan", PASSWORD);
    app.patch(&path, &app.admin, &json!({"password": "mat-khau-moi-456"}))
        .expect(200);
    app.login_resp("tnv.lan", PASSWORD)
        .expect_problem(401, "unauthorized");
    app.login("tnv.lan", "mat-khau-moi-456");
}

fn a_patch_disables_and_enables_a_user(app: TestApp) {
    let world = World::build(&app);
    let path = format!("/api/v1/users/{}", world.volunteer3.0);
    let resp = app
        .patch(&path, &app.admin, &json!({"disabled": true}))
        .expect(200);
    assert_eq!(resp.body["disabled"], json!(true));
    let listed = app
        .get(
            &format!("/api/v1/users?area_id={}", world.ward2),
            &app.admin,
        )
        .expect(200);
    let hoa = crate::support::items(&listed)
        .into_iter()
        .find(|u| u["username"] == "tnv.hoa")
        .unwrap();
    assert_eq!(hoa["disabled"], json!(true));
    app.login_resp("tnv.hoa", PASSWORD)
        .expect_problem(401, "unauthorized");
    let resp = app
        .patch(&path, &app.admin, &json!({"disabled": false}))
        .expect(200);
    assert_eq!(resp.body["disabled"], json!(false));
    app.login("tnv.hoa", PASSWORD);
}

fn a_user_cannot_disable_itself(app: TestApp) {
    let me = app.get("/api/v1/me", &app.admin).expect(200);
    let path = format!("/api/v1/users/{}", me.body["id"].as_str().unwrap());
    app.patch(&path, &app.admin, &json!({"disabled": true}))
        .expect_problem(422, "validation");
    let me = app.get("/api/v1/me", &app.admin).expect(200);
    assert_eq!(me.body["disabled"], json!(false), "nothing changed");
}

fn an_empty_patch_changes_nothing_and_a_bad_one_is_422(app: TestApp) {
    let world = World::build(&app);
    let path = format!("/api/v1/users/{}", world.volunteer1.0);
    let before = app.get("/api/v1/me", &world.volunteer1.1).expect(200).body;
    let resp = app.patch(&path, &app.admin, &json!({})).expect(200);
    assert_eq!(resp.body, before);
    app.patch(&path, &app.admin, &json!({"display_name": ""}))
        .expect_problem(422, "validation");
    app.patch(&path, &app.admin, &json!({"disabled": "yes"}))
        .expect_problem(422, "validation");
    app.patch(&path, &app.admin, &json!({"role": "admin"}))
        .expect_problem(422, "validation");
    assert_eq!(
        app.get("/api/v1/me", &world.volunteer1.1).expect(200).body,
        before
    );
}

fn patching_an_unknown_or_malformed_user_id_is_404(app: TestApp) {
    let unknown = format!("/api/v1/users/{}", uuid::Uuid::new_v4());
    app.patch(&unknown, &app.admin, &json!({"display_name": "x"}))
        .expect_problem(404, "not_found");
    app.patch(
        "/api/v1/users/not-a-uuid",
        &app.admin,
        &json!({"display_name": "x"}),
    )
    .expect_problem(404, "not_found");
}

fn a_user_changing_its_own_password_must_send_the_current_one(app: TestApp) {
    let id = text(
        &create_user(&app, &app.admin, "admin.2", "admin", None)
            .expect(201)
            .body,
        "id",
    );
    let path = format!("/api/v1/users/{id}");
    let token = app.login("admin.2", PASSWORD);
    app.patch(&path, &token, &json!({"password": "mat-khau-moi-456"}))
        .expect_problem(422, "validation");
    app.patch(
        &path,
        &token,
        &json!({"password": "mat-khau-moi-456", "current_password": "not-the-password"}),
    )
    .expect_problem(422, "validation");
    app.login("admin.2", PASSWORD);
    app.patch(
        &path,
        &token,
        &json!({"password": "mat-khau-moi-456", "current_password": PASSWORD}),
    )
    .expect(200);
    app.login_resp("admin.2", PASSWORD)
        .expect_problem(401, "unauthorized");
    app.login("admin.2", "mat-khau-moi-456");
    // An admin setting another user's password needs no current password.
    app.patch(&path, &app.admin, &json!({"password": PASSWORD}))
        .expect(200);
    app.login("admin.2", PASSWORD);
}

fn a_wrong_current_password_counts_as_a_failed_login(app: TestApp) {
    let id = text(
        &create_user(&app, &app.admin, "admin.2", "admin", None)
            .expect(201)
            .body,
        "id",
    );
    let path = format!("/api/v1/users/{id}");
    let token = app.login("admin.2", PASSWORD);
    let guess = |current: &str| {
        app.patch(
            &path,
            &token,
            &json!({"password": "mat-khau-moi-456", "current_password": current}),
        )
    };
    for n in 0..10 {
        guess(&format!("guess-number-{n}")).expect_problem(422, "validation");
    }
    let throttled = guess(PASSWORD).expect_problem(429, "rate_limited");
    assert!(throttled.header("retry-after").is_some());
    app.login_resp("admin.2", PASSWORD)
        .expect_problem(429, "rate_limited");
    // The throttle is the user's, not the caller's: other users log in.
    app.login_resp("admin", crate::common::ADMIN_PASSWORD)
        .expect(200);
}

crate::both_backends!(
    a_user_changing_its_own_password_must_send_the_current_one,
    a_wrong_current_password_counts_as_a_failed_login,
    an_admin_creates_a_volunteer_and_gets_201_with_the_user,
    every_role_can_be_created_on_an_area_of_the_right_level,
    a_role_on_an_area_of_the_wrong_level_is_422,
    a_taken_username_is_409,
    a_password_under_8_characters_is_422_counting_characters_not_bytes,
    a_bad_username_is_422,
    the_user_list_filters_by_role_and_by_area_subtree,
    a_patch_changes_the_display_name,
    a_patch_changes_the_password_and_the_old_one_stops_working,
    a_patch_disables_and_enables_a_user,
    a_user_cannot_disable_itself,
    an_empty_patch_changes_nothing_and_a_bad_one_is_422,
    patching_an_unknown_or_malformed_user_id_is_404,
);
