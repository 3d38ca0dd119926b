//! The sync rules of contract v1.1 over HTTP (§6, §7, §12): deterministic household ids at
//! creation and their invisible characters, `visited_at` before the campaign's first day,
//! who may delete a household, and the reserved device id `server`.

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

fn a_household_is_created_only_under_the_deterministic_id_of_its_street_and_number(app: TestApp) {
    let world = World::build(&app);
    let token = &world.volunteer1.1;
    let mut clock = Ticker::new("phone-lan");
    let s1 = &world.street1;
    let number = |text: &str| vec![("house_number", json!(text))];
    assert_eq!(
        push(
            &app,
            token,
            &world.campaign,
            "phone-lan",
            &[
                household(&new_id(), s1, &number("12/5A"), &clock.next()),
                household(&house_id(s1, "7"), s1, &number("12/5A"), &clock.next()),
                household(
                    &house_id(&world.street2, "12/5A"),
                    s1,
                    &number("12/5A"),
                    &clock.next()
                ),
                // No letter or digit once the invisible characters are gone.
                household(&new_id(), s1, &number("\u{200b}-/\u{feff}"), &clock.next()),
            ]
        ),
        [
            "rejected:validation",
            "rejected:validation",
            "rejected:validation",
            "rejected:validation"
        ]
    );
    // Invisible characters, case, spaces and a leading "số" make no new house.
    let house = house_id(s1, "12/5A");
    assert_eq!(house_id(s1, "S\u{1ed1} 12\u{ad}/5\u{200d}a\u{feff}"), house);
    assert_eq!(
        push(
            &app,
            token,
            &world.campaign,
            "phone-lan",
            &[
                household(&house, s1, &number("12/5A"), &clock.next()),
                household(&house, s1, &number("Số 12\u{ad}/5\u{200d}a"), &clock.next()),
            ]
        ),
        ["applied", "applied"]
    );
    let pulled = pull_all(&app, token, &world.campaign, "phone-lan", 100);
    assert_eq!(pulled.records.len(), 1);
    assert_verified(&app);
}

fn the_household_import_uses_the_same_ids_and_refuses_a_number_without_a_letter_or_digit(
    app: TestApp,
) {
    let world = World::build(&app);
    let csv = "street_code,house_number\n25741-H12,12/5A\n25741-H12,s\u{1ed1}\u{a0}12\u{200b}/5a\n";
    let counts = app
        .post_csv("/api/v1/households/import", &world.admin, csv)
        .expect(200)
        .body;
    assert_eq!(counts, json!({"created": 1, "existing": 1}));
    let token = &world.volunteer1.1;
    let pulled = pull_all(&app, token, &world.campaign, "phone-lan", 100);
    let house = house_id(&world.street1, "12/5A");
    assert_eq!(pulled.records.keys().collect::<Vec<_>>(), [&house]);

    let bad = "street_code,house_number\n25741-H12,7\n25741-H12,\u{200b} - \n";
    let resp = app
        .post_csv("/api/v1/households/import", &world.admin, bad)
        .expect_problem(422, "validation");
    let detail = resp.body["detail"].as_str().unwrap();
    assert!(detail.contains("line 3"), "{detail}");
    assert_eq!(
        pull_all(&app, token, &world.campaign, "phone-lan", 100)
            .records
            .len(),
        1,
        "all or nothing"
    );
}

fn a_visit_before_the_campaigns_first_local_day_is_validation(app: TestApp) {
    let world = World::build(&app);
    // The world's campaign starts on 2020-08-17 in Asia/Ho_Chi_Minh: 2020-08-16T17:00Z.
    let token = &world.volunteer1.1;
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&world.street1, "12/5A");
    let mut changes = vec![household(
        &house,
        &world.street1,
        &[("house_number", json!("12/5A"))],
        &clock.next(),
    )];
    for when in [
        "2020-08-16T23:59:59+07:00",
        "2020-08-16T16:59:59.999Z",
        "2020-08-17T00:00:00+07:00",
        "2020-08-16T17:00:00Z",
        "2020-08-16T18:00:00+01:00",
    ] {
        let fields = knock("declined", when, 1, 0);
        changes.push(visit(
            &new_id(),
            &world.street1,
            &house,
            &fields,
            &clock.next(),
        ));
    }
    assert_eq!(
        push(&app, token, &world.campaign, "phone-lan", &changes),
        [
            "applied",
            "rejected:validation",
            "rejected:validation",
            "applied",
            "applied",
            "applied"
        ]
    );
    let resp = app
        .push(token, &world.campaign, "phone-lan", &changes[1..2])
        .expect(200);
    let message = resp.body["results"][0]["message"].as_str().unwrap();
    assert!(message.contains("visited_at"), "{message}");

    // An edit of a visit moving it before the start is refused too, and a clock too far
    // ahead is judged first (§12's order).
    let v = changes[3]["id"].as_str().unwrap().to_owned();
    let early = json!("2020-08-16T09:00:00+07:00");
    let far = hlc(now_ms() + 3_600_000, 0, "phone-lan");
    assert_eq!(
        push(
            &app,
            token,
            &world.campaign,
            "phone-lan",
            &[
                visit(
                    &v,
                    &world.street1,
                    &house,
                    &[("visited_at", early.clone())],
                    &clock.next()
                ),
                visit(&v, &world.street1, &house, &[("visited_at", early)], &far),
            ]
        ),
        ["rejected:validation", "rejected:clock_skew"]
    );
    assert_verified(&app);
}

fn the_first_day_is_local_midnight_in_the_campaigns_own_time_zone(app: TestApp) {
    let world = World::build(&app);
    let tokyo = app
        .post(
            "/api/v1/campaigns",
            &world.admin,
            &json!({"name": "Tokyo", "area_id": world.province, "target_ratio": 0.5,
                    "starts_on": "2020-08-17", "deadline": "2020-08-20",
                    "timezone": "Asia/Tokyo"}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut clock = Ticker::new("admin-phone");
    let house = house_id(&world.street1, "1");
    let create = household(
        &house,
        &world.street1,
        &[("house_number", json!("1"))],
        &clock.next(),
    );
    // 16:00Z is 01:00 on the 17th in Tokyo, but 23:00 on the 16th in Vietnam.
    let knock_at = |campaign: &str, clock: &mut Ticker| {
        let change = visit(
            &new_id(),
            &world.street1,
            &house,
            &knock("declined", "2020-08-16T16:00:00Z", 1, 0),
            &clock.next(),
        );
        push(&app, &world.admin, campaign, "admin-phone", &[change])
    };
    assert_eq!(
        push(&app, &world.admin, &tokyo, "admin-phone", &[create]),
        ["applied"]
    );
    assert_eq!(knock_at(&tokyo, &mut clock), ["applied"]);
    assert_eq!(
        knock_at(&world.campaign, &mut clock),
        ["rejected:validation"]
    );
}

fn a_volunteer_deletes_only_the_households_its_own_push_created(app: TestApp) {
    let world = World::build(&app);
    let (lan, minh) = (&world.volunteer1.1, &world.volunteer2.1);
    let c = &world.campaign;
    let mut clock = Ticker::new("phone");
    let s1 = &world.street1;
    let mine = house_id(s1, "1");
    let theirs = house_id(s1, "2");
    let imported = house_id(s1, "3");
    app.post_csv(
        "/api/v1/households/import",
        &world.admin,
        "street_code,house_number\n25741-H12,3\n",
    )
    .expect(200);
    let number = |n: &str| ("house_number", json!(n));
    let deleted = |b: bool| ("deleted", json!(b));
    assert_eq!(
        push(
            &app,
            lan,
            c,
            "phone-lan",
            &[household(&mine, s1, &[number("1")], &clock.next())]
        ),
        ["applied"]
    );
    // Created with `deleted` in its first change: its own push creates it.
    assert_eq!(
        push(
            &app,
            minh,
            c,
            "phone-minh",
            &[household(
                &theirs,
                s1,
                &[number("2"), deleted(false)],
                &clock.next()
            )]
        ),
        ["applied"]
    );
    assert_eq!(
        push(
            &app,
            lan,
            c,
            "phone-lan",
            &[
                household(&mine, s1, &[deleted(true)], &clock.next()),
                household(&theirs, s1, &[deleted(true)], &clock.next()),
                household(&theirs, s1, &[deleted(false)], &clock.next()),
                household(&imported, s1, &[deleted(true)], &clock.next()),
                // Other fields of any household stay open to every volunteer of the street.
                household(&theirs, s1, &[("note", json!("cổng xanh"))], &clock.next()),
                household(&imported, s1, &[("lat", json!(10.98))], &clock.next()),
            ]
        ),
        [
            "applied",
            "rejected:forbidden_field",
            "rejected:forbidden_field",
            "rejected:forbidden_field",
            "applied",
            "applied"
        ]
    );
    // forbidden_field comes before clock_skew and before a bad value (§12's order), and
    // after not_assigned.
    let far = hlc(now_ms() + 3_600_000, 0, "phone-lan");
    let unassigned = house_id(&world.street2, "9");
    assert_eq!(
        push(
            &app,
            lan,
            c,
            "phone-lan",
            &[
                household(&theirs, s1, &[deleted(true)], &far),
                household(&theirs, s1, &[("deleted", json!("yes"))], &clock.next()),
                household(&unassigned, &world.street2, &[deleted(true)], &clock.next()),
            ]
        ),
        [
            "rejected:forbidden_field",
            "rejected:forbidden_field",
            "rejected:not_assigned"
        ]
    );
    // The ward leader and the admin may on any household in their scope.
    assert_eq!(
        push(
            &app,
            &world.leader1.1,
            c,
            "phone-hoa",
            &[
                household(&theirs, s1, &[deleted(true)], &clock.next()),
                household(&imported, s1, &[deleted(true)], &clock.next()),
            ]
        ),
        ["applied", "applied"]
    );
    assert_eq!(
        push(
            &app,
            &world.admin,
            c,
            "admin-phone",
            &[household(&theirs, s1, &[deleted(false)], &clock.next())]
        ),
        ["applied"]
    );
    // The creator is kept, not shown: a pulled household keeps the contract's shape.
    let pulled = pull_all(&app, lan, c, "phone-lan", 100);
    for house in [&mine, &theirs, &imported] {
        assert_eq!(pulled.records[house].get("volunteer_id"), None);
    }
    assert_eq!(
        pulled.records[&mine]["fields"]["deleted"]["value"],
        json!(true)
    );
    assert_eq!(
        pulled.records[&imported]["fields"]["deleted"]["value"],
        json!(true)
    );
    assert_verified(&app);
}

fn the_device_id_server_is_reserved_for_push_and_pull(app: TestApp) {
    let world = World::build(&app);
    let token = &world.volunteer1.1;
    let house = house_id(&world.street1, "1");
    let change = household(
        &house,
        &world.street1,
        &[("house_number", json!("1"))],
        &hlc(now_ms(), 0, "server"),
    );
    app.push(
        token,
        &world.campaign,
        "server",
        std::slice::from_ref(&change),
    )
    .expect_problem(422, "validation");
    app.pull(token, &world.campaign, "server", &json!({}), 10)
        .expect_problem(422, "validation");
    // Nothing of the refused push was applied; another device id is fine.
    assert!(pull_all(&app, token, &world.campaign, "phone-lan", 10)
        .records
        .is_empty());
    assert_eq!(
        push(&app, token, &world.campaign, "Server", &[change]),
        ["applied"],
        "only the exact id is reserved"
    );
}

/// A phone's `Replica` syncing with the real server: the crate's wire types read the
/// server's answers, a lost answer is harmless, and two campaigns keep their own cursors.
fn a_replica_syncs_with_the_server_through_a_lost_answer_and_two_campaigns(app: TestApp) {
    use sync_protocol::{NewVisit, Outcome, PullResponse, PushResponse, Replica};
    let world = World::build(&app);
    let lan = &world.volunteer1.1;
    let other = campaign(
        &app,
        &world,
        &world.province,
        "2020-08-17",
        "2020-09-30",
        0.5,
    );
    assign(&app, &world, &other, &world.street1, &world.volunteer1.0);
    let campaigns: [uuid::Uuid; 2] = [world.campaign.parse().unwrap(), other.parse().unwrap()];
    let street: uuid::Uuid = world.street1.parse().unwrap();
    let post = |path: &str, body: Value| app.post(path, lan, &body).expect(200).body;
    let mut phone = Replica::new("phone-lan", 300_000).unwrap();
    let now = now_ms() - 1_000;
    let house = phone.add_household(street, "12/5A", now).unwrap();
    let knock = || NewVisit {
        outcome: Outcome::Declined,
        visited_at: "2020-08-18T09:20:00+07:00".to_owned(),
        smartphone_users: Some(2),
        app_users: Some(0),
    };
    let first = phone
        .record_visit(campaigns[0], street, house, knock(), now)
        .unwrap();
    let second = phone
        .record_visit(campaigns[1], street, house, knock(), now)
        .unwrap();

    // The answer to the first push is lost; the replica pushes the same changes again.
    let batch = phone.prepare_push(campaigns[0]);
    assert_eq!(batch.len(), 2);
    post(
        "/api/v1/sync/push",
        serde_json::to_value(batch.request()).unwrap(),
    );
    let batch = phone.prepare_push(campaigns[0]);
    let answer: PushResponse = serde_json::from_value(post(
        "/api/v1/sync/push",
        serde_json::to_value(batch.request()).unwrap(),
    ))
    .unwrap();
    let report = phone.acknowledge(&batch, &answer).unwrap();
    assert_eq!(report.accepted, 2);
    let batch = phone.prepare_push(campaigns[1]);
    assert_eq!(
        batch.pending().iter().map(|p| p.id).collect::<Vec<_>>(),
        [second]
    );
    let answer: PushResponse = serde_json::from_value(post(
        "/api/v1/sync/push",
        serde_json::to_value(batch.request()).unwrap(),
    ))
    .unwrap();
    phone.acknowledge(&batch, &answer).unwrap();
    assert!(phone.outbox().is_empty());

    // A fresh phone pulls both campaigns, one cursor map each.
    let mut fresh = Replica::new("phone-lan-2", 300_000).unwrap();
    for campaign in campaigns {
        loop {
            let request = fresh.pull_request(campaign, Some(1));
            let answer: PullResponse = serde_json::from_value(post(
                "/api/v1/sync/pull",
                serde_json::to_value(&request).unwrap(),
            ))
            .unwrap();
            if !fresh.apply_pull(&request, &answer).has_more {
                break;
            }
        }
    }
    for id in [house, first, second] {
        assert_eq!(
            fresh.record(id).unwrap().state,
            phone.record(id).unwrap().state
        );
    }
    assert_eq!(fresh.record(first).unwrap().campaign_id, Some(campaigns[0]));
    assert_eq!(
        fresh.record(second).unwrap().campaign_id,
        Some(campaigns[1])
    );
    assert_eq!(
        fresh.record(first).unwrap().volunteer_id,
        Some(world.volunteer1.0.parse().unwrap())
    );
    assert_eq!(fresh.record(house).unwrap().volunteer_id, None);
}

crate::both_backends!(
    a_household_is_created_only_under_the_deterministic_id_of_its_street_and_number,
    the_household_import_uses_the_same_ids_and_refuses_a_number_without_a_letter_or_digit,
    a_visit_before_the_campaigns_first_local_day_is_validation,
    the_first_day_is_local_midnight_in_the_campaigns_own_time_zone,
    a_volunteer_deletes_only_the_households_its_own_push_created,
    the_device_id_server_is_reserved_for_push_and_pull,
    a_replica_syncs_with_the_server_through_a_lost_answer_and_two_campaigns,
);
