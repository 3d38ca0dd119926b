//! Visit history (contract §8, §12): every distinct pushed value once, won or lost, oldest
//! first.

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

fn history_keeps_every_distinct_value_once_oldest_first(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let house = house_id(&world.street1, "1");
    let v = new_id();
    let t = now_ms() - 120_000;
    let (h0, h1, h2, h3) = (
        hlc(t, 0, "phone-lan"),
        hlc(t, 1, "phone-lan"),
        hlc(t, 2, "phone-lan"),
        hlc(t + 1, 0, "tablet"),
    );
    let create = visit(
        &v,
        &world.street1,
        &house,
        &knock("declined", "2026-11-28T09:00:00+07:00", 3, 0),
        &h1,
    );
    let first = [
        household(&house, &world.street1, &[("house_number", json!("1"))], &h0),
        create.clone(),
    ];
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "phone-lan", &first),
        ["applied", "applied"]
    );
    let after_create = history(&app, &world.volunteer1.1, c, &v);
    assert_eq!(after_create.len(), 4);
    for entry in &after_create {
        assert_eq!(entry["hlc"], json!(h1));
        assert_eq!(entry["device_id"], "phone-lan");
        assert_eq!(entry["user_id"], json!(world.volunteer1.0));
        assert_eq!(entry["won"], json!(true));
        chrono::DateTime::parse_from_rfc3339(entry["received_at"].as_str().unwrap()).unwrap();
    }
    let mut fields: Vec<&str> = after_create
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["app_users", "outcome", "smartphone_users", "visited_at"]
    );

    // An identical re-send adds nothing, from any device.
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "other", &[create]),
        ["unchanged"]
    );
    assert_eq!(history(&app, &world.volunteer1.1, c, &v), after_create);
    let without_won = |entries: &[Value]| -> Vec<Value> {
        entries
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.as_object_mut().unwrap().remove("won");
                e
            })
            .collect()
    };

    // A newer note, then an older one (lost), then a clearing with null (newest).
    let edits = [
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("newer")), ("app_users", json!(2))],
            &h3,
        ),
        visit(&v, &world.street1, &house, &[("note", json!("older"))], &h2),
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", Value::Null)],
            &hlc(t + 2, 0, "phone-lan"),
        ),
    ];
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "phone-lan", &edits),
        ["applied", "unchanged", "applied"]
    );
    let entries = history(&app, &world.admin, c, &v);
    assert_eq!(entries.len(), 8);
    assert_eq!(without_won(&entries[..4]), without_won(&after_create));
    let rest: Vec<(String, Value, String, bool)> = entries[4..]
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["value"].clone(),
                e["hlc"].as_str().unwrap().to_owned(),
                e["won"].as_bool().unwrap(),
            )
        })
        .collect();
    let received: Vec<&str> = entries
        .iter()
        .map(|e| e["received_at"].as_str().unwrap())
        .collect();
    let mut sorted = received.clone();
    sorted.sort();
    assert_eq!(received, sorted, "oldest received_at first");
    // Within one push, the change order; within a change, field order does not matter.
    let mut first_change = rest[..2].to_vec();
    first_change.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        first_change,
        [
            ("app_users".into(), json!(2), h3.clone(), true),
            ("note".into(), json!("newer"), h3.clone(), false)
        ]
    );
    assert_eq!(rest[2], ("note".into(), json!("older"), h2, false));
    assert_eq!(
        rest[3],
        ("note".into(), Value::Null, hlc(t + 2, 0, "phone-lan"), true)
    );
    // The first app_users lost to the newer one.
    let first_app = entries
        .iter()
        .find(|e| e["field"] == "app_users" && e["value"] == json!(0))
        .unwrap();
    assert_eq!(first_app["won"], json!(false));

    // Two devices writing the same value with different HLCs: two entries.
    let again = visit(
        &v,
        &world.street1,
        &house,
        &[("app_users", json!(2))],
        &hlc(t + 3, 0, "phone-lan"),
    );
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "phone-lan", &[again]),
        ["applied"]
    );
    let entries = history(&app, &world.admin, c, &v);
    let twos: Vec<bool> = entries
        .iter()
        .filter(|e| e["field"] == "app_users" && e["value"] == json!(2))
        .map(|e| e["won"].as_bool().unwrap())
        .collect();
    assert_eq!(twos, [false, true]);

    // 404: unknown, malformed, a household, another campaign.
    for id in [new_id(), "nope".to_owned(), house.clone()] {
        app.get(
            &format!("/api/v1/campaigns/{c}/visits/{id}/history"),
            &world.admin,
        )
        .expect_problem(404, "not_found");
    }
    let other = campaign(
        &app,
        &world,
        &world.province,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    app.get(
        &format!("/api/v1/campaigns/{other}/visits/{v}/history"),
        &world.admin,
    )
    .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/campaigns/{c}/visits/{v}/history"),
        &world.supervisor_d2.1,
    )
    .expect_problem(403, "forbidden");
    history(&app, &world.supervisor_d1.1, c, &v);
    history(&app, &world.leader1.1, c, &v);
    app.get(
        &format!("/api/v1/campaigns/{c}/visits/{v}/history"),
        &world.volunteer2.1,
    )
    .expect_problem(403, "forbidden");
    assert_verified(&app);
}

crate::both_backends!(history_keeps_every_distinct_value_once_oldest_first);
