//! Contract section 5, campaigns: create, list, read, and the rules on their fields.

use serde_json::{json, Value};

use crate::common::{Resp, TestApp, World};
use crate::support::{ids, set, text};

fn campaign(area: &str) -> Value {
    json!({"name": "Cài đặt Bluezone đợt 2", "area_id": area, "target_ratio": 0.6,
           "starts_on": "2020-09-01", "deadline": "2020-09-30", "timezone": "Asia/Ho_Chi_Minh"})
}

fn create(app: &TestApp, body: &Value) -> Resp {
    app.post("/api/v1/campaigns", &app.admin, body)
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn an_admin_creates_a_campaign_and_reads_it_back(app: TestApp) {
    let world = World::build(&app);
    let body = campaign(&world.district1);
    let resp = create(&app, &body).expect(201);
    let created = &resp.body;
    assert!(uuid::Uuid::parse_str(&text(created, "id")).is_ok());
    for key in [
        "name",
        "area_id",
        "target_ratio",
        "starts_on",
        "deadline",
        "timezone",
    ] {
        assert_eq!(created[key], body[key], "{key} comes back as sent");
    }
    let path = format!("/api/v1/campaigns/{}", text(created, "id"));
    assert_eq!(app.get(&path, &app.admin).expect(200).body, *created);
    assert_eq!(
        app.get(&path, &world.volunteer3.1).expect(200).body,
        *created
    );
}

fn the_campaign_list_holds_every_campaign(app: TestApp) {
    let world = World::build(&app);
    let second = text(
        &create(&app, &campaign(&world.district2)).expect(201).body,
        "id",
    );
    let list = app.get("/api/v1/campaigns", &app.admin).expect(200);
    assert_eq!(ids(&list), set(&[&world.campaign, &second]));
}

fn the_timezone_defaults_to_ho_chi_minh_city(app: TestApp) {
    let world = World::build(&app);
    let mut body = campaign(&world.province);
    body.as_object_mut().unwrap().remove("timezone");
    assert_eq!(
        create(&app, &body).expect(201).body["timezone"],
        "Asia/Ho_Chi_Minh"
    );
    let body = with(campaign(&world.province), "timezone", json!(null));
    assert_eq!(
        create(&app, &body).expect(201).body["timezone"],
        "Asia/Ho_Chi_Minh"
    );
    let body = with(campaign(&world.province), "timezone", json!("Asia/Bangkok"));
    assert_eq!(
        create(&app, &body).expect(201).body["timezone"],
        "Asia/Bangkok"
    );
}

fn a_timezone_that_is_not_an_iana_name_is_422(app: TestApp) {
    let world = World::build(&app);
    for zone in ["Mars/Olympus_Mons", "", "GMT+7 Hà Nội", "ICT "] {
        let resp = create(
            &app,
            &with(campaign(&world.province), "timezone", json!(zone)),
        );
        assert_eq!(resp.status, 422, "{zone:?}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
}

fn target_ratio_must_lie_in_zero_excluded_to_one_included(app: TestApp) {
    let world = World::build(&app);
    for ratio in [
        json!(0),
        json!(0.0),
        json!(-0.5),
        json!(1.0001),
        json!(60),
        json!("0.6"),
        json!(null),
    ] {
        let resp = create(
            &app,
            &with(campaign(&world.province), "target_ratio", ratio.clone()),
        );
        assert_eq!(resp.status, 422, "target_ratio {ratio}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
    for ratio in [json!(1), json!(1.0), json!(0.0001), json!(0.6)] {
        let resp = create(
            &app,
            &with(campaign(&world.province), "target_ratio", ratio.clone()),
        )
        .expect(201);
        assert_eq!(resp.body["target_ratio"].as_f64(), ratio.as_f64());
    }
}

fn bad_dates_names_or_areas_are_422(app: TestApp) {
    let world = World::build(&app);
    let unknown = uuid::Uuid::new_v4().to_string();
    for (key, value) in [
        ("starts_on", json!("2020-13-01")),
        ("starts_on", json!("01/09/2020")),
        ("deadline", json!("2020-08-31")),
        ("deadline", json!(null)),
        ("name", json!("")),
        ("name", json!("x".repeat(201))),
        ("area_id", json!(unknown)),
        ("area_id", json!("not-a-uuid")),
    ] {
        let resp = create(&app, &with(campaign(&world.province), key, value.clone()));
        assert_eq!(resp.status, 422, "{key} = {value}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
    let list = app.get("/api/v1/campaigns", &app.admin).expect(200);
    assert_eq!(
        ids(&list),
        set(&[&world.campaign]),
        "no refused campaign was stored"
    );
}

fn reading_an_unknown_or_malformed_campaign_is_404(app: TestApp) {
    let world = World::build(&app);
    app.get(
        &format!("/api/v1/campaigns/{}", uuid::Uuid::new_v4()),
        &world.volunteer1.1,
    )
    .expect_problem(404, "not_found");
    app.get("/api/v1/campaigns/bluezone", &world.volunteer1.1)
        .expect_problem(404, "not_found");
}

crate::both_backends!(
    an_admin_creates_a_campaign_and_reads_it_back,
    the_campaign_list_holds_every_campaign,
    the_timezone_defaults_to_ho_chi_minh_city,
    a_timezone_that_is_not_an_iana_name_is_422,
    target_ratio_must_lie_in_zero_excluded_to_one_included,
    bad_dates_names_or_areas_are_422,
    reading_an_unknown_or_malformed_campaign_is_404,
);
