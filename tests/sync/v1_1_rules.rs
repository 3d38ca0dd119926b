//! Input rules of contract v1.1 that the read endpoints enforce: a count never written is
//! `null` in a `Visit` (§8) but 0 in coverage (§12); dates outside the years 1–9999 are 422
//! (§12), for progress and for campaigns; a volunteer filtering the visit list by a ward or
//! street outside its ward gets 403 (§2).

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

/// The visit of the list whose id is `id`.
#[track_caller]
fn listed(list: &Value, id: &str) -> Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("visit {id} not listed: {list}"))
        .clone()
}

fn counts(visit: &Value) -> (Value, Value) {
    (
        visit["smartphone_users"].clone(),
        visit["app_users"].clone(),
    )
}

fn a_count_never_written_is_null_in_a_visit_and_zero_in_coverage(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let s = &world.street1;
    let mut clock = Ticker::new("phone-lan");
    let (a, b, d) = (house_id(s, "1"), house_id(s, "2"), house_id(s, "3"));
    let (away, none, zero) = (new_id(), new_id(), new_id());
    let changes = [
        household(&a, s, &[("house_number", json!("1"))], &clock.next()),
        household(&b, s, &[("house_number", json!("2"))], &clock.next()),
        household(&d, s, &[("house_number", json!("3"))], &clock.next()),
        // Nobody home: no count asked.
        visit(
            &away,
            s,
            &a,
            &knock("not_home", "2026-11-20T09:00:00+07:00", 0, 0)[..2],
            &clock.next(),
        ),
        // No smartphone: conclusive, counts never written.
        visit(
            &none,
            s,
            &b,
            &knock("no_smartphone", "2026-11-20T10:00:00+07:00", 0, 0)[..2],
            &clock.next(),
        ),
        // Counts written as 0: they stay 0.
        visit(
            &zero,
            s,
            &d,
            &knock("declined", "2026-11-20T11:00:00+07:00", 0, 0),
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "phone-lan", &changes),
        ["applied"; 6]
    );
    let list = visits(&app, &world.admin, c, "");
    assert_eq!(counts(&listed(&list, &away)), (Value::Null, Value::Null));
    assert_eq!(counts(&listed(&list, &none)), (Value::Null, Value::Null));
    assert_eq!(counts(&listed(&list, &zero)), (json!(0), json!(0)));
    // Both keys are there, as null: the shape of a Visit does not change.
    let shown = listed(&list, &none);
    assert!(shown.as_object().unwrap().contains_key("smartphone_users"));
    assert!(shown.as_object().unwrap().contains_key("app_users"));

    let reviewed = app
        .post(
            &format!("/api/v1/campaigns/{c}/visits/{none}/review"),
            &world.leader1.1,
            &json!({"review": "verified"}),
        )
        .expect(200)
        .body;
    assert_eq!(reviewed["review"], "verified");
    assert_eq!(counts(&reviewed), (Value::Null, Value::Null));

    let ward = coverage(&app, &world.admin, c, &world.ward1);
    // Three households, all attempted; the no-smartphone and declined ones are reached,
    // counting 0 users each.
    assert_eq!(figures(&ward), [3, 3, 2, 0, 0]);
    assert_eq!(ward["coverage"], Value::Null);
    assert_verified(&app);
}

fn progress_dates_outside_the_years_1_to_9999_are_422(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    for query in [
        "to=-262143-01-01",
        "to=+262142-12-31",
        "from=-262143-01-01&to=-262143-01-02",
        "to=0000-12-31",
        "from=0000-12-31&to=0001-01-01",
        "from=9999-12-31&to=+10000-01-01",
        "to=+10000-01-01",
        "from=+10000-01-01",
    ] {
        app.get(
            &format!("/api/v1/campaigns/{c}/progress?{query}"),
            &world.admin,
        )
        .expect_problem(422, "validation");
    }
    // The edges of the range are fine.
    for (query, dates) in [
        (
            "from=0001-01-01&to=0001-01-02",
            ["0001-01-01", "0001-01-02"],
        ),
        (
            "from=9999-12-30&to=9999-12-31",
            ["9999-12-30", "9999-12-31"],
        ),
    ] {
        let body = app
            .get(
                &format!("/api/v1/campaigns/{c}/progress?{query}"),
                &world.admin,
            )
            .expect(200)
            .body;
        let got: Vec<&str> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["date"].as_str().unwrap())
            .collect();
        assert_eq!(got, dates, "{query}");
    }
    // Only `to` at the first date: the default `from` (starts_on, 2020) is after it.
    app.get(
        &format!("/api/v1/campaigns/{c}/progress?to=0001-01-01"),
        &world.admin,
    )
    .expect_problem(422, "validation");
}

fn campaign_dates_outside_the_years_1_to_9999_are_422(app: TestApp) {
    let world = World::build(&app);
    let new = |starts_on: &str, deadline: &str| {
        app.post(
            "/api/v1/campaigns",
            &world.admin,
            &json!({"name": "Chiến dịch", "area_id": world.province, "target_ratio": 0.6,
                    "starts_on": starts_on, "deadline": deadline}),
        )
    };
    for (starts_on, deadline) in [
        ("-0001-12-31", "2020-08-20"),
        ("0000-06-01", "2020-08-20"),
        ("-262143-01-01", "2020-08-20"),
        ("2020-08-17", "+10000-01-01"),
        ("2020-08-17", "+262142-12-31"),
    ] {
        new(starts_on, deadline).expect_problem(422, "validation");
    }
    let edge = new("0001-01-01", "9999-12-31").expect(201).body;
    assert_eq!(edge["starts_on"], "0001-01-01");
    assert_eq!(edge["deadline"], "9999-12-31");
    // Its progress answers: the default range is the last 366 days up to today.
    let id = edge["id"].as_str().unwrap();
    let body = app
        .get(&format!("/api/v1/campaigns/{id}/progress"), &world.admin)
        .expect(200)
        .body;
    assert_eq!(body["items"].as_array().unwrap().len(), 366);
}

fn a_volunteer_filtering_visits_outside_its_ward_gets_403(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let s = &world.street1;
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(s, "1");
    let mine = new_id();
    let changes = [
        household(&house, s, &[("house_number", json!("1"))], &clock.next()),
        visit(
            &mine,
            s,
            &house,
            &knock("installed_now", "2026-11-20T09:00:00+07:00", 2, 1),
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "phone-lan", &changes),
        ["applied", "applied"]
    );
    let token = &world.volunteer1.1;
    let list = |query: String| app.get(&format!("/api/v1/campaigns/{c}/visits?{query}"), token);
    // Known ids outside its ward: another ward, a district holding its ward, a street of
    // another ward.
    for query in [
        format!("ward_id={}", world.ward2),
        format!("ward_id={}", world.ward3),
        format!("ward_id={}", world.district1),
        format!("ward_id={}", world.province),
        format!("street_id={}", world.street3),
        format!("street_id={}", world.street4),
        format!("ward_id={}&street_id={}", world.ward1, world.street3),
    ] {
        list(query).expect_problem(403, "forbidden");
    }
    // Unknown ids are 404 and malformed ones 422, as for everyone.
    list(format!("ward_id={}", new_id())).expect_problem(404, "not_found");
    list(format!("street_id={}", new_id())).expect_problem(404, "not_found");
    list("ward_id=nope".to_owned()).expect_problem(422, "validation");
    // Its own ward and its ward's streets (assigned or not) filter its own visits.
    assert_eq!(
        ids(&list(format!("ward_id={}", world.ward1)).expect(200).body),
        vec![mine.clone()]
    );
    assert_eq!(
        ids(&list(format!("street_id={s}")).expect(200).body),
        vec![mine.clone()]
    );
    assert!(ids(&list(format!("street_id={}", world.street2))
        .expect(200)
        .body)
    .is_empty());
}

crate::both_backends!(
    a_count_never_written_is_null_in_a_visit_and_zero_in_coverage,
    progress_dates_outside_the_years_1_to_9999_are_422,
    campaign_dates_outside_the_years_1_to_9999_are_422,
    a_volunteer_filtering_visits_outside_its_ward_gets_403,
);
