//! The review endpoint (contract §8): a server-stamped field change that phones pull, that
//! counts in coverage and history, and who may call it.

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

/// A house with one visit by volunteer 1 (3 smartphone users, 2 with the app).
fn seed(app: &TestApp, world: &World) -> (String, String) {
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "12/5A");
    let v = new_id();
    let changes = [
        household(
            &house,
            &world.street1,
            &[("house_number", json!("12/5A"))],
            &clock.next(),
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &knock("installed_now", "2026-11-28T09:30:00+07:00", 3, 2),
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(
            app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &changes
        ),
        ["applied", "applied"]
    );
    (house, v)
}

fn review_path(world: &World, v: &str) -> String {
    format!("/api/v1/campaigns/{}/visits/{v}/review", world.campaign)
}

fn a_review_is_a_server_stamped_change_that_phones_pull(app: TestApp) {
    let world = World::build(&app);
    let (house, v) = seed(&app, &world);
    let phone = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    let before = app
        .pull(
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &json!({}),
            0,
        )
        .expect(200)
        .body;
    let server_before: sync_protocol::Hlc = before["server_hlc"].as_str().unwrap().parse().unwrap();

    let resp = app
        .post(
            &review_path(&world, &v),
            &world.leader1.1,
            &json!({"review": "verified", "note": "đã xác minh"}),
        )
        .expect(200);
    assert_eq!(
        resp.body,
        json!({"id": v, "street_id": world.street1, "household_id": house, "house_number": "12/5A",
               "volunteer_id": world.volunteer1.0, "outcome": "installed_now", "smartphone_users": 3,
               "app_users": 2, "visited_at": "2026-11-28T09:30:00+07:00", "note": null,
               "review": "verified", "review_note": "đã xác minh", "deleted": false, "conflict": false})
    );

    // The volunteer's next pull brings the verdict, stamped by the server.
    let next = pull_from(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &phone.cursors,
        100,
    );
    assert_eq!(next.records.len(), 1);
    let fields = &next.records[&v]["fields"];
    assert_eq!(fields["review"]["value"], "verified");
    assert_eq!(fields["review_note"]["value"], "đã xác minh");
    let stamp: sync_protocol::Hlc = fields["review"]["hlc"].as_str().unwrap().parse().unwrap();
    assert_eq!(stamp.node(), "server");
    assert!(stamp > server_before);
    assert_eq!(fields["review_note"]["hlc"], fields["review"]["hlc"]);
    assert_eq!(fields["outcome"], phone.records[&v]["fields"]["outcome"]);

    // History: the reviewer's user id and device "server".
    let entries = history(&app, &world.leader1.1, &world.campaign, &v);
    let review: Vec<&Value> = entries
        .iter()
        .filter(|e| e["field"] == "review" || e["field"] == "review_note")
        .collect();
    assert_eq!(review.len(), 2);
    for entry in review {
        assert_eq!(entry["device_id"], "server");
        assert_eq!(entry["user_id"], json!(world.leader1.0));
        assert_eq!(entry["won"], json!(true));
    }
    // The server's stamps do not make a conflict.
    let list = visits(&app, &world.admin, &world.campaign, "");
    assert_eq!(list["items"][0]["conflict"], json!(false));

    // An admin reviews too; a later review wins.
    let resp = app
        .post(
            &review_path(&world, &v),
            &world.admin,
            &json!({"review": "rejected"}),
        )
        .expect(200);
    assert_eq!(resp.body["review"], "rejected");
    assert_eq!(
        resp.body["review_note"], "đã xác minh",
        "a review without a note keeps the note"
    );
    let resp = app
        .post(
            &review_path(&world, &v),
            &world.admin,
            &json!({"review": "rejected", "note": null}),
        )
        .expect(200);
    assert_eq!(
        resp.body["review_note"],
        Value::Null,
        "a null note clears it"
    );
    let state = pull_from(
        &app,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &next.cursors,
        100,
    )
    .states();
    assert_eq!(state[&v]["review_note"]["value"], Value::Null);
    assert_eq!(state[&v]["review"]["value"], "rejected");
    assert_verified(&app);
}

fn rejected_visits_leave_coverage(app: TestApp) {
    let world = World::build(&app);
    let (house, v) = seed(&app, &world);
    let cover = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 3, 2]);
    app.post(
        &review_path(&world, &v),
        &world.leader1.1,
        &json!({"review": "rejected", "note": "không có nhà"}),
    )
    .expect(200);
    let cover = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    assert_eq!(
        figures(&cover),
        [1, 1, 0, 0, 0],
        "attempted but not reached"
    );
    assert_eq!(cover["coverage"], Value::Null);
    assert_eq!(
        cover["last_visit_at"], "2026-11-28T09:30:00+07:00",
        "a rejected visit is still a visit"
    );
    assert_verified(&app);

    // An older conclusive visit takes over while the latest is rejected.
    let older = new_id();
    let mut clock = Ticker::new("phone-minh");
    assert_eq!(
        push(
            &app,
            &world.volunteer2.1,
            &world.campaign,
            "phone-minh",
            &[visit(
                &older,
                &world.street1,
                &house,
                &knock("declined", "2026-11-27T09:30:00+07:00", 4, 1),
                &clock.next()
            )]
        ),
        ["applied"]
    );
    let cover = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 4, 1]);
    app.post(
        &review_path(&world, &v),
        &world.leader1.1,
        &json!({"review": "verified"}),
    )
    .expect(200);
    let cover = coverage(&app, &world.leader1.1, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [1, 1, 1, 3, 2]);
    assert_verified(&app);
}

fn only_ward_leaders_and_admins_review_in_their_scope(app: TestApp) {
    let world = World::build(&app);
    let (house, v) = seed(&app, &world);
    let body = json!({"review": "verified"});
    for token in [
        &world.volunteer1.1,
        &world.supervisor_p.1,
        &world.supervisor_d1.1,
    ] {
        app.post(&review_path(&world, &v), token, &body)
            .expect_problem(403, "forbidden");
    }
    app.post(&review_path(&world, &v), &world.leader2.1, &body)
        .expect_problem(403, "forbidden");
    app.post(&review_path(&world, &new_id()), &world.leader1.1, &body)
        .expect_problem(404, "not_found");
    app.post(&review_path(&world, "nope"), &world.leader1.1, &body)
        .expect_problem(404, "not_found");
    // A household id is not a visit.
    app.post(&review_path(&world, &house), &world.leader1.1, &body)
        .expect_problem(404, "not_found");
    // A visit of this campaign under another campaign's path is unknown there.
    let other = campaign(
        &app,
        &world,
        &world.province,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    app.post(
        &format!("/api/v1/campaigns/{other}/visits/{v}/review"),
        &world.leader1.1,
        &body,
    )
    .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/campaigns/{}/visits/{v}/review", new_id()),
        &world.leader1.1,
        &body,
    )
    .expect_problem(404, "not_found");
    for bad in [
        json!({"review": "pending"}),
        json!({"review": "approved"}),
        json!({}),
        json!({"review": "verified", "note": "x".repeat(501)}),
        json!({"review": "verified", "note": 5}),
    ] {
        app.post(&review_path(&world, &v), &world.leader1.1, &bad)
            .expect_problem(422, "validation");
    }
    app.send(
        "POST",
        &review_path(&world, &v),
        Some(&world.leader1.1),
        Some("application/json"),
        Some(b"{"),
    )
    .expect_problem(400, "invalid_json");
    // Nothing of that changed the visit.
    let list = visits(&app, &world.admin, &world.campaign, "");
    assert_eq!(list["items"][0]["review"], "pending");
    assert_eq!(list["items"][0]["review_note"], Value::Null);
    let entries = history(&app, &world.admin, &world.campaign, &v);
    assert!(entries.iter().all(|e| e["field"] != "review"));
    // A note of exactly 500 characters is fine.
    let resp = app
        .post(
            &review_path(&world, &v),
            &world.leader1.1,
            &json!({"review": "verified", "note": "ễ".repeat(500)}),
        )
        .expect(200);
    assert_eq!(
        resp.body["review_note"].as_str().unwrap().chars().count(),
        500
    );
    assert_verified(&app);
}

crate::both_backends!(
    a_review_is_a_server_stamped_change_that_phones_pull,
    rejected_visits_leave_coverage,
    only_ward_leaders_and_admins_review_in_their_scope,
);
