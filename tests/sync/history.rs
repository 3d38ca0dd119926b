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

/// 20,000 history rows of one visit (issue: one answer of 13.6 MB) page in order, each
/// entry once, with tokens that only this server gives and only for this visit.
fn a_long_history_pages_in_order_and_its_tokens_are_checked(app: TestApp) {
    let world = World::build(&app);
    let c = &world.campaign;
    let house = house_id(&world.street1, "1");
    let v = new_id();
    let t = now_ms() - 600_000;
    let creation = [
        household(
            &house,
            &world.street1,
            &[("house_number", json!("1"))],
            &hlc(t, 0, "p"),
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &knock("declined", "2026-11-28T09:00:00+07:00", 3, 0),
            &hlc(t, 0, "p"),
        ),
    ];
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "p", &creation),
        ["applied", "applied"]
    );
    const NOTES: u16 = 20_000;
    for batch in 0..NOTES / 1000 {
        let changes: Vec<Value> = (1..=1000)
            .map(|i| {
                let n = batch * 1000 + i;
                let note = json!(format!("n{n}"));
                visit(
                    &v,
                    &world.street1,
                    &house,
                    &[("note", note)],
                    &hlc(t, n, "p"),
                )
            })
            .collect();
        let statuses = push(&app, &world.volunteer1.1, c, "p", &changes);
        assert!(statuses.iter().all(|s| s == "applied"), "batch {batch}");
    }

    // The default page is 100 entries with a token for the rest.
    let first = app
        .get(
            &format!("/api/v1/campaigns/{c}/visits/{v}/history"),
            &world.admin,
        )
        .expect(200)
        .body;
    assert_eq!(first["items"].as_array().unwrap().len(), 100);
    let token = first["next_page_token"].as_str().unwrap().to_owned();

    let pages = history_pages(&app, &world.admin, c, &v, 1000);
    assert_eq!(pages.len(), 21, "20,004 entries in pages of 1000");
    assert!(pages.iter().all(|p| p.len() <= 1000));
    let all: Vec<Value> = pages.into_iter().flatten().collect();
    assert_eq!(all.len(), 4 + usize::from(NOTES));
    let notes: Vec<&str> = all
        .iter()
        .filter(|e| e["field"] == "note")
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=NOTES).map(|n| format!("n{n}")).collect();
    assert_eq!(notes, expected, "oldest first, each entry once");
    let won: Vec<&Value> = all
        .iter()
        .filter(|e| e["field"] == "note" && e["won"] == true)
        .collect();
    assert_eq!(won.len(), 1);
    assert_eq!(won[0]["value"], json!(format!("n{NOTES}")));
    // The volunteer pages its own visit's history the same way.
    assert_eq!(history(&app, &world.volunteer1.1, c, &v), all);

    // Tokens: made up, altered, or taken to another visit's history are 422; so is a
    // page size outside 1–1000.
    let other = new_id();
    let knock2 = visit(
        &other,
        &world.street1,
        &house,
        &knock("not_home", "2026-11-28T10:00:00+07:00", 0, 0),
        &hlc(t + 1, 0, "p"),
    );
    assert_eq!(
        push(&app, &world.volunteer1.1, c, "p", &[knock2]),
        ["applied"]
    );
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 3;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for (visit_id, query) in [
        (&v, "page_token=garbage".to_owned()),
        (&v, format!("page_token={altered}")),
        (&other, format!("page_token={token}")),
        (&v, "page_size=0".to_owned()),
        (&v, "page_size=1001".to_owned()),
        (&v, "page_size=ten".to_owned()),
    ] {
        app.get(
            &format!("/api/v1/campaigns/{c}/visits/{visit_id}/history?{query}"),
            &world.admin,
        )
        .expect_problem(422, "validation");
    }
    // A visit-list token is not a history token either.
    let list = visits(&app, &world.admin, c, "page_size=1");
    let list_token = list["next_page_token"].as_str().unwrap();
    app.get(
        &format!("/api/v1/campaigns/{c}/visits/{v}/history?page_token={list_token}"),
        &world.admin,
    )
    .expect_problem(422, "validation");
    // And the right token still works.
    let second = app
        .get(
            &format!("/api/v1/campaigns/{c}/visits/{v}/history?page_token={token}"),
            &world.admin,
        )
        .expect(200)
        .body;
    assert_eq!(second["items"][0], all[100]);
}

crate::both_backends!(
    history_keeps_every_distinct_value_once_oldest_first,
    a_long_history_pages_in_order_and_its_tokens_are_checked
);
