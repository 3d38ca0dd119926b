//! A ward leader, an admin and a volunteer using the dashboard in headless Chromium.

use serde_json::Value;

use crate::common::world::PASSWORD;
use crate::common::{TestApp, World, ADMIN_PASSWORD};
use crate::driver::Browser;
use crate::seed::ward1_visits;
use crate::support::coverage;

/// A figure card's number as the API writes it: `1.234` → 1234.
fn card_count(browser: &Browser, figure: &str) -> i64 {
    let text = browser.text(&format!("[data-figure='{figure}'] .figure-value"));
    text.replace('.', "")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{figure}: {text:?}"))
}

/// The API's coverage ratio written the Vietnamese way: `61,5 %`.
fn vietnamese_percent(value: &Value) -> String {
    match value.as_f64() {
        Some(ratio) => format!("{:.1} %", (ratio * 1000.0).round() / 10.0).replace('.', ","),
        None => "—".to_owned(),
    }
}

fn assert_page_matches_api(browser: &Browser, api: &Value) {
    for figure in ["households_reached", "smartphone_users", "app_users"] {
        assert_eq!(
            card_count(browser, figure),
            api[figure].as_i64().unwrap(),
            "{figure}"
        );
    }
    let shown = browser.text("[data-figure='coverage'] .figure-value");
    assert_eq!(shown, vietnamese_percent(&api["coverage"]));
    let met = browser.text("[data-figure='target_met'] .figure-value");
    assert_eq!(
        api["target_met"].as_bool().unwrap(),
        met.contains("Đạt") && !met.contains("Chưa"),
        "{met}"
    );
}

fn coverage_page_shows_the_api_figures(app: TestApp) {
    let Some(browser) = Browser::start(1100, 1400) else {
        return;
    };
    let world = World::build(&app);
    ward1_visits(&app, &world);
    browser.sign_in(&app.base, "to.truong.1", PASSWORD);
    browser.goto(&format!(
        "{}/campaigns/{}/areas/{}",
        app.base, world.campaign, world.ward1
    ));
    let api = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    assert_eq!(api["households_reached"], 3);
    assert_page_matches_api(&browser, &api);
    assert!(browser.exists("svg.chart polyline"), "the progress chart");
    assert!(browser.text("h1").contains("Phường Hiệp Thành"));
    // A province supervisor sees the districts as children, with the same figures.
    let browser = Browser::start(1100, 1400).unwrap();
    browser.sign_in(&app.base, "gs.tinh", PASSWORD);
    browser.goto(&format!("{}/campaigns/{}", app.base, world.campaign));
    let api = coverage(
        &app,
        &world.supervisor_p.1,
        &world.campaign,
        &world.province,
    );
    assert_page_matches_api(&browser, &api);
    assert!(browser.exists("tr[data-area-code='718']"));
    assert!(browser.exists("tr[data-area-code='721']"));
}

fn reviewing_visits_changes_the_figures(app: TestApp) {
    let Some(browser) = Browser::start(1100, 1400) else {
        return;
    };
    let world = World::build(&app);
    let visits = ward1_visits(&app, &world);
    browser.sign_in(&app.base, "to.truong.1", PASSWORD);
    let list = format!(
        "{}/campaigns/{}/visits?ward_id={}",
        app.base, world.campaign, world.ward1
    );
    browser.goto(&list);
    let row = |id: &str| format!("tr[data-visit-id='{id}']");
    browser.click(&format!("{} button[value='verified']", row(&visits[0])));
    browser.wait_for(&format!("{} [data-review='verified']", row(&visits[0])));
    let api_visits = app
        .get(
            &format!(
                "/api/v1/campaigns/{}/visits?ward_id={}",
                world.campaign, world.ward1
            ),
            &world.leader1.1,
        )
        .expect(200)
        .body;
    let first = api_visits["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == visits[0].as_str())
        .unwrap();
    assert_eq!(first["review"], "verified");

    // Rejecting the 3-phone visit takes it out of coverage.
    browser.fill(
        &format!("{} input[name='note']", row(&visits[1])),
        "Số nhà không có thật",
    );
    browser.click(&format!("{} button[value='rejected']", row(&visits[1])));
    browser.accept_dialog();
    browser.wait_for(&format!("{} [data-review='rejected']", row(&visits[1])));
    assert!(browser
        .text(&row(&visits[1]))
        .contains("Số nhà không có thật"));

    browser.goto(&format!(
        "{}/campaigns/{}/areas/{}",
        app.base, world.campaign, world.ward1
    ));
    let api = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    assert_eq!(api["households_reached"], 2);
    assert_eq!(api["smartphone_users"], 4);
    assert_eq!(api["app_users"], 2);
    assert_page_matches_api(&browser, &api);
}

fn assigning_and_unassigning_a_street(app: TestApp) {
    let Some(browser) = Browser::start(1100, 1400) else {
        return;
    };
    let world = World::build(&app);
    browser.sign_in(&app.base, "to.truong.1", PASSWORD);
    browser.goto(&format!(
        "{}/campaigns/{}/assignments?ward_id={}",
        app.base, world.campaign, world.ward1
    ));
    let street = "tr[data-street-code='25741-H14']";
    assert!(
        browser.exists("ul.unassigned li[data-street-code='25741-H14']"),
        "street 2 starts unassigned"
    );
    browser.select(
        &format!("{street} select[name='volunteer_id']"),
        &world.volunteer2.0,
    );
    browser.click(&format!("{street} form button[type='submit']"));
    let holder = format!("{street} .holder[data-username='tnv.minh']");
    browser.wait_for(&holder);
    let held = |app: &TestApp| -> usize {
        world
            .ward1_assignments(app)
            .iter()
            .filter(|a| a["street_id"] == world.street2.as_str())
            .count()
    };
    assert_eq!(held(&app), 1);
    assert!(!browser.exists("ul.unassigned li[data-street-code='25741-H14']"));

    browser.click(&format!("{holder} button"));
    browser.accept_dialog();
    browser.wait_for("ul.unassigned li[data-street-code='25741-H14']");
    assert!(!browser.exists(&holder));
    assert_eq!(held(&app), 0);
}

fn an_import_error_names_its_line(app: TestApp) {
    let Some(browser) = Browser::start(1100, 1400) else {
        return;
    };
    let world = World::build(&app);
    let _ = world;
    let dir = std::env::temp_dir().join(format!("canvass-import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("streets.csv");
    std::fs::write(
        &bad,
        "ward_code,code,name\n25741,25741-N1,Ngõ 1\n99999,99999-N2,Ngõ 2\n",
    )
    .unwrap();
    browser.sign_in(&app.base, "admin", ADMIN_PASSWORD);
    browser.goto(&format!("{}/imports", app.base));
    browser.fill(
        "#import-streets input[type='file']",
        &bad.display().to_string(),
    );
    browser.click("#import-streets button[type='submit']");
    browser.wait_for("#import-streets [data-import-error]");
    let error = browser.text("#import-streets [data-import-error]");
    assert!(error.starts_with("Dòng 3"), "{error}");
    // All or nothing: line 2 was not written either.
    let streets = app
        .get(
            &format!("/api/v1/areas/{}/streets", world.ward1),
            &app.admin,
        )
        .expect(200)
        .body;
    assert!(!streets.to_string().contains("25741-N1"));

    let good = dir.join("good.csv");
    std::fs::write(&good, "ward_code,code,name\n25741,25741-N1,Ngõ 1\n").unwrap();
    browser.fill(
        "#import-streets input[type='file']",
        &good.display().to_string(),
    );
    browser.click("#import-streets button[type='submit']");
    browser.wait_for("#import-streets p.ok");
    assert!(browser.text("#import-streets p.ok").contains("1"));
    let streets = app
        .get(
            &format!("/api/v1/areas/{}/streets", world.ward1),
            &app.admin,
        )
        .expect(200)
        .body;
    assert!(streets.to_string().contains("25741-N1"));
    let _ = std::fs::remove_dir_all(dir);
}

fn a_volunteer_is_refused_another_ward(app: TestApp) {
    let Some(browser) = Browser::start(412, 900) else {
        return;
    };
    let world = World::build(&app);
    browser.sign_in(&app.base, "tnv.lan", PASSWORD);
    browser.goto(&format!(
        "{}/campaigns/{}/areas/{}",
        app.base, world.campaign, world.ward2
    ));
    assert_eq!(browser.text("h1"), "Không có quyền truy cập");
    browser.goto(&format!("{}/campaigns/{}", app.base, world.campaign));
    assert!(
        browser.text("h1").contains("Phường Hiệp Thành"),
        "its own ward instead"
    );
}

crate::both_backends!(
    coverage_page_shows_the_api_figures,
    reviewing_visits_changes_the_figures,
    assigning_and_unassigning_a_street,
    an_import_error_names_its_line,
    a_volunteer_is_refused_another_ward,
);
