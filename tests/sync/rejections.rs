//! Every rejection code of a push through HTTP, its precedence (contract §12), and that one
//! bad change never blocks the others.

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

/// A house and a visit by volunteer 1 on street 1; returns (house, visit).
fn seed(app: &TestApp, world: &World, clock: &mut Ticker) -> (String, String) {
    let house = house_id(&world.street1, "5");
    let v = new_id();
    let changes = [
        household(
            &house,
            &world.street1,
            &[("house_number", json!("5"))],
            &clock.next(),
        ),
        visit(
            &v,
            &world.street1,
            &house,
            &knock("declined", "2026-11-28T09:00:00+07:00", 2, 0),
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

fn every_rejection_code_reaches_the_phone_and_bad_changes_block_nothing(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let (house, v) = seed(&app, &world, &mut clock);
    let s1 = world.street1.clone();
    let future = hlc(now_ms() + 10 * 60_000, 0, "phone-lan");
    let other_house = house_id(&world.street2, "5");
    let good_house = house_id(&s1, "6");
    let changes: Vec<(Value, &str)> = vec![
        // validation: app_users above smartphone_users in one change
        (
            visit(
                &new_id(),
                &s1,
                &house,
                &knock("installed_now", "2026-11-28T09:00:00+07:00", 1, 2),
                &clock.next(),
            ),
            "rejected:validation",
        ),
        // validation: an unknown field, a malformed HLC, a bad id, a bad kind, empty fields
        (
            visit(&v, &s1, &house, &[("colour", json!("red"))], &clock.next()),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("note", json!("x"))],
                "1795931793795-000A-phone",
            ),
            "rejected:validation",
        ),
        (
            household(
                "not-a-uuid",
                &s1,
                &[("house_number", json!("1"))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            json!({"kind": "flat", "id": new_id(), "street_id": s1, "fields": {}}),
            "rejected:validation",
        ),
        (
            json!({"kind": "household", "id": new_id(), "street_id": s1, "fields": {}}),
            "rejected:validation",
        ),
        // validation: a value out of bounds, a required field cleared, visited_at in the future
        (
            visit(
                &v,
                &s1,
                &house,
                &[("smartphone_users", json!(51))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            visit(&v, &s1, &house, &[("outcome", Value::Null)], &clock.next()),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[(
                    "visited_at",
                    json!(chrono::Utc::now()
                        .checked_add_signed(chrono::Duration::minutes(10))
                        .unwrap()
                        .to_rfc3339()),
                )],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        // validation: a household's first change without house_number
        (
            household(&new_id(), &s1, &[("note", json!("x"))], &clock.next()),
            "rejected:validation",
        ),
        // validation: a visit whose household stands on another street
        (
            household(
                &other_house,
                &world.street2,
                &[("house_number", json!("5"))],
                &clock.next(),
            ),
            "rejected:not_assigned",
        ),
        // validation: a household with a household_id, a visit without one, fields not an
        // object, counts that are not integers, a house number that normalises to nothing
        (
            json!({"kind": "household", "id": new_id(), "street_id": s1, "household_id": house,
                "fields": {"house_number": {"value": "1", "hlc": clock.next()}}}),
            "rejected:validation",
        ),
        (
            json!({"kind": "visit", "id": v, "street_id": s1, "fields": {"note": {"value": "x", "hlc": clock.next()}}}),
            "rejected:validation",
        ),
        (
            json!({"kind": "visit", "id": v, "street_id": s1, "household_id": house, "fields": ["note"]}),
            "rejected:validation",
        ),
        (
            json!({"kind": "visit", "id": v, "street_id": s1, "household_id": house, "fields": {"note": "x"}}),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("smartphone_users", json!(3.0))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("smartphone_users", json!("3"))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("smartphone_users", json!(-1))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            visit(&v, &s1, &house, &[("lat", json!(91))], &clock.next()),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("accuracy_m", json!(-0.5))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("note", json!("x".repeat(501)))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("visited_at", json!("2026-11-28 09:00"))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            household(
                &house_id(&s1, "x"),
                &s1,
                &[("house_number", json!("Số"))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            household(
                &house,
                &s1,
                &[("house_number", json!("x".repeat(41)))],
                &clock.next(),
            ),
            "rejected:validation",
        ),
        (
            household(&house, &s1, &[("deleted", json!("yes"))], &clock.next()),
            "rejected:validation",
        ),
        // unknown_street
        (
            household(
                &new_id(),
                &new_id(),
                &[("house_number", json!("1"))],
                &clock.next(),
            ),
            "rejected:unknown_street",
        ),
        // not_assigned: street 2 is in volunteer 1's ward but not assigned to it
        (
            household(
                &other_house,
                &world.street2,
                &[("house_number", json!("5"))],
                &clock.next(),
            ),
            "rejected:not_assigned",
        ),
        // kind_mismatch: the household's id pushed as a visit
        (
            visit(&house, &s1, &house, &[("note", json!("x"))], &clock.next()),
            "rejected:kind_mismatch",
        ),
        // immutable_field: another household, another street
        (
            visit(&v, &s1, &good_house, &[("note", json!("x"))], &clock.next()),
            "rejected:immutable_field",
        ),
        (
            household(
                &house,
                &world.street3,
                &[("note", json!("x"))],
                &clock.next(),
            ),
            "rejected:not_assigned",
        ),
        // forbidden_field: a volunteer writing review
        (
            visit(
                &v,
                &s1,
                &house,
                &[("review", json!("verified"))],
                &clock.next(),
            ),
            "rejected:forbidden_field",
        ),
        (
            visit(
                &v,
                &s1,
                &house,
                &[("review_note", json!("ok"))],
                &clock.next(),
            ),
            "rejected:forbidden_field",
        ),
        // clock_skew
        (
            visit(&v, &s1, &house, &[("note", json!("later"))], &future),
            "rejected:clock_skew",
        ),
        // unknown_record: an edit of a visit never created
        (
            visit(
                &new_id(),
                &s1,
                &house,
                &[("note", json!("x"))],
                &clock.next(),
            ),
            "rejected:unknown_record",
        ),
        // unknown_household
        (
            visit(
                &new_id(),
                &s1,
                &new_id(),
                &knock("declined", "2026-11-28T09:00:00+07:00", 1, 0),
                &clock.next(),
            ),
            "rejected:unknown_household",
        ),
        // …and the good ones in between still apply
        (
            household(
                &good_house,
                &s1,
                &[("house_number", json!("6"))],
                &clock.next(),
            ),
            "applied",
        ),
        (
            visit(&v, &s1, &house, &[("note", json!("ok"))], &clock.next()),
            "applied",
        ),
    ];
    let (bodies, want): (Vec<Value>, Vec<&str>) = changes.into_iter().unzip();
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &bodies
        ),
        want
    );
    // The ids are echoed as sent, whatever they were.
    let resp = app
        .push(
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &bodies[3..4],
        )
        .expect(200);
    assert_eq!(resp.body["results"][0]["id"], "not-a-uuid");
    let cover = coverage(&app, &world.admin, &world.campaign, &world.ward1);
    assert_eq!(figures(&cover), [2, 1, 1, 2, 0]);
    assert_verified(&app);
}

fn visits_across_streets_campaigns_and_volunteers_are_refused(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let (house, v) = seed(&app, &world, &mut clock);
    // The leader puts a house on street 2; volunteer 1 may not hang a visit there from street 1.
    let house2 = house_id(&world.street2, "8");
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            &world.campaign,
            "phone-hoa",
            &[household(
                &house2,
                &world.street2,
                &[("house_number", json!("8"))],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    let cross = visit(
        &new_id(),
        &world.street1,
        &house2,
        &knock("declined", "2026-11-28T09:00:00+07:00", 1, 0),
        &clock.next(),
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[cross]
        ),
        ["rejected:validation"]
    );

    // Volunteer 2 (same street) may not edit volunteer 1's visit; the ward leader may.
    let edit = visit(
        &v,
        &world.street1,
        &house,
        &[("note", json!("mine now"))],
        &clock.next(),
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer2.1,
            &world.campaign,
            "phone-minh",
            std::slice::from_ref(&edit)
        ),
        ["rejected:forbidden_field"]
    );
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            &world.campaign,
            "phone-hoa",
            &[edit]
        ),
        ["applied"]
    );
    // A ward leader may write review fields through push, and so may an admin.
    let review = visit(
        &v,
        &world.street1,
        &house,
        &[("review", json!("rejected")), ("review_note", json!("sai"))],
        &clock.next(),
    );
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            &world.campaign,
            "phone-hoa",
            &[review]
        ),
        ["applied"]
    );
    let review = visit(
        &v,
        &world.street1,
        &house,
        &[("review", json!("verified"))],
        &clock.next(),
    );
    assert_eq!(
        push(&app, &world.admin, &world.campaign, "admin-pc", &[review]),
        ["applied"]
    );
    // The leader of another ward may not push on ward 1.
    let edit = visit(
        &v,
        &world.street1,
        &house,
        &[("note", json!("x"))],
        &clock.next(),
    );
    assert_eq!(
        push(&app, &world.leader2.1, &world.campaign, "phone-2", &[edit]),
        ["rejected:not_assigned"]
    );

    // A visit id of another campaign: immutable_field.
    let other = campaign(
        &app,
        &world,
        &world.province,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    assign(&app, &world, &other, &world.street1, &world.volunteer1.0);
    let again = visit(
        &v,
        &world.street1,
        &house,
        &[("note", json!("x"))],
        &clock.next(),
    );
    assert_eq!(
        push(&app, &world.volunteer1.1, &other, "phone-lan", &[again]),
        ["rejected:immutable_field"]
    );
    // A new visit to the same household in the other campaign is fine and counts only there.
    let v2 = new_id();
    let fresh = visit(
        &v2,
        &world.street1,
        &house,
        &knock("installed_now", "2026-11-28T10:00:00+07:00", 5, 5),
        &clock.next(),
    );
    assert_eq!(
        push(&app, &world.volunteer1.1, &other, "phone-lan", &[fresh]),
        ["applied"]
    );
    let mine = coverage(&app, &world.admin, &world.campaign, &world.ward1);
    let theirs = coverage(&app, &world.admin, &other, &world.ward1);
    assert_eq!(figures(&mine), [2, 1, 1, 2, 0]);
    assert_eq!(figures(&theirs), [2, 1, 1, 5, 5]);
    // A campaign over district 2 does not cover street 1, even for an admin.
    let d2 = campaign(
        &app,
        &world,
        &world.district2,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    let elsewhere = visit(
        &new_id(),
        &world.street1,
        &house,
        &knock("declined", "2026-11-28T10:00:00+07:00", 1, 0),
        &clock.next(),
    );
    assert_eq!(
        push(&app, &world.admin, &d2, "admin-pc", &[elsewhere]),
        ["rejected:not_assigned"]
    );
    assert_verified(&app);
}

fn the_first_rule_broken_decides_the_code(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let (house, v) = seed(&app, &world, &mut clock);
    let s1 = world.street1.clone();
    let future = hlc(now_ms() + 10 * 60_000, 0, "phone-lan");
    let cases: Vec<(Value, &str)> = vec![
        // validation (field names, HLCs) before unknown_street
        (
            household(
                &new_id(),
                &new_id(),
                &[("colour", json!("x"))],
                &clock.next(),
            ),
            "validation",
        ),
        // unknown_street before not_assigned and value validation
        (
            household(
                &new_id(),
                &new_id(),
                &[("house_number", json!(""))],
                &future,
            ),
            "unknown_street",
        ),
        // not_assigned before kind_mismatch and clock_skew
        (
            visit(
                &house,
                &world.street2,
                &house,
                &[("note", json!("x"))],
                &future,
            ),
            "not_assigned",
        ),
        // kind_mismatch before immutable_field and forbidden_field
        (
            visit(
                &house,
                &s1,
                &new_id(),
                &[("review", json!("verified"))],
                &clock.next(),
            ),
            "kind_mismatch",
        ),
        // immutable_field before forbidden_field
        (
            visit(
                &v,
                &s1,
                &new_id(),
                &[("review", json!("verified"))],
                &clock.next(),
            ),
            "immutable_field",
        ),
        // forbidden_field before clock_skew
        (
            visit(&v, &s1, &house, &[("review", json!("verified"))], &future),
            "forbidden_field",
        ),
        // clock_skew before value validation
        (
            visit(&v, &s1, &house, &[("smartphone_users", json!(99))], &future),
            "clock_skew",
        ),
        // value validation before unknown_record and unknown_household
        (
            visit(
                &new_id(),
                &s1,
                &new_id(),
                &[("note", json!(7))],
                &clock.next(),
            ),
            "validation",
        ),
        // a creation with something missing is validation, before unknown_household
        (
            visit(
                &new_id(),
                &s1,
                &new_id(),
                &[("outcome", json!("declined"))],
                &clock.next(),
            ),
            "validation",
        ),
        // unknown_record before unknown_household
        (
            visit(
                &new_id(),
                &s1,
                &new_id(),
                &[("note", json!("x"))],
                &clock.next(),
            ),
            "unknown_record",
        ),
    ];
    for (change, code) in cases {
        assert_eq!(
            push(
                &app,
                &world.volunteer1.1,
                &world.campaign,
                "phone-lan",
                std::slice::from_ref(&change)
            ),
            [format!("rejected:{code}")],
            "{change}"
        );
    }
    assert_verified(&app);
}

fn a_volunteer_may_push_for_seven_days_after_unassignment(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let (house, v) = seed(&app, &world, &mut clock);
    let assignment = assignment_of(&app, &world, &world.street1, &world.volunteer1.0);
    unassign(&app, &world, &world.campaign, &assignment);
    let edit =
        |note: &str, hlc: &str| visit(&v, &world.street1, &house, &[("note", json!(note))], hlc);
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[edit("after", &clock.next())]
        ),
        ["applied"]
    );
    // Six days later: still in the grace period.
    sql(
        &app,
        &format!(
            "UPDATE assignments SET deleted_at = deleted_at - {} WHERE id = '{assignment}'",
            6 * 86_400_000_i64
        ),
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[edit("day 6", &clock.next())]
        ),
        ["applied"]
    );
    // Past seven days: not_assigned.
    sql(
        &app,
        &format!(
            "UPDATE assignments SET deleted_at = deleted_at - {} WHERE id = '{assignment}'",
            86_400_000_i64 + 60_000
        ),
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[edit("day 8", &clock.next())]
        ),
        ["rejected:not_assigned"]
    );
    // Pull no longer offers the street, and lists it as dropped.
    let pull = app
        .pull(
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &json!({ world.street1.clone(): 2 }),
            100,
        )
        .expect(200)
        .body;
    assert_eq!(pull["buckets"], json!([]));
    assert_eq!(pull["dropped"], json!([world.street1]));
    // Assigned again: pushes work again.
    assign(
        &app,
        &world,
        &world.campaign,
        &world.street1,
        &world.volunteer1.0,
    );
    assert_eq!(
        push(
            &app,
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[edit("back", &clock.next())]
        ),
        ["applied"]
    );
    assert_verified(&app);
}

fn clock_skew_changes_go_through_once_the_server_clock_catches_up(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let (house, v) = seed(&app, &world, &mut clock);
    // Just under the limit is fine; the server clock then stays above it.
    let near = hlc(now_ms() + 4 * 60_000, 0, "phone-lan");
    let resp = app
        .push(
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &[visit(
                &v,
                &world.street1,
                &house,
                &[("note", json!("soon"))],
                &near,
            )],
        )
        .expect(200);
    assert_eq!(statuses(&resp), ["applied"]);
    let server: sync_protocol::Hlc = resp.body["server_hlc"].as_str().unwrap().parse().unwrap();
    assert!(
        server > near.parse().unwrap(),
        "server_hlc {server} not above {near}"
    );
    let pull = app
        .pull(
            &world.volunteer2.1,
            &world.campaign,
            "phone-minh",
            &json!({}),
            10,
        )
        .expect(200);
    let server: sync_protocol::Hlc = pull.body["server_hlc"].as_str().unwrap().parse().unwrap();
    assert!(server > near.parse().unwrap());
    // A restart keeps the clock above what is stored.
    let mut app = app;
    app.server.terminate();
    let restarted = crate::common::Server::start_on(&app.db, &app.server.bind(), &[]);
    app.reattach(restarted);
    let pull = app
        .pull(
            &world.volunteer2.1,
            &world.campaign,
            "phone-minh",
            &json!({}),
            10,
        )
        .expect(200);
    let server: sync_protocol::Hlc = pull.body["server_hlc"].as_str().unwrap().parse().unwrap();
    assert!(
        server > near.parse().unwrap(),
        "after a restart: {server} not above {near}"
    );
    assert_verified(&app);
}

crate::both_backends!(
    every_rejection_code_reaches_the_phone_and_bad_changes_block_nothing,
    visits_across_streets_campaigns_and_volunteers_are_refused,
    the_first_rule_broken_decides_the_code,
    a_volunteer_may_push_for_seven_days_after_unassignment,
    clock_skew_changes_go_through_once_the_server_clock_catches_up,
);
