//! The dashboard over plain HTTP: cookies, CSRF, CSP, language, error pages, sessions in
//! the database. No browser needed.

use serde_json::json;

use crate::common::world::PASSWORD;
use crate::common::{spawn_app_with, Backend, Server, TestApp, World, ADMIN_PASSWORD};
use crate::web::Web;

fn signed_in(app: &TestApp, username: &str, password: &str) -> Web {
    let mut web = Web::new(&app.base);
    web.sign_in(username, password).expect(303);
    web
}

fn signed_out_home_redirects_to_login(app: TestApp) {
    let mut web = Web::new(&app.base);
    let home = web.get("/").expect(302);
    assert_eq!(home.header("location"), Some("/login"));
    // A deep link comes back to itself after signing in.
    let deep = web.get("/campaigns?x=1").expect(302);
    assert_eq!(
        deep.header("location"),
        Some("/login?next=/campaigns%3Fx%3D1")
    );
}

fn signing_in_sets_a_strict_http_only_session_cookie(app: TestApp) {
    let mut web = Web::new(&app.base);
    let form = web.get("/login").expect(200);
    assert!(form.text.contains("<html lang=\"vi\">"), "{}", form.text);
    assert!(form.text.contains("Đăng nhập"));
    let done = web
        .post(
            "/login",
            &[
                ("csrf_token", &form.csrf()),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "/campaigns"),
            ],
        )
        .expect(303);
    assert_eq!(done.header("location"), Some("/campaigns"));
    let cookie = done
        .set_cookie("canvass_session")
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "Secure without --cookie-secure: {cookie}"
    );
    let home = web.get("/").expect(200);
    assert!(home.text.contains("Chiến dịch"));
}

fn wrong_credentials_show_the_form_again_with_401(app: TestApp) {
    let mut web = Web::new(&app.base);
    let page = web.sign_in("admin", "not-the-password").expect(401);
    assert!(
        page.text.contains("Sai tên đăng nhập hoặc mật khẩu"),
        "{}",
        page.text
    );
    assert!(page.text.contains("name=\"username\""));
    assert!(page.set_cookie("canvass_session").is_none());
    assert_eq!(
        web.get("/").status,
        302,
        "no session after a wrong password"
    );
}

fn page_logins_count_towards_the_api_throttle(app: TestApp) {
    let mut web = Web::new(&app.base);
    for _ in 0..10 {
        web.sign_in("admin", "wrong-password").expect(401);
    }
    // The 11th failure for one username is throttled, on the page and in the API alike.
    let page = web.sign_in("admin", ADMIN_PASSWORD).expect(429);
    assert!(page.text.contains("15"), "{}", page.text);
    app.login_resp("admin", ADMIN_PASSWORD)
        .expect_problem(429, "rate_limited");
}

fn forms_without_the_csrf_token_are_403(app: TestApp) {
    let mut web = Web::new(&app.base);
    web.get("/login").expect(200);
    let page = web
        .post(
            "/login",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .expect(403);
    assert!(page.text.contains("<html lang=\"vi\">"));
    web.post(
        "/login",
        &[
            ("csrf_token", "forged"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .expect(403);
    assert_eq!(web.get("/").status, 302, "a forged login signs nobody in");

    let mut web = signed_in(&app, "admin", ADMIN_PASSWORD);
    web.post("/logout", &[]).expect(403);
    web.post("/logout", &[("csrf_token", "wrong")]).expect(403);
    web.get("/campaigns").expect(200);
    let csrf = web.get("/campaigns").csrf();
    web.post("/logout", &[("csrf_token", &csrf)]).expect(303);
    assert_eq!(web.get("/campaigns").status, 302, "signed out");
}

fn a_forged_assignment_changes_nothing(app: TestApp) {
    let world = World::build(&app);
    let mut web = signed_in(&app, "to.truong.1", PASSWORD);
    let before = world.ward1_assignments(&app).len();
    web.post(
        &format!("/campaigns/{}/assignments", world.campaign),
        &[
            ("street_id", &world.street2),
            ("volunteer_id", &world.volunteer1.0),
        ],
    )
    .expect(403);
    let after = world.ward1_assignments(&app).len();
    assert_eq!(before, after);
}

fn wrong_form_values_show_the_page_again_with_422(app: TestApp) {
    let world = World::build(&app);
    let visits = crate::seed::ward1_visits(&app, &world);
    let mut web = signed_in(&app, "to.truong.1", PASSWORD);
    let list = format!(
        "/campaigns/{}/visits?ward_id={}",
        world.campaign, world.ward1
    );
    let csrf = web.get(&list).expect(200).csrf();
    let review = format!("/campaigns/{}/visits/{}/review", world.campaign, visits[0]);
    let page = web
        .post(
            &review,
            &[
                ("csrf_token", &csrf),
                ("review", "pending"),
                ("back", &list),
            ],
        )
        .expect(422);
    assert!(
        page.text.contains("Hãy chọn Xác nhận hoặc Từ chối"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("data-visit-id=\"{}\"", visits[0])),
        "the list again"
    );
    let long = "x".repeat(501);
    web.post(
        &review,
        &[
            ("csrf_token", &csrf),
            ("review", "verified"),
            ("note", &long),
        ],
    )
    .expect(422);
    let api = app
        .get(
            &format!(
                "/api/v1/campaigns/{}/visits?ward_id={}",
                world.campaign, world.ward1
            ),
            &world.leader1.1,
        )
        .expect(200)
        .body;
    assert!(
        api["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["review"] == "pending"),
        "nothing changed"
    );
    // A review that goes through answers 303 back to the list it came from.
    let done = web
        .post(
            &review,
            &[
                ("csrf_token", &csrf),
                ("review", "verified"),
                ("back", &list),
            ],
        )
        .expect(303);
    assert_eq!(done.header("location"), Some(list.as_str()));

    // A volunteer of another ward: 422 with the assignment page and a message.
    let page = web
        .post(
            &format!("/campaigns/{}/assignments", world.campaign),
            &[
                ("csrf_token", &csrf),
                ("street_id", &world.street2),
                ("volunteer_id", &world.volunteer3.0),
            ],
        )
        .expect(422);
    assert!(page.text.contains("phải thuộc phường/xã"), "{}", page.text);
    // A supervisor may not import.
    let mut web = signed_in(&app, "gs.tinh", PASSWORD);
    web.get("/imports").expect(403);
}

fn the_visit_list_filters_and_pages_like_the_api(app: TestApp) {
    let world = World::build(&app);
    let visits = crate::seed::ward1_visits(&app, &world);
    let mut web = signed_in(&app, "to.truong.1", PASSWORD);
    let list = format!(
        "/campaigns/{}/visits?ward_id={}",
        world.campaign, world.ward1
    );
    let page = web.get(&list).expect(200);
    assert!(
        page.text.contains("name=\"street_id\""),
        "a street filter for a ward"
    );
    assert!(
        page.text.contains("name=\"volunteer_id\""),
        "a volunteer filter for a ward"
    );
    for id in &visits {
        assert!(page.text.contains(id.as_str()));
    }
    let empty = web
        .get(&format!("{list}&street_id={}", world.street2))
        .expect(200);
    assert!(!visits.iter().any(|id| empty.text.contains(id.as_str())));
    let declined = web.get(&format!("{list}&outcome=declined")).expect(200);
    assert!(
        declined.text.contains(visits[2].as_str()) && !declined.text.contains(visits[0].as_str())
    );
    // Two a page, newest first: the third visit is on the second page.
    let first = web.get(&format!("{list}&page_size=2")).expect(200);
    assert!(first.text.contains(visits[2].as_str()) && first.text.contains(visits[1].as_str()));
    assert!(!first.text.contains(visits[0].as_str()));
    let marker = "rel=\"next\" href=\"";
    let start = first.text.find(marker).expect("a next page link") + marker.len();
    let end = first.text[start..].find('"').unwrap() + start;
    let next = first.text[start..end].replace("&amp;", "&");
    let second = web.get(&next).expect(200);
    assert!(second.text.contains(visits[0].as_str()));
    assert!(!second.text.contains("rel=\"next\""));
    // A wrong filter value: the page with a message, 422, as the API's 422.
    let wrong = web.get(&format!("{list}&outcome=maybe")).expect(422);
    assert!(wrong.text.contains("Bộ lọc không hợp lệ"));
    web.get(&format!("{list}&page_token=forged")).expect(422);
}

fn pages_carry_a_strict_content_security_policy(app: TestApp) {
    let mut web = Web::new(&app.base);
    for path in ["/login", "/nope"] {
        let page = web.get(path);
        let csp = page.header("content-security-policy").expect("CSP");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains("http"), "no outside origin: {csp}");
        assert!(
            !page.text.contains("<script>"),
            "no inline script on {path}"
        );
        assert!(!page.text.contains("style=\""), "no inline style on {path}");
    }
    let mut web = signed_in(&app, "admin", ADMIN_PASSWORD);
    let page = web.get("/campaigns").expect(200);
    assert!(page.header("content-security-policy").is_some());
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "{}",
        page.text
    );
    let script = web.get("/static/dashboard.js").expect(200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
}

fn an_unknown_page_is_a_404_page(app: TestApp) {
    let mut web = Web::new(&app.base);
    let page = web.get("/no/such/page").expect(404);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains("Không tìm thấy trang"), "{}", page.text);
    let mut web = signed_in(&app, "admin", ADMIN_PASSWORD);
    let page = web
        .get("/campaigns/00000000-0000-0000-0000-000000000000")
        .expect(404);
    assert!(page.text.contains("Không tìm thấy trang"));
    web.get("/campaigns/not-a-uuid").expect(404);
    // The API keeps answering problem+json.
    let api = web.get("/api/v1/nope").expect(404);
    assert!(api
        .header("content-type")
        .unwrap()
        .starts_with("application/problem+json"));
}

fn english_is_remembered_after_lang_en(app: TestApp) {
    let mut web = signed_in(&app, "admin", ADMIN_PASSWORD);
    let english = web.get("/campaigns?lang=en").expect(200);
    assert!(english.text.contains("<html lang=\"en\">"));
    assert!(english.text.contains("Campaigns"));
    let cookie = english.set_cookie("canvass_lang").expect("language cookie");
    assert!(cookie.starts_with("canvass_lang=en"));
    let again = web.get("/campaigns").expect(200);
    assert!(again.text.contains("<html lang=\"en\">"), "remembered");
    let back = web.get("/campaigns?lang=vi").expect(200);
    assert!(back.text.contains("<html lang=\"vi\">"));
}

fn a_volunteer_gets_the_403_page_for_another_ward(app: TestApp) {
    let world = World::build(&app);
    let mut web = signed_in(&app, "tnv.lan", PASSWORD);
    let own = web
        .get(&format!(
            "/campaigns/{}/areas/{}",
            world.campaign, world.ward1
        ))
        .expect(200);
    assert!(own.text.contains("Phường Hiệp Thành"));
    let other = web
        .get(&format!(
            "/campaigns/{}/areas/{}",
            world.campaign, world.ward2
        ))
        .expect(403);
    assert!(
        other.text.contains("Không có quyền truy cập"),
        "{}",
        other.text
    );
    // A supervisor of another district likewise; a ward leader may not import areas.
    let mut web = signed_in(&app, "gs.bc", PASSWORD);
    web.get(&format!(
        "/campaigns/{}/areas/{}",
        world.campaign, world.ward1
    ))
    .expect(403);
    let mut web = signed_in(&app, "to.truong.1", PASSWORD);
    web.get(&format!(
        "/campaigns/{}/visits?ward_id={}",
        world.campaign, world.ward2
    ))
    .expect(403);
    let imports = web.get("/imports").expect(200);
    assert!(!imports.text.contains("action=\"/imports/areas\""));
}

fn sessions_survive_a_restart(mut app: TestApp) {
    let mut web = signed_in(&app, "admin", ADMIN_PASSWORD);
    web.get("/campaigns").expect(200);
    let bind = app.server.bind();
    app.server.kill();
    let server = Server::start_on(&app.db, &bind, &[]);
    app.reattach(server);
    web.get("/campaigns").expect(200);
}

fn disabling_a_user_ends_its_sessions(app: TestApp) {
    let world = World::build(&app);
    let mut web = signed_in(&app, "to.truong.1", PASSWORD);
    web.get("/campaigns").expect(200);
    app.patch(
        &format!("/api/v1/users/{}", world.leader1.0),
        &world.admin,
        &json!({"disabled": true}),
    )
    .expect(200);
    assert_eq!(web.get("/campaigns").status, 302);
}

crate::both_backends!(
    signed_out_home_redirects_to_login,
    signing_in_sets_a_strict_http_only_session_cookie,
    wrong_credentials_show_the_form_again_with_401,
    page_logins_count_towards_the_api_throttle,
    forms_without_the_csrf_token_are_403,
    a_forged_assignment_changes_nothing,
    wrong_form_values_show_the_page_again_with_422,
    the_visit_list_filters_and_pages_like_the_api,
    a_volunteer_gets_the_403_page_for_another_ward,
    pages_carry_a_strict_content_security_policy,
    an_unknown_page_is_a_404_page,
    english_is_remembered_after_lang_en,
    sessions_survive_a_restart,
    disabling_a_user_ends_its_sessions,
);

#[test]
fn cookie_secure_marks_the_session_cookie_secure() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, &[("CANVASS_COOKIE_SECURE", "1")]) else {
            continue;
        };
        let mut web = Web::new(&app.base);
        let done = web.sign_in("admin", ADMIN_PASSWORD).expect(303);
        let cookie = done.set_cookie("canvass_session").expect("session cookie");
        assert!(cookie.contains("; Secure"), "{cookie}");
    }
}
