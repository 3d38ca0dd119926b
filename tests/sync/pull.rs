//! Pull (contract §6, §12): buckets, cursors, pages, `remaining`, limits, dropped and
//! backfilled buckets, campaigns.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

/// Pushes `n` houses with a visit each on `street` as the ward leader of ward 1.
fn houses(
    app: &TestApp,
    world: &World,
    street: &str,
    prefix: &str,
    n: usize,
    clock: &mut Ticker,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut changes = Vec::new();
    for i in 0..n {
        let number = format!("{prefix}{i}");
        let house = house_id(street, &number);
        let v = new_id();
        changes.push(household(
            &house,
            street,
            &[("house_number", json!(number))],
            &clock.next(),
        ));
        changes.push(visit(
            &v,
            street,
            &house,
            &knock("installed_now", "2026-11-28T09:00:00+07:00", 2, 1),
            &clock.next(),
        ));
        out.push((house, v));
    }
    let results = push(
        app,
        &world.leader1.1,
        &world.campaign,
        "phone-hoa",
        &changes,
    );
    assert!(results.iter().all(|r| r == "applied"), "{results:?}");
    out
}

fn small_pages_neither_skip_nor_repeat_a_record(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-hoa");
    let one = houses(&app, &world, &world.street1, "A", 20, &mut clock);
    houses(&app, &world, &world.street2, "B", 12, &mut clock);
    let token = &world.leader1.1;
    let full = pull_all(&app, token, &world.campaign, "full", 5000);
    assert_eq!(full.records.len(), 64);
    assert_eq!(full.pages, 1);
    for limit in [1, 3, 7, 64, 65] {
        let paged = pull_all(&app, token, &world.campaign, &format!("dev-{limit}"), limit);
        assert_eq!(paged.states(), full.states(), "limit {limit}");
        assert_eq!(paged.cursors, full.cursors);
        assert_eq!(paged.pages, 64usize.div_ceil(limit as usize).max(1));
    }

    // remaining counts what is still to come; has_more says whether to pull again.
    let mut cursors = json!({});
    let mut seen = 0;
    loop {
        let page = app
            .pull(token, &world.campaign, "counting", &cursors, 10)
            .expect(200)
            .body;
        seen += page["changes"].as_array().unwrap().len();
        assert_eq!(page["remaining"], json!(64 - seen), "{page}");
        assert_eq!(page["has_more"], json!(seen < 64));
        cursors = page["cursors"].clone();
        if seen == 64 {
            break;
        }
    }

    // Pulling interleaved with pushes: edits move records to new seqs, and the next pages
    // bring each changed record once, at its new version.
    let mut cursors = json!({});
    let page = app
        .pull(token, &world.campaign, "mover", &cursors, 5)
        .expect(200)
        .body;
    let mut got: BTreeMap<String, Value> = BTreeMap::new();
    for c in page["changes"].as_array().unwrap() {
        got.insert(c["id"].as_str().unwrap().to_owned(), c["fields"].clone());
    }
    cursors = page["cursors"].clone();
    let (house0, v0) = &one[0];
    let (_, v19) = &one[19];
    let edits = [
        visit(
            v0,
            &world.street1,
            house0,
            &[("note", json!("moved"))],
            &clock.next(),
        ),
        visit(
            v19,
            &world.street1,
            &one[19].0,
            &[("note", json!("moved too"))],
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(&app, token, &world.campaign, "phone-hoa", &edits),
        ["applied", "applied"]
    );
    let rest = pull_from(&app, token, &world.campaign, "mover", &cursors, 5);
    got.extend(rest.states());
    let full = pull_all(&app, token, &world.campaign, "full-2", 5000);
    assert_eq!(got, full.states());
    assert_eq!(
        rest.records[v0.as_str()]["fields"]["note"]["value"],
        "moved"
    );
    // Nothing new: an empty page that keeps the cursors.
    let again = app
        .pull(token, &world.campaign, "mover", &rest.cursors, 5)
        .expect(200)
        .body;
    assert_eq!(again["changes"], json!([]));
    assert_eq!(again["cursors"], rest.cursors);
    assert_eq!(again["remaining"], json!(0));
    assert_eq!(again["has_more"], json!(false));
    assert_verified(&app);
}

fn limit_zero_and_limits_out_of_range(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-hoa");
    houses(&app, &world, &world.street1, "A", 3, &mut clock);
    let token = &world.volunteer1.1;
    let page = app
        .pull(token, &world.campaign, "p", &json!({}), 0)
        .expect(200)
        .body;
    assert_eq!(page["changes"], json!([]));
    assert_eq!(page["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(page["dropped"], json!([]));
    assert_eq!(page["remaining"], json!(6));
    assert_eq!(page["has_more"], json!(true));
    assert_eq!(page["cursors"], json!({ world.street1.clone(): 0 }));
    // Without a limit: the default (500) brings everything.
    let page = app
        .post(
            "/api/v1/sync/pull",
            token,
            &json!({"campaign_id": world.campaign, "device_id": "p", "cursors": {}}),
        )
        .expect(200)
        .body;
    assert_eq!(page["changes"].as_array().unwrap().len(), 6);
    // Without cursors: every bucket from 0.
    let page = app
        .post(
            "/api/v1/sync/pull",
            token,
            &json!({"campaign_id": world.campaign, "device_id": "p", "limit": 2}),
        )
        .expect(200)
        .body;
    assert_eq!(page["changes"].as_array().unwrap().len(), 2);
    let page = app
        .pull(token, &world.campaign, "p", &json!({}), 1_000_000_000)
        .expect(200)
        .body;
    assert_eq!(page["changes"].as_array().unwrap().len(), 6);

    let bad: [(Value, Value); 8] = [
        (json!({}), json!(-1)),
        (json!({}), json!(2.5)),
        (json!({}), json!("10")),
        (json!({ world.street1.clone(): -1 }), json!(10)),
        (json!({ world.street1.clone(): 1.5 }), json!(10)),
        (json!({ world.street1.clone(): "3" }), json!(10)),
        (json!({"not-a-street": 0}), json!(10)),
        (json!([world.street1]), json!(10)),
    ];
    for (cursors, limit) in bad {
        app.post(
            "/api/v1/sync/pull",
            token,
            &json!({"campaign_id": world.campaign, "device_id": "p", "cursors": cursors, "limit": limit}),
        )
        .expect_problem(422, "validation");
    }
    app.post(
        "/api/v1/sync/pull",
        token,
        &json!({"device_id": "p", "cursors": {}}),
    )
    .expect_problem(422, "validation");
    assert_verified(&app);
}

fn a_limit_above_5000_is_clamped(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-hoa");
    for batch in 0..6 {
        let changes: Vec<Value> = (0..(if batch < 5 { 1000 } else { 2 }))
            .map(|i| {
                let number = format!("{batch}-{i}");
                household(
                    &house_id(&world.street1, &number),
                    &world.street1,
                    &[("house_number", json!(number))],
                    &clock.next(),
                )
            })
            .collect();
        let results = push(
            &app,
            &world.leader1.1,
            &world.campaign,
            "phone-hoa",
            &changes,
        );
        assert!(results.iter().all(|r| r == "applied"));
    }
    let page = app
        .pull(&world.volunteer1.1, &world.campaign, "p", &json!({}), 6000)
        .expect(200)
        .body;
    assert_eq!(page["changes"].as_array().unwrap().len(), 5000);
    assert_eq!(page["has_more"], json!(true));
    assert_eq!(page["remaining"], json!(2));
    assert_eq!(page["cursors"][&world.street1], json!(5000));
    let rest = app
        .pull(
            &world.volunteer1.1,
            &world.campaign,
            "p",
            &page["cursors"],
            6000,
        )
        .expect(200)
        .body;
    assert_eq!(rest["changes"].as_array().unwrap().len(), 2);
    assert_eq!(rest["has_more"], json!(false));
    let cover = coverage(&app, &world.admin, &world.campaign, &world.ward1);
    assert_eq!(cover["households_total"], json!(5002));
    assert_verified(&app);
}

fn buckets_follow_assignments_and_stale_cursors_restart(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-hoa");
    houses(&app, &world, &world.street1, "A", 2, &mut clock);
    houses(&app, &world, &world.street2, "B", 3, &mut clock);
    let token = &world.volunteer1.1;
    let first = pull_all(&app, token, &world.campaign, "p", 100);
    assert_eq!(first.records.len(), 4);
    assert_eq!(first.cursors, json!({ world.street1.clone(): 4 }));

    // A new assignment backfills its bucket from 0, whatever the other cursors.
    let street2 = assign(
        &app,
        &world,
        &world.campaign,
        &world.street2,
        &world.volunteer1.0,
    );
    let next = pull_from(&app, token, &world.campaign, "p", &first.cursors, 100);
    assert_eq!(next.records.len(), 6);
    assert!(next
        .records
        .values()
        .all(|r| r["street_id"] == world.street2));
    let buckets: Vec<&str> = next.last["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["street_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        buckets,
        [world.street1.as_str(), world.street2.as_str()],
        "buckets by code"
    );
    assert_eq!(
        next.cursors,
        json!({ world.street1.clone(): 4, world.street2.clone(): 6 })
    );

    // Unassigned: dropped, once per pull that still names it.
    let street1 = assignment_of(&app, &world, &world.street1, &world.volunteer1.0);
    unassign(&app, &world, &world.campaign, &street1);
    let page = app
        .pull(token, &world.campaign, "p", &next.cursors, 100)
        .expect(200)
        .body;
    assert_eq!(page["dropped"], json!([world.street1]));
    assert_eq!(page["cursors"], json!({ world.street2.clone(): 6 }));
    assert_eq!(page["buckets"].as_array().unwrap().len(), 1);
    // Streets that were never the caller's, or do not exist, are dropped too.
    let stranger = new_id();
    let page = app
        .pull(
            token,
            &world.campaign,
            "p",
            &json!({ world.street3.clone(): 1, stranger.clone(): 0, world.street2.clone(): 6 }),
            100,
        )
        .expect(200)
        .body;
    let mut dropped: Vec<String> = page["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    dropped.sort();
    let mut want = vec![world.street3.clone(), stranger];
    want.sort();
    assert_eq!(dropped, want);
    // Upper-case ids in cursors are the same street.
    let page = app
        .pull(
            token,
            &world.campaign,
            "p",
            &json!({ world.street2.to_uppercase(): 6 }),
            100,
        )
        .expect(200)
        .body;
    assert_eq!(page["dropped"], json!([]));
    assert_eq!(page["changes"], json!([]));

    // A cursor above the bucket's latest seq (a restored backup) restarts it from 0.
    let restart = app
        .pull(
            token,
            &world.campaign,
            "p",
            &json!({ world.street2.clone(): 999 }),
            100,
        )
        .expect(200)
        .body;
    let seqs: Vec<i64> = restart["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(restart["cursors"], json!({ world.street2.clone(): 6 }));
    unassign(&app, &world, &world.campaign, &street2);
    let page = app
        .pull(token, &world.campaign, "p", &json!({}), 100)
        .expect(200)
        .body;
    assert_eq!(page["buckets"], json!([]));
    assert_eq!(page["changes"], json!([]));
    assert_verified(&app);
}

fn a_pull_brings_only_its_campaigns_visits_and_the_shared_households(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-lan");
    let other = campaign(
        &app,
        &world,
        &world.province,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    assign(&app, &world, &other, &world.street1, &world.volunteer1.0);
    let house = house_id(&world.street1, "1");
    let (a, b) = (new_id(), new_id());
    let token = &world.volunteer1.1;
    assert_eq!(
        push(
            &app,
            token,
            &world.campaign,
            "p",
            &[
                household(
                    &house,
                    &world.street1,
                    &[("house_number", json!("1"))],
                    &clock.next()
                ),
                visit(
                    &a,
                    &world.street1,
                    &house,
                    &knock("declined", "2026-11-28T09:00:00+07:00", 1, 0),
                    &clock.next()
                ),
            ]
        ),
        ["applied", "applied"]
    );
    assert_eq!(
        push(
            &app,
            token,
            &other,
            "p",
            &[visit(
                &b,
                &world.street1,
                &house,
                &knock("declined", "2026-11-28T09:00:00+07:00", 1, 0),
                &clock.next()
            )]
        ),
        ["applied"]
    );
    let mine = pull_all(&app, token, &world.campaign, "p", 100);
    let ids: Vec<&String> = mine.records.keys().collect();
    let mut want = vec![&house, &a];
    want.sort();
    assert_eq!(ids, want);
    let theirs = pull_all(&app, token, &other, "p", 100);
    let ids: Vec<&String> = theirs.records.keys().collect();
    let mut want = vec![&house, &b];
    want.sort();
    assert_eq!(ids, want);
    // Volunteer 2 shares street 1 in the first campaign only.
    let mate = pull_all(&app, &world.volunteer2.1, &world.campaign, "q", 100);
    assert_eq!(mate.states(), mine.states());
    let page = app
        .pull(&world.volunteer2.1, &other, "q", &json!({}), 100)
        .expect(200)
        .body;
    assert_eq!(page["buckets"], json!([]));
    assert_verified(&app);
}

fn ward_leaders_pull_their_wards_streets(app: TestApp) {
    let world = World::build(&app);
    let mut clock = Ticker::new("phone-hoa");
    houses(&app, &world, &world.street1, "A", 1, &mut clock);
    houses(&app, &world, &world.street2, "B", 1, &mut clock);
    assert_eq!(
        push(
            &app,
            &world.admin,
            &world.campaign,
            "admin",
            &[household(
                &house_id(&world.street3, "C"),
                &world.street3,
                &[("house_number", json!("C"))],
                &clock.next()
            ),]
        ),
        ["applied"]
    );
    let one = pull_all(&app, &world.leader1.1, &world.campaign, "l1", 100);
    let buckets: Vec<&str> = one.last["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["street_id"].as_str().unwrap())
        .collect();
    assert_eq!(buckets, [world.street1.as_str(), world.street2.as_str()]);
    assert_eq!(one.records.len(), 4);
    let two = pull_all(&app, &world.leader2.1, &world.campaign, "l2", 100);
    assert_eq!(two.last["buckets"][0]["street_id"], json!(world.street3));
    assert_eq!(two.last["buckets"][0]["ward_id"], json!(world.ward2));
    assert_eq!(two.records.len(), 1);
    // Volunteer 3 sees its one street; ward 3 has a street but no volunteer pulls there.
    let three = pull_all(&app, &world.volunteer3.1, &world.campaign, "v3", 100);
    assert_eq!(three.states(), two.states());
    // A campaign over district 2 gives ward 1's leader nothing to pull.
    let d2 = campaign(
        &app,
        &world,
        &world.district2,
        "2026-11-01",
        "2026-12-31",
        0.5,
    );
    let page = app
        .pull(&world.leader1.1, &d2, "l1", &json!({}), 100)
        .expect(200)
        .body;
    assert_eq!(page["buckets"], json!([]));
    assert_verified(&app);
}

crate::both_backends!(
    small_pages_neither_skip_nor_repeat_a_record,
    limit_zero_and_limits_out_of_range,
    a_limit_above_5000_is_clamped,
    buckets_follow_assignments_and_stale_cursors_restart,
    a_pull_brings_only_its_campaigns_visits_and_the_shared_households,
    ward_leaders_pull_their_wards_streets,
);
