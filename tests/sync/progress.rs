//! Progress (contract §9, §12): end-of-day figures per local date and `projected_date`,
//! with visits dated on chosen past days and the expected dates worked out by hand.

use chrono::{Days, NaiveDate};
use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive()
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// 10:00 in Vietnam on a date.
fn at_ten(date: NaiveDate) -> String {
    format!("{date}T10:00:00+07:00")
}

fn progress(app: &TestApp, token: &str, campaign: &str, query: &str) -> Value {
    app.get(
        &format!("/api/v1/campaigns/{campaign}/progress?{query}"),
        token,
    )
    .expect(200)
    .body
}

/// (date, reached, smartphone users, app users, coverage) of each item.
fn rows(body: &Value) -> Vec<(String, i64, i64, i64, Value)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["date"].as_str().unwrap().to_owned(),
                i["households_reached"].as_i64().unwrap(),
                i["smartphone_users"].as_i64().unwrap(),
                i["app_users"].as_i64().unwrap(),
                i["coverage"].clone(),
            )
        })
        .collect()
}

fn progress_follows_local_dates_and_projects_the_target(app: TestApp) {
    let world = World::build(&app);
    let start = days_ago(10);
    let c = campaign(
        &app,
        &world,
        &world.province,
        &start.to_string(),
        &today().checked_add_days(Days::new(30)).unwrap().to_string(),
        0.6,
    );
    assign(&app, &world, &c, &world.street1, &world.volunteer1.0);
    let token = &world.volunteer1.1;
    let mut clock = Ticker::new("phone-lan");
    let s = &world.street1;
    let (a, b, cc, d, e) = (
        house_id(s, "A"),
        house_id(s, "B"),
        house_id(s, "C"),
        house_id(s, "D"),
        house_id(s, "E"),
    );
    let revisit = new_id();
    // The revisit is written in UTC: 20:00Z the day before is 03:00 on day -2 in Vietnam.
    let revisit_at = format!("{}T20:00:00Z", days_ago(3));
    let changes = [
        household(&a, s, &[("house_number", json!("A"))], &clock.next()),
        household(&b, s, &[("house_number", json!("B"))], &clock.next()),
        household(&cc, s, &[("house_number", json!("C"))], &clock.next()),
        household(&d, s, &[("house_number", json!("D"))], &clock.next()),
        household(&e, s, &[("house_number", json!("E"))], &clock.next()),
        // day -6: A 1/4
        visit(
            &new_id(),
            s,
            &a,
            &knock("installed_now", &at_ten(days_ago(6)), 4, 1),
            &clock.next(),
        ),
        // day -4: B 0/4, C not home
        visit(
            &new_id(),
            s,
            &b,
            &knock("declined", &at_ten(days_ago(4)), 4, 0),
            &clock.next(),
        ),
        visit(
            &new_id(),
            s,
            &cc,
            &knock("not_home", &at_ten(days_ago(4)), 0, 0)[..2],
            &clock.next(),
        ),
        // day -2: A again, 3/4
        visit(
            &revisit,
            s,
            &a,
            &knock("installed_now", &revisit_at, 4, 3),
            &clock.next(),
        ),
        // day -1: only a deleted visit, and a visit on a house that is deleted: no visit date
        visit(
            &new_id(),
            s,
            &d,
            &[
                knock("installed_now", &at_ten(days_ago(1)), 9, 9),
                vec![("deleted", json!(true))],
            ]
            .concat(),
            &clock.next(),
        ),
        visit(
            &new_id(),
            s,
            &e,
            &knock("installed_now", &at_ten(days_ago(1)), 10, 10),
            &clock.next(),
        ),
        household(&e, s, &[("deleted", json!(true))], &clock.next()),
    ];
    let results = push(&app, token, &c, "phone-lan", &changes);
    assert!(results.iter().all(|r| r == "applied"), "{results:?}");

    let body = progress(
        &app,
        token,
        &c,
        &format!(
            "area_id={}&from={}&to={}",
            world.ward1,
            days_ago(7),
            today()
        ),
    );
    let q = |n: u64| days_ago(n).to_string();
    assert_eq!(
        rows(&body),
        [
            (q(7), 0, 0, 0, Value::Null),
            (q(6), 1, 4, 1, json!(0.25)),
            (q(5), 1, 4, 1, json!(0.25)),
            (q(4), 2, 8, 1, json!(0.125)),
            (q(3), 2, 8, 1, json!(0.125)),
            (q(2), 2, 8, 3, json!(0.375)),
            (q(1), 2, 8, 3, json!(0.375)),
            (q(0), 2, 8, 3, json!(0.375)),
        ]
    );
    assert_eq!(body["target_ratio"], json!(0.6));
    assert_eq!(
        body["deadline"],
        json!(today().checked_add_days(Days::new(30)).unwrap().to_string())
    );
    // Visit dates: -6, -4, -2 (day -1 holds nothing that counts). Gains: 0.25 − 0 (null
    // counts 0), 0.125 − 0.25, 0.375 − 0.125: mean 0.125. 0.375 + 0.125 n ≥ 0.6 from n = 2.
    assert_eq!(
        body["projected_date"],
        json!(today().checked_add_days(Days::new(2)).unwrap().to_string())
    );
    // Defaults: starts_on .. today; the campaign's area.
    let default = progress(&app, &world.admin, &c, "");
    assert_eq!(default["items"].as_array().unwrap().len(), 11);
    assert_eq!(default["items"][0]["date"], json!(start.to_string()));
    assert_eq!(default["projected_date"], body["projected_date"]);

    // Today's review applies to every day: the revisit rejected, A counts 1/4 throughout.
    app.post(
        &format!("/api/v1/campaigns/{c}/visits/{revisit}/review"),
        &world.leader1.1,
        &json!({"review": "rejected"}),
    )
    .expect(200);
    let body = progress(
        &app,
        token,
        &c,
        &format!(
            "area_id={}&from={}&to={}",
            world.ward1,
            days_ago(2),
            today()
        ),
    );
    assert_eq!(
        rows(&body),
        [
            (q(2), 2, 8, 1, json!(0.125)),
            (q(1), 2, 8, 1, json!(0.125)),
            (q(0), 2, 8, 1, json!(0.125))
        ]
    );
    // Day -2 still holds a visit (rejected, not deleted). Gains 0.25, −0.125, 0: mean
    // 0.125/3. 0.125 + n × 0.041666… ≥ 0.6 from n = 12 (n = 11 gives 0.5833…).
    assert_eq!(
        body["projected_date"],
        json!(today().checked_add_days(Days::new(12)).unwrap().to_string())
    );

    // Met since yesterday: a big household on day -1 makes 13/20 = 0.65 on days -1 and 0.
    let g = house_id(s, "G");
    let big = [
        household(&g, s, &[("house_number", json!("G"))], &clock.next()),
        visit(
            &new_id(),
            s,
            &g,
            &knock("already_installed", &at_ten(days_ago(1)), 12, 12),
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(&app, token, &c, "phone-lan", &big),
        ["applied", "applied"]
    );
    let body = progress(
        &app,
        token,
        &c,
        &format!(
            "area_id={}&from={}&to={}",
            world.ward1,
            days_ago(2),
            today()
        ),
    );
    assert_eq!(rows(&body)[1], (q(1), 3, 20, 13, json!(0.65)));
    assert_eq!(body["projected_date"], json!(q(1)));
    // An area without visits: null coverage every day, no projection.
    let empty = progress(
        &app,
        &world.admin,
        &c,
        &format!(
            "area_id={}&from={}&to={}",
            world.ward2,
            days_ago(1),
            today()
        ),
    );
    assert_eq!(
        rows(&empty),
        [(q(1), 0, 0, 0, Value::Null), (q(0), 0, 0, 0, Value::Null)]
    );
    assert_eq!(empty["projected_date"], Value::Null);
    // The province sums its wards the same way.
    let province = progress(
        &app,
        &world.admin,
        &c,
        &format!("from={}&to={}", today(), today()),
    );
    assert_eq!(rows(&province), [(q(0), 3, 20, 13, json!(0.65))]);
    assert_verified(&app);
}

fn a_falling_or_flat_pace_projects_nothing(app: TestApp) {
    let world = World::build(&app);
    let c = campaign(
        &app,
        &world,
        &world.province,
        &days_ago(5).to_string(),
        &today().to_string(),
        0.6,
    );
    let token = &world.leader1.1;
    let s = &world.street1;
    let mut clock = Ticker::new("phone-hoa");
    let (a, b) = (house_id(s, "A"), house_id(s, "B"));
    // Day -5: 2/4 = 0.5; day -3: 2/8 = 0.25. Gains 0.5 and −0.25: mean 0.125 > 0.
    let changes = [
        household(&a, s, &[("house_number", json!("A"))], &clock.next()),
        household(&b, s, &[("house_number", json!("B"))], &clock.next()),
        visit(
            &new_id(),
            s,
            &a,
            &knock("installed_now", &at_ten(days_ago(5)), 4, 2),
            &clock.next(),
        ),
        visit(
            &new_id(),
            s,
            &b,
            &knock("declined", &at_ten(days_ago(3)), 4, 0),
            &clock.next(),
        ),
    ];
    assert_eq!(push(&app, token, &c, "phone-hoa", &changes), ["applied"; 4]);
    let body = progress(&app, token, &c, &format!("area_id={}", world.ward1));
    // 0.25 + 0.125 n ≥ 0.6 from n = 3 (n = 2 gives 0.5).
    assert_eq!(
        body["projected_date"],
        json!(today().checked_add_days(Days::new(3)).unwrap().to_string())
    );
    // Two more dates, day -1 at 2/12 and today at 2/16: the last three gains are
    // 0.25 − 0.5, 1/6 − 0.25 and 0.125 − 1/6, all falling: no projection.
    let (h, k) = (house_id(s, "H"), house_id(s, "K"));
    let now = chrono::Utc::now().to_rfc3339();
    let more = [
        household(&h, s, &[("house_number", json!("H"))], &clock.next()),
        household(&k, s, &[("house_number", json!("K"))], &clock.next()),
        visit(
            &new_id(),
            s,
            &h,
            &knock("declined", &at_ten(days_ago(1)), 4, 0),
            &clock.next(),
        ),
        visit(
            &new_id(),
            s,
            &k,
            &knock("declined", &now, 4, 0),
            &clock.next(),
        ),
    ];
    assert_eq!(push(&app, token, &c, "phone-hoa", &more), ["applied"; 4]);
    let body = progress(&app, token, &c, &format!("area_id={}", world.ward1));
    assert_eq!(
        body["items"].as_array().unwrap().last().unwrap()["coverage"],
        json!(0.125)
    );
    assert_eq!(body["projected_date"], Value::Null);
    assert_verified(&app);
}

fn progress_ranges_are_checked(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let path = |q: &str| format!("/api/v1/campaigns/{c}/progress?{q}");
    // 366 dates are fine, 367 are not.
    let body = progress(&app, &world.admin, c, "from=2024-01-01&to=2024-12-31");
    assert_eq!(body["items"].as_array().unwrap().len(), 366);
    assert_eq!(body["projected_date"], Value::Null);
    app.get(&path("from=2024-01-01&to=2025-01-01"), &world.admin)
        .expect_problem(422, "validation");
    app.get(&path("from=2020-08-20&to=2020-08-19"), &world.admin)
        .expect_problem(422, "validation");
    app.get(&path("from=2020-08-32"), &world.admin)
        .expect_problem(422, "validation");
    app.get(&path("to=yesterday"), &world.admin)
        .expect_problem(422, "validation");
    // One day is fine.
    let one = progress(&app, &world.admin, c, "from=2020-08-18&to=2020-08-18");
    assert_eq!(
        rows(&one),
        [("2020-08-18".to_owned(), 0, 0, 0, Value::Null)]
    );
    // The world's campaign started in 2020: without parameters, its last 366 days.
    let default = progress(&app, &world.admin, c, "");
    let items = default["items"].as_array().unwrap();
    assert_eq!(items.len(), 366);
    assert_eq!(items.last().unwrap()["date"], json!(today().to_string()));
    // Only `from`: up to today, so too long here.
    app.get(&path("from=2020-08-17"), &world.admin)
        .expect_problem(422, "validation");
    let to = progress(&app, &world.admin, c, "to=2020-08-19");
    assert_eq!(to["items"].as_array().unwrap().len(), 3, "starts_on .. to");
    // Scope as for coverage.
    app.get(
        &path(&format!("area_id={}", world.ward1)),
        &world.volunteer1.1,
    )
    .expect(200);
    app.get(
        &path(&format!("area_id={}", world.ward2)),
        &world.volunteer1.1,
    )
    .expect_problem(403, "forbidden");
    app.get(
        &path(&format!("area_id={}", world.ward1)),
        &world.supervisor_d2.1,
    )
    .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/campaigns/{}/progress", new_id()),
        &world.admin,
    )
    .expect_problem(404, "not_found");
}

crate::both_backends!(
    progress_follows_local_dates_and_projects_the_target,
    a_falling_or_flat_pace_projects_nothing,
    progress_ranges_are_checked,
);
