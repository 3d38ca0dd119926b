//! Concurrency: 32 pushers hammer one street while pullers page through it with small
//! limits. Afterwards every puller holds exactly the server's state, having seen each
//! bucket's seqs strictly rising; counters equal a recount; nothing answered 5xx.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::common::{TestApp, World};
use crate::support::*;

const PUSHERS: usize = 32;
const PUSHES: usize = 6;
const SHARED: usize = 5;

/// One pusher: new houses with a visit each, edits of houses every pusher shares, and an
/// edit of its own previous visit, each push a few changes.
fn pusher(app: &TestApp, world: &World, index: usize, token: &str, statuses: &Mutex<Vec<u16>>) {
    let device = format!("pusher-{index}");
    let street = &world.street1;
    let mut counter = 0u16;
    let mut next = || {
        counter += 1;
        hlc(now_ms() - 1000, counter, &device)
    };
    let mut last: Option<(String, String)> = None;
    for round in 0..PUSHES {
        let mut changes = Vec::new();
        let number = format!("p{index}-{round}");
        let house = house_id(street, &number);
        let v = new_id();
        changes.push(household(
            &house,
            street,
            &[("house_number", json!(number))],
            &next(),
        ));
        changes.push(visit(
            &v,
            street,
            &house,
            &knock(
                "installed_now",
                "2026-11-28T09:00:00+07:00",
                3,
                (index % 4) as u32,
            ),
            &next(),
        ));
        let shared = format!("s{}", (index + round) % SHARED);
        let shared_id = house_id(street, &shared);
        changes.push(household(
            &shared_id,
            street,
            &[("house_number", json!(shared)), ("note", json!(device))],
            &next(),
        ));
        changes.push(visit(
            &new_id(),
            street,
            &shared_id,
            &knock(
                "declined",
                &format!("2026-11-2{}T09:00:00+07:00", round),
                2,
                1,
            ),
            &next(),
        ));
        if let Some((h, v)) = &last {
            changes.push(visit(
                v,
                street,
                h,
                &[
                    ("note", json!(format!("round {round}"))),
                    ("deleted", json!(round.is_multiple_of(3))),
                ],
                &next(),
            ));
        }
        last = Some((house, v));
        let resp = app.push(token, &world.campaign, &device, &changes);
        statuses.lock().unwrap().push(resp.status);
        if resp.status == 200 {
            // A shared house may already hold a newer value from another pusher: unchanged.
            let results = statuses_of(&resp.body);
            assert!(
                results.iter().all(|r| r != "rejected"),
                "{device}: {}",
                resp.text
            );
            assert_eq!(results[..2], ["applied", "applied"], "{device}");
        }
    }
}

fn statuses_of(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

/// What one puller saw.
#[derive(Default)]
struct Seen {
    records: BTreeMap<String, Value>,
    cursors: Value,
    pages: usize,
}

/// Pulls with a small limit until told to stop, then drains.
fn puller(
    app: &TestApp,
    world: &World,
    token: &str,
    device: &str,
    limit: i64,
    done: &AtomicBool,
    statuses: &Mutex<Vec<u16>>,
) -> Seen {
    let mut seen = Seen {
        cursors: json!({}),
        ..Seen::default()
    };
    let mut last_seq: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        let resp = app.pull(token, &world.campaign, device, &seen.cursors, limit);
        statuses.lock().unwrap().push(resp.status);
        assert_eq!(resp.status, 200, "{}", resp.text);
        let body = resp.body;
        for change in body["changes"].as_array().unwrap() {
            let street = change["street_id"].as_str().unwrap().to_owned();
            let seq = change["seq"].as_i64().unwrap();
            let before = last_seq.insert(street.clone(), seq).unwrap_or(0);
            assert!(
                seq > before,
                "{device}: seq {seq} after {before} on {street}"
            );
            seen.records.insert(
                change["id"].as_str().unwrap().to_owned(),
                change["fields"].clone(),
            );
        }
        for (street, cursor) in body["cursors"].as_object().unwrap() {
            let cursor = cursor.as_i64().unwrap();
            assert!(
                cursor >= last_seq.get(street).copied().unwrap_or(0),
                "cursor went back"
            );
            last_seq.insert(street.clone(), cursor);
        }
        seen.cursors = body["cursors"].clone();
        seen.pages += 1;
        if finished && body["has_more"] == json!(false) {
            return seen;
        }
    }
}

fn thirty_two_pushers_and_paging_pullers_on_one_street(app: TestApp) {
    let world = World::build(&app);
    let statuses = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    let tokens = [
        &world.volunteer1.1,
        &world.volunteer2.1,
        &world.leader1.1,
        &world.admin,
    ];
    let seen: Vec<Seen> = std::thread::scope(|scope| {
        let pullers: Vec<_> = [
            (&world.leader1.1, "puller-hoa", 3),
            (&world.volunteer1.1, "puller-lan", 5),
            (&world.volunteer2.1, "puller-minh", 7),
            (&world.leader1.1, "puller-hoa-2", 1),
        ]
        .into_iter()
        .map(|(token, device, limit)| {
            let (app, world, done, statuses) = (&app, &world, &done, &statuses);
            scope.spawn(move || puller(app, world, token, device, limit, done, statuses))
        })
        .collect();
        // Pullers stop once pushers are done, even when one of them panics.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _done = Done(&done);
        let pushers: Vec<_> = (0..PUSHERS)
            .map(|i| {
                let (app, world, statuses) = (&app, &world, &statuses);
                let token = tokens[i % tokens.len()];
                scope.spawn(move || pusher(app, world, i, token, statuses))
            })
            .collect();
        let pushed: Vec<_> = pushers.into_iter().map(|p| p.join()).collect();
        done.store(true, Ordering::SeqCst);
        let seen = pullers.into_iter().map(|p| p.join().unwrap()).collect();
        for result in pushed {
            result.unwrap();
        }
        seen
    });
    let statuses = statuses.into_inner().unwrap();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "non-200 answers: {:?}",
        statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>()
    );
    assert!(statuses.len() >= PUSHERS * PUSHES);

    let full = pull_all(&app, &world.leader1.1, &world.campaign, "fresh", 5000);
    // Per pusher: PUSHES houses and visits; SHARED shared houses; one visit per push on them.
    assert_eq!(full.records.len(), PUSHERS * PUSHES * 3 + SHARED);
    let state = full.on_street(&world.street1);
    for (i, puller) in seen.iter().enumerate() {
        assert_eq!(
            puller.records, state,
            "puller {i} missed or kept a stale version"
        );
        assert!(puller.pages > 1);
    }
    // The server's street bucket ends at the number of versions it handed out.
    let cover = coverage(&app, &world.admin, &world.campaign, &world.ward1);
    assert_eq!(cover["households_total"], json!(PUSHERS * PUSHES + SHARED));
    assert_verified(&app);
}

crate::both_backends!(thirty_two_pushers_and_paging_pullers_on_one_street);
