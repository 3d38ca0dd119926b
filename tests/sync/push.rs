//! Push (contract §6, §7, §12): the example session, idempotence, LWW, tombstones,
//! deterministic household ids, batches taken in order, and whole-body refusals.

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

/// The push of EXAMPLES.md, on the world's street 1 by volunteer 1.
fn example_changes(world: &World) -> (String, String, Vec<Value>) {
    let house = house_id(&world.street1, "12/5A");
    let good = "01890a5d-ac96-774b-bcce-b302099a8057".to_owned();
    let now = now_ms() - 60_000;
    let changes = vec![
        household(
            &house,
            &world.street1,
            &[("house_number", json!("12/5A"))],
            &hlc(now, 0, "phone-lan"),
        ),
        visit(
            &good,
            &world.street1,
            &house,
            &knock("installed_now", "2020-08-18T09:30:00+07:00", 3, 2),
            &hlc(now, 1, "phone-lan"),
        ),
        visit(
            "01890a5d-ac96-774b-bcce-b302099a8058",
            &world.street1,
            &house,
            &knock("declined", "2020-08-18T09:40:00+07:00", 1, 2),
            &hlc(now, 2, "phone-lan"),
        ),
    ];
    (house, good, changes)
}

fn the_example_session_pushes_pulls_and_counts(app: TestApp) {
    let world = World::build(&app);
    let (house, good, changes) = example_changes(&world);
    let token = &world.volunteer1.1;
    let resp = app
        .push(token, &world.campaign, "phone-lan", &changes)
        .expect(200);
    assert_eq!(
        statuses(&resp),
        ["applied", "applied", "rejected:validation"]
    );
    let results = resp.body["results"].as_array().unwrap();
    assert_eq!(results[0]["id"], json!(house));
    assert_eq!(results[1]["id"], json!(good));
    assert_eq!(results[2]["id"], "01890a5d-ac96-774b-bcce-b302099a8058");
    assert!(results[2]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    let server_hlc: sync_protocol::Hlc = resp.body["server_hlc"].as_str().unwrap().parse().unwrap();
    assert_eq!(server_hlc.node(), "server");
    let pushed_max: sync_protocol::Hlc = changes[1]["fields"]["outcome"]["hlc"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        server_hlc > pushed_max,
        "the server clock stays above what it stored"
    );

    let pull = app
        .pull(token, &world.campaign, "phone-lan", &json!({}), 500)
        .expect(200)
        .body;
    assert_eq!(
        pull["buckets"],
        json!([{"street_id": world.street1, "ward_id": world.ward1,
                "code": "25741-H12", "name": "Hẻm 25741-H12"}])
    );
    assert_eq!(pull["dropped"], json!([]));
    let pulled = pull["changes"].as_array().unwrap();
    assert_eq!(pulled.len(), 2, "{pull}");
    assert_eq!(
        pulled[0],
        json!({"kind": "household", "id": house, "street_id": world.street1, "seq": 1,
               "fields": changes[0]["fields"]})
    );
    assert_eq!(
        pulled[1],
        json!({"kind": "visit", "id": good, "street_id": world.street1, "seq": 2,
               "household_id": house, "volunteer_id": world.volunteer1.0,
               "fields": changes[1]["fields"]})
    );
    assert_eq!(pull["cursors"], json!({ world.street1.clone(): 2 }));
    assert_eq!(pull["has_more"], json!(false));
    assert_eq!(pull["remaining"], json!(0));
    let pull_hlc: sync_protocol::Hlc = pull["server_hlc"].as_str().unwrap().parse().unwrap();
    assert!(pull_hlc > server_hlc);

    let ward = coverage(&app, token, &world.campaign, &world.ward1);
    assert_eq!(
        ward,
        json!({"area_id": world.ward1, "code": "25741", "name": "Phường Hiệp Thành",
               "level": "ward", "households_total": 1, "households_attempted": 1,
               "households_reached": 1, "smartphone_users": 3, "app_users": 2,
               "coverage": 2.0 / 3.0, "target_ratio": 0.6, "target_met": true,
               "last_visit_at": "2020-08-18T09:30:00+07:00", "children": []})
    );
    assert_verified(&app);
}

fn a_repushed_batch_changes_nothing(app: TestApp) {
    let world = World::build(&app);
    let (_, good, changes) = example_changes(&world);
    let token = &world.volunteer1.1;
    push(&app, token, &world.campaign, "phone-lan", &changes);
    let first = pull_all(&app, token, &world.campaign, "phone-lan", 500);
    let before = coverage(&app, &world.admin, &world.campaign, &world.province);
    let history_before = history(&app, &world.admin, &world.campaign, &good);

    // Again, and again with seq and volunteer_id echoed from the pull.
    let again = push(&app, token, &world.campaign, "phone-lan", &changes[..2]);
    assert_eq!(again, ["unchanged", "unchanged"]);
    let echoed: Vec<Value> = first.records.values().cloned().collect();
    let again = push(&app, token, &world.campaign, "phone-lan", &echoed);
    assert_eq!(again, ["unchanged", "unchanged"]);

    let later = pull_from(
        &app,
        token,
        &world.campaign,
        "phone-lan",
        &first.cursors,
        500,
    );
    assert!(later.records.is_empty(), "a re-send made new versions");
    assert_eq!(later.cursors, first.cursors);
    assert_eq!(
        coverage(&app, &world.admin, &world.campaign, &world.province),
        before
    );
    assert_eq!(
        history(&app, &world.admin, &world.campaign, &good),
        history_before
    );
    assert_verified(&app);
}

fn an_older_hlc_arriving_later_loses_but_stays_in_history(app: TestApp) {
    let world = World::build(&app);
    let token = &world.volunteer1.1;
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "7");
    let v = new_id();
    let created = clock.next();
    let old = clock.next();
    let new = clock.next();
    let changes = [
        household(
            &house,
            &world.street1,
            &[("house_number", json!("7"))],
            &created,
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &knock("declined", "2026-11-28T09:00:00+07:00", 2, 0),
            &created,
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("newer")), ("app_users", json!(2))],
            &new,
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("older")), ("app_users", json!(1))],
            &old,
        ),
        // An older change that also carries a field never written still applies.
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("older")), ("accuracy_m", json!(12.5))],
            &old,
        ),
    ];
    assert_eq!(
        push(&app, token, &world.campaign, "phone-lan", &changes),
        ["applied", "applied", "applied", "unchanged", "applied"]
    );
    let state = pull_all(&app, token, &world.campaign, "phone-lan", 100).states();
    assert_eq!(state[&v]["note"], json!({"value": "newer", "hlc": new}));
    assert_eq!(state[&v]["app_users"], json!({"value": 2, "hlc": new}));
    assert_eq!(state[&v]["accuracy_m"], json!({"value": 12.5, "hlc": old}));
    let entries = history(&app, token, &world.campaign, &v);
    let notes: Vec<(Value, bool)> = entries
        .iter()
        .filter(|e| e["field"] == "note")
        .map(|e| (e["value"].clone(), e["won"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        notes,
        [(json!("newer"), true), (json!("older"), false)],
        "{entries:?}"
    );
    let cover = coverage(&app, token, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 2, 2]);
    assert_verified(&app);
}

fn a_tombstone_is_not_resurrected_by_an_older_edit(app: TestApp) {
    let world = World::build(&app);
    let token = &world.volunteer1.1;
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "9");
    let v = new_id();
    let t0 = clock.next();
    let t_undelete_old = clock.next();
    let t_note_old = clock.next();
    let t_delete = clock.next();
    let setup = [
        household(&house, &world.street1, &[("house_number", json!("9"))], &t0),
        visit(
            &v,
            &world.street1,
            &house,
            &knock("installed_now", "2026-11-28T09:00:00+07:00", 4, 3),
            &t0,
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &[("deleted", json!(true))],
            &t_delete,
        ),
        household(
            &house,
            &world.street1,
            &[("deleted", json!(true))],
            &t_delete,
        ),
    ];
    assert_eq!(
        push(&app, token, &world.campaign, "phone-lan", &setup),
        ["applied"; 4]
    );
    let cover = coverage(&app, token, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [0, 0, 0, 0, 0]);
    assert_eq!(cover["last_visit_at"], Value::Null);

    let late = [
        visit(
            &v,
            &world.street1,
            &house,
            &[("deleted", json!(false))],
            &t_undelete_old,
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("gate is blue"))],
            &t_note_old,
        ),
        household(
            &house,
            &world.street1,
            &[("deleted", json!(false))],
            &t_undelete_old,
        ),
        // Re-adding the deleted house from a phone merges and leaves it deleted.
        household(
            &house,
            &world.street1,
            &[("house_number", json!("Số 9"))],
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(&app, token, &world.campaign, "phone-lan", &late),
        ["unchanged", "applied", "unchanged", "applied"]
    );
    let state = pull_all(&app, token, &world.campaign, "phone-lan", 100).states();
    assert_eq!(
        state[&v]["deleted"],
        json!({"value": true, "hlc": t_delete})
    );
    assert_eq!(state[&v]["note"]["value"], "gate is blue");
    assert_eq!(
        state[&house]["deleted"],
        json!({"value": true, "hlc": t_delete})
    );
    assert_eq!(state[&house]["house_number"]["value"], "Số 9");
    let cover = coverage(&app, token, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [0, 0, 0, 0, 0]);
    assert_verified(&app);

    // A newer un-delete of the house brings it back, its visit still deleted.
    let undelete = clock.next();
    assert_eq!(
        push(
            &app,
            token,
            &world.campaign,
            "phone-lan",
            &[household(
                &house,
                &world.street1,
                &[("deleted", json!(false))],
                &undelete
            )]
        ),
        ["applied"]
    );
    let cover = coverage(&app, token, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 0, 0, 0, 0]);
    assert_verified(&app);
}

fn two_phones_creating_the_same_house_offline_make_one_household(app: TestApp) {
    let world = World::build(&app);
    let lan = house_id(&world.street1, "12/5A");
    let minh = house_id(&world.street1, " Số 12/5a ");
    assert_eq!(lan, minh);
    let (v1, v2) = (new_id(), new_id());
    let t = now_ms() - 60_000;
    let first = [
        household(
            &lan,
            &world.street1,
            &[("house_number", json!("12/5A"))],
            &hlc(t, 0, "phone-lan"),
        ),
        visit(
            &v1,
            &world.street1,
            &lan,
            &knock("declined", "2026-11-28T09:00:00+07:00", 3, 0),
            &hlc(t, 1, "phone-lan"),
        ),
    ];
    let second = [
        household(
            &minh,
            &world.street1,
            &[("house_number", json!(" Số 12/5a "))],
            &hlc(t, 0, "phone-minh"),
        ),
        visit(
            &v2,
            &world.street1,
            &minh,
            &knock("installed_now", "2026-11-28T10:00:00+07:00", 3, 1),
            &hlc(t, 1, "phone-minh"),
        ),
    ];
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &first
        ),
        ["applied", "applied"]
    );
    // Same HLC ms and counter, node "phone-minh" > "phone-lan": Minh's house number wins.
    assert_eq!(
        push(
            &app,
            &world.volunteer2.1,
            &world.campaign,
            "phone-minh",
            &second
        ),
        ["applied", "applied"]
    );
    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    let households: Vec<&Value> = pulled
        .records
        .values()
        .filter(|r| r["kind"] == "household")
        .collect();
    assert_eq!(households.len(), 1);
    assert_eq!(
        households[0]["fields"]["house_number"]["value"],
        " Số 12/5a "
    );
    assert_eq!(pulled.records[&v1]["household_id"], json!(lan));
    assert_eq!(pulled.records[&v2]["household_id"], json!(lan));
    assert_eq!(
        pulled.records[&v2]["volunteer_id"],
        json!(world.volunteer2.0)
    );
    let cover = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    // The latest conclusive visit (Minh's, 10:00) gives the counts.
    assert_eq!(figures(&cover), [1, 1, 1, 3, 1]);
    assert_verified(&app);
}

fn a_household_created_early_in_a_batch_carries_a_visit_later_in_it(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "21");
    let (v, early) = (new_id(), new_id());
    let changes = [
        // Before the household: unknown_household (retryable), later the same visit works.
        visit(
            &early,
            &world.street1,
            &house,
            &knock("not_home", "2026-11-28T08:00:00+07:00", 0, 0),
            &clock.next(),
        ),
        household(
            &house,
            &world.street1,
            &[("house_number", json!("21"))],
            &clock.next(),
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &knock("already_installed", "2026-11-28T09:00:00+07:00", 2, 2),
            &clock.next(),
        ),
        // An edit of the visit created just before in the same batch.
        visit(
            &v,
            &world.street1,
            &house,
            &[("note", json!("chó dữ"))],
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &changes
        ),
        [
            "rejected:unknown_household",
            "applied",
            "applied",
            "applied"
        ]
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &changes[..1]
        ),
        ["applied"]
    );
    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    assert_eq!(pulled.records.len(), 3);
    // The household first, then the visits in the order they changed.
    let seqs: Vec<(String, i64)> = pulled
        .records
        .values()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    let seq = |id: &str| seqs.iter().find(|(i, _)| i == id).unwrap().1;
    assert!(seq(&house) < seq(&v) && seq(&v) < seq(&early));
    let cover = coverage(&app, &world.volunteer1.1, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 2, 2]);
    assert_eq!(cover["last_visit_at"], "2026-11-28T09:00:00+07:00");
    assert_verified(&app);
}

fn values_round_trip_exactly_as_pushed(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "３/1");
    let v = new_id();
    let t = clock.next();
    let note: String = "ễ".repeat(500);
    let changes = [
        household(
            &house,
            &world.street1,
            &[
                ("house_number", json!("３/1")),
                ("lat", json!(10.98)),
                ("lon", json!(106.65)),
                ("note", json!("cổng xanh")),
            ],
            &t,
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &[
                ("outcome", json!("no_smartphone")),
                ("visited_at", json!("2026-11-28T02:00:00.123456Z")),
                ("note", json!(note)),
                ("lat", json!(0.18181818181818182)),
                ("lon", json!(1e1)),
                ("accuracy_m", json!(10.50)),
            ],
            &t,
        ),
    ];
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &changes
        ),
        ["applied", "applied"]
    );
    let state = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100).states();
    assert_eq!(state[&house]["house_number"]["value"], "３/1");
    assert_eq!(state[&house]["lat"]["value"], json!(10.98));
    assert_eq!(
        state[&v]["visited_at"]["value"],
        "2026-11-28T02:00:00.123456Z"
    );
    assert_eq!(state[&v]["note"]["value"], json!(note));
    assert_eq!(
        state[&v]["lon"]["value"],
        json!(10),
        "integral numbers come back as integers"
    );
    // Parsed exactly, printed shortest: the same digits come back.
    let raw = app
        .pull(&world.volunteer1.1, &world.campaign, "raw", &json!({}), 100)
        .expect(200);
    assert!(
        raw.text.contains(r#""value":0.18181818181818182"#),
        "{}",
        raw.text
    );
    assert_eq!(state[&v]["accuracy_m"]["value"], json!(10.5));
    assert!(
        state[&v].get("review").is_none(),
        "pending is a default, not a write"
    );
    assert!(state[&v].get("deleted").is_none());
    let cover = coverage(&app, &world.volunteer1.1, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 0, 0]);
    assert_eq!(cover["coverage"], Value::Null);
    assert_eq!(cover["target_met"], json!(false));
    assert_eq!(cover["last_visit_at"], "2026-11-28T02:00:00.123456Z");
    assert_verified(&app);
}

fn whole_bodies_are_refused_for_what_no_change_can_be_blamed_on(app: TestApp) {
    let world = World::build(&app);
    let token = &world.volunteer1.1;
    let house = house_id(&world.street1, "1");
    let one = household(
        &house,
        &world.street1,
        &[("house_number", json!("1"))],
        &Ticker::new("p").next(),
    );

    let many = vec![one.clone(); 1001];
    app.push(token, &world.campaign, "p", &many)
        .expect_problem(413, "payload_too_large");
    let thousand = vec![one.clone(); 1000];
    let results = push(&app, token, &world.campaign, "p", &thousand);
    assert_eq!(results.len(), 1000);
    assert_eq!(results[0], "applied");
    assert!(results[1..].iter().all(|r| r == "unchanged"));

    let big_note = "x".repeat(3 * 1024 * 1024);
    let body = json!({"campaign_id": world.campaign, "device_id": "p", "changes": [
        household(&house, &world.street1, &[("note", json!(big_note))], &Ticker::new("p").next())]});
    app.post("/api/v1/sync/push", token, &body)
        .expect_problem(413, "payload_too_large");

    let bad = br#"{"campaign_id": "#;
    for path in ["/api/v1/sync/push", "/api/v1/sync/pull"] {
        app.send(
            "POST",
            path,
            Some(token),
            Some("application/json"),
            Some(bad),
        )
        .expect_problem(400, "invalid_json");
    }
    let wrong_type = serde_json::to_vec(
        &json!({"campaign_id": world.campaign, "device_id": "p", "changes": []}),
    )
    .unwrap();
    app.send(
        "POST",
        "/api/v1/sync/push",
        Some(token),
        Some("text/plain"),
        Some(&wrong_type),
    )
    .expect_problem(415, "unsupported_media_type");

    for device in [
        json!(""),
        json!("has space"),
        json!("x".repeat(65)),
        json!("đ"),
        json!(7),
        Value::Null,
    ] {
        app.post(
            "/api/v1/sync/push",
            token,
            &json!({"campaign_id": world.campaign, "device_id": device, "changes": [one]}),
        )
        .expect_problem(422, "validation");
        app.post(
            "/api/v1/sync/pull",
            token,
            &json!({"campaign_id": world.campaign, "device_id": device, "cursors": {}}),
        )
        .expect_problem(422, "validation");
    }
    for change in [json!([1]), json!("x"), json!(3), Value::Null] {
        app.push(token, &world.campaign, "p", &[one.clone(), change])
            .expect_problem(422, "validation");
    }
    app.post(
        "/api/v1/sync/push",
        token,
        &json!({"campaign_id": world.campaign, "device_id": "p"}),
    )
    .expect_problem(422, "validation");
    app.post("/api/v1/sync/push", token, &json!([]))
        .expect_problem(422, "validation");
    let huge = format!(
        r#"{{"campaign_id": "{}", "device_id": "p", "changes": [{{"kind": "household", "id": "{house}", "street_id": "{}", "fields": {{"lat": {{"value": 1e999, "hlc": "1795931793795-0000-p"}}}}}}]}}"#,
        world.campaign, world.street1
    );
    app.send(
        "POST",
        "/api/v1/sync/push",
        Some(token),
        Some("application/json"),
        Some(huge.as_bytes()),
    )
    .expect_problem(422, "validation");

    let unknown = new_id();
    app.push(token, &unknown, "p", std::slice::from_ref(&one))
        .expect_problem(404, "not_found");
    app.pull(token, &unknown, "p", &json!({}), 10)
        .expect_problem(404, "not_found");
    app.push(token, "not-a-uuid", "p", std::slice::from_ref(&one))
        .expect_problem(404, "not_found");

    // Roles: supervisors never push; admins and supervisors never pull.
    for supervisor in [&world.supervisor_d1.1, &world.supervisor_p.1] {
        app.push(supervisor, &world.campaign, "p", std::slice::from_ref(&one))
            .expect_problem(403, "forbidden");
        app.pull(supervisor, &world.campaign, "p", &json!({}), 10)
            .expect_problem(403, "forbidden");
    }
    app.pull(&world.admin, &world.campaign, "p", &json!({}), 10)
        .expect_problem(403, "forbidden");
    // The role is judged before the body and the campaign.
    app.send(
        "POST",
        "/api/v1/sync/push",
        Some(&world.supervisor_p.1),
        Some("application/json"),
        Some(bad),
    )
    .expect_problem(403, "forbidden");
    app.push(
        &world.supervisor_p.1,
        &unknown,
        "p",
        std::slice::from_ref(&one),
    )
    .expect_problem(403, "forbidden");
    app.send(
        "POST",
        "/api/v1/sync/push",
        None,
        Some("application/json"),
        Some(bad),
    )
    .expect_problem(401, "unauthorized");
    assert_verified(&app);
}

fn admins_push_anywhere_and_ward_leaders_on_their_wards_streets(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-x");
    let on = |street: &str, number: &str, hlc: &str| {
        household(
            &house_id(street, number),
            street,
            &[("house_number", json!(number))],
            hlc,
        )
    };
    let changes = [
        on(&world.street1, "1", &clock.next()),
        on(&world.street2, "1", &clock.next()),
        on(&world.street3, "1", &clock.next()),
        on(&world.street4, "1", &clock.next()),
    ];
    assert_eq!(
        push(&app, &world.admin, &world.campaign, "admin-pc", &changes),
        ["applied"; 4]
    );
    let mut clock = Ticker::new("phone-hoa");
    let changes = [
        on(&world.street1, "2", &clock.next()),
        on(&world.street2, "2", &clock.next()),
        on(&world.street3, "2", &clock.next()),
        on(&world.street4, "2", &clock.next()),
    ];
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            &world.campaign,
            "phone-hoa",
            &changes
        ),
        [
            "applied",
            "applied",
            "rejected:not_assigned",
            "rejected:not_assigned"
        ]
    );
    let cover = coverage(&app, &world.admin, &world.campaign, &world.province);
    assert_eq!(cover["households_total"], json!(6));
    assert_verified(&app);
}

fn applied_changes_survive_the_server_being_killed(app: TestApp) {
    let mut app = app;
    let world = World::build(&app);
    let (house, good, changes) = example_changes(&world);
    let resp = app
        .push(&world.volunteer1.1, &world.campaign, "phone-lan", &changes)
        .expect(200);
    let pushed_hlc: sync_protocol::Hlc = resp.body["server_hlc"].as_str().unwrap().parse().unwrap();
    let before = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    // SIGKILL right after the answer: no shutdown, no flush.
    app.server.kill();
    let restarted = crate::common::Server::start_on(&app.db, &app.server.bind(), &[]);
    app.reattach(restarted);
    let after = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    assert_eq!(after.states(), before.states());
    assert!(after.records.contains_key(&house) && after.records.contains_key(&good));
    let server: sync_protocol::Hlc = after.last["server_hlc"].as_str().unwrap().parse().unwrap();
    assert!(server > pushed_hlc, "the clock went back after a restart");
    let cover = coverage(&app, &world.volunteer1.1, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 3, 2]);
    // The same batch again is unchanged, and new seqs continue after the old ones.
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &changes[..2]
        ),
        ["unchanged", "unchanged"]
    );
    let mut clock = Ticker::new("phone-lan");
    clock.next();
    let edit = visit(
        &good,
        &world.street1,
        &house,
        &[("note", json!("sau khi khởi động lại"))],
        &hlc(now_ms(), 0, "phone-lan"),
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[edit]
        ),
        ["applied"]
    );
    let next = pull_from(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &before.cursors,
        100,
    );
    assert_eq!(next.records[&good]["seq"], json!(3));
    assert_verified(&app);
}

fn ids_in_any_case_and_extra_keys_are_accepted(app: TestApp) {
    let world = World::build(&app);
    let house = house_id(&world.street1, "4");
    let v = new_id();
    let mut clock = Ticker::new("phone-lan");
    let t = clock.next();
    let changes = [
        json!({"kind": "household", "id": house.to_uppercase(), "street_id": world.street1.to_uppercase(),
               "seq": 17, "volunteer_id": world.volunteer2.0, "extra": [1, 2],
               "fields": {"house_number": {"value": "4", "hlc": t, "comment": "ignored"}}}),
        json!({"kind": "visit", "id": v.to_uppercase(), "street_id": world.street1, "household_id": house.to_uppercase(),
               "fields": {"outcome": {"value": "declined", "hlc": clock.next()},
                          "visited_at": {"value": "2026-11-28T09:00:00+07:00", "hlc": clock.next()},
                          "smartphone_users": {"value": 2, "hlc": clock.next()},
                          "app_users": {"value": 0, "hlc": clock.next()}}}),
    ];
    let resp = app
        .push(&world.volunteer1.1, &world.campaign, "phone-lan", &changes)
        .expect(200);
    assert_eq!(statuses(&resp), ["applied", "applied"]);
    assert_eq!(
        resp.body["results"][0]["id"],
        json!(house.to_uppercase()),
        "ids are echoed as sent"
    );
    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    let ids: Vec<&String> = pulled.records.keys().collect();
    let mut want = vec![&house, &v];
    want.sort();
    assert_eq!(ids, want, "stored in lower case");
    assert_eq!(
        pulled.records[&v]["volunteer_id"],
        json!(world.volunteer1.0),
        "volunteer_id is the pusher"
    );
    assert_eq!(
        pulled.records[&house]["fields"]["house_number"],
        json!({"value": "4", "hlc": t})
    );
    // The lower-case id is the same record.
    let edit = visit(
        &v,
        &world.street1,
        &house,
        &[("note", json!("x"))],
        &clock.next(),
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[edit]
        ),
        ["applied"]
    );
    assert_verified(&app);
}

crate::both_backends!(
    the_example_session_pushes_pulls_and_counts,
    a_repushed_batch_changes_nothing,
    an_older_hlc_arriving_later_loses_but_stays_in_history,
    a_tombstone_is_not_resurrected_by_an_older_edit,
    two_phones_creating_the_same_house_offline_make_one_household,
    a_household_created_early_in_a_batch_carries_a_visit_later_in_it,
    values_round_trip_exactly_as_pushed,
    whole_bodies_are_refused_for_what_no_change_can_be_blamed_on,
    admins_push_anywhere_and_ward_leaders_on_their_wards_streets,
    applied_changes_survive_the_server_being_killed,
    ids_in_any_case_and_extra_keys_are_accepted,
);
