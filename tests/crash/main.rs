//! Crash durability: devices push concurrently while the server is killed with SIGKILL at
//! random moments; after each restart every acknowledged change is there with its value,
//! re-pushing everything changes nothing, and `canvass verify` finds the counters exact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sync_protocol::{household_id, Clock};

use common::{fresh_db, run_cli, Backend, Server, TestApp, World};

const KILLS: usize = 20;

/// A tiny deterministic generator (xorshift64*), so a failing run can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn now_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap()
}

/// One device's next batch: a new household and a visit to it, plus an edit of a visit
/// it logged earlier, so pushes both create and update records.
fn batch(
    clock: &mut Clock,
    street: &str,
    device: &str,
    n: u64,
    earlier: Option<&(String, String)>,
) -> Vec<Value> {
    let street_uuid = uuid::Uuid::parse_str(street).unwrap();
    let house = format!("{device}/{n}");
    let household = household_id(street_uuid, &house).unwrap().to_string();
    let visit = uuid::Uuid::new_v4().to_string();
    let h1 = clock.tick(now_ms()).to_string();
    let h2 = clock.tick(now_ms()).to_string();
    let mut changes = vec![
        json!({"kind": "household", "id": household, "street_id": street,
               "fields": {"house_number": {"value": house, "hlc": h1}}}),
        json!({"kind": "visit", "id": visit, "street_id": street, "household_id": household,
               "fields": {"outcome": {"value": "installed_now", "hlc": h2},
                          "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": h2},
                          "smartphone_users": {"value": (n % 5) + 1, "hlc": h2},
                          "app_users": {"value": 1, "hlc": h2},
                          "note": {"value": format!("batch {n}"), "hlc": h2}}}),
    ];
    if let Some((old_visit, old_household)) = earlier {
        let h3 = clock.tick(now_ms()).to_string();
        changes.push(json!({"kind": "visit", "id": old_visit, "street_id": street, "household_id": old_household,
            "fields": {"note": {"value": format!("edited in batch {n}"), "hlc": h3}}}));
    }
    changes
}

/// (record id, field) → (value, hlc) of every change a 200 acknowledged as applied or unchanged.
type Acked = Arc<Mutex<HashMap<(String, String), (Value, String)>>>;

fn remember(acked: &Acked, changes: &[Value], response: &Value) {
    let mut acked = acked.lock().unwrap();
    for (change, result) in changes.iter().zip(response["results"].as_array().unwrap()) {
        assert_ne!(
            result["status"], "rejected",
            "a valid change was rejected: {result}"
        );
        for (field, stamped) in change["fields"].as_object().unwrap() {
            let key = (change["id"].as_str().unwrap().to_owned(), field.clone());
            let hlc = stamped["hlc"].as_str().unwrap().to_owned();
            let newer = acked.get(&key).is_none_or(|(_, old)| hlc > *old);
            if newer {
                acked.insert(key, (stamped["value"].clone(), hlc));
            }
        }
    }
}

fn acknowledged_pushes_survive_sigkill(backend: Backend) {
    let Some(db) = fresh_db(backend) else { return };
    let mut app = TestApp::new(
        Server::start(&db, &[]),
        fresh_db(Backend::Sqlite).unwrap(),
        backend,
    );
    let world = World::build(&app);
    let devices: Vec<(String, String, String)> = vec![
        (
            world.volunteer1.1.clone(),
            world.street1.clone(),
            "phone-lan".into(),
        ),
        (
            world.volunteer2.1.clone(),
            world.street1.clone(),
            "phone-minh".into(),
        ),
        (
            world.leader1.1.clone(),
            world.street2.clone(),
            "phone-leader".into(),
        ),
        (
            world.admin.clone(),
            world.street2.clone(),
            "laptop-admin".into(),
        ),
    ];
    let acked: Acked = Arc::default();
    let all_sent: Arc<Mutex<Vec<Value>>> = Arc::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ backend as u64);
    let mut counter = 0u64;
    for kill in 0..KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let app_ref = Arc::new(TestAppHandle {
            base: app.base.clone(),
        });
        let mut threads = Vec::new();
        for (index, (token, street, device)) in devices.iter().cloned().enumerate() {
            let (stop, acked, all_sent, handle) = (
                stop.clone(),
                acked.clone(),
                all_sent.clone(),
                app_ref.clone(),
            );
            let campaign = world.campaign.clone();
            let start = counter + (index as u64) * 1_000_000;
            threads.push(std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                let mut clock = Clock::new(&device, 300_000).unwrap();
                let mut last: Option<(String, String)> = None;
                let mut n = start;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let changes = batch(&mut clock, &street, &device, n, last.as_ref());
                    all_sent.lock().unwrap().extend(changes.iter().cloned());
                    let body =
                        json!({"campaign_id": campaign, "device_id": device, "changes": changes});
                    let sent = agent
                        .post(&format!("{}/api/v1/sync/push", handle.base))
                        .set("Authorization", &format!("Bearer {token}"))
                        .send_json(&body);
                    match sent {
                        Ok(response) => {
                            assert_eq!(response.status(), 200);
                            let reply: Value = response.into_json().unwrap();
                            remember(&acked, &changes, &reply);
                            last = Some((
                                changes[1]["id"].as_str().unwrap().into(),
                                changes[0]["id"].as_str().unwrap().into(),
                            ));
                        }
                        Err(ureq::Error::Status(code, response)) => {
                            panic!(
                                "push answered {code}: {}",
                                response.into_string().unwrap_or_default()
                            )
                        }
                        Err(ureq::Error::Transport(_)) => break, // killed mid-request: not acknowledged
                    }
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(100 + rng.below(500)));
        app.server.kill();
        stop.store(true, Ordering::SeqCst);
        for thread in threads {
            thread.join().expect("device thread");
        }
        counter += 10_000_000;
        app.reattach(Server::start(&db, &[]));

        let pulled = app.pull_all(&world.leader1.1, &world.campaign, "checker");
        let state: HashMap<String, &Value> = pulled
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_owned(), &r["fields"]))
            .collect();
        for ((id, field), (value, hlc)) in acked.lock().unwrap().iter() {
            let stored = state.get(id).and_then(|fields| fields.get(field));
            let stored =
                stored.unwrap_or_else(|| panic!("kill {kill}: acknowledged {id}.{field} is lost"));
            assert!(
                stored["hlc"].as_str().unwrap() >= hlc.as_str(),
                "kill {kill}: {id}.{field} went back in time"
            );
            if stored["hlc"] == json!(hlc) {
                assert_eq!(
                    &stored["value"], value,
                    "kill {kill}: {id}.{field} changed value"
                );
            }
        }
        let (ok, out, err) = run_cli(&db, &["verify"]);
        assert!(ok, "kill {kill}: verify failed: {out}{err}");
    }
    let acknowledged = acked.lock().unwrap().len();
    assert!(
        acknowledged > KILLS * 4 * 4,
        "too little was pushed to prove anything: {acknowledged}"
    );
    // Re-pushing everything ever sent (acknowledged or not) may apply the unacknowledged
    // ones once; a second re-push then changes nothing at all.
    let everything = all_sent.lock().unwrap().clone();
    for round in 0..2 {
        for chunk in everything.chunks(900) {
            let by_street: HashMap<&str, Vec<Value>> =
                chunk.iter().fold(HashMap::new(), |mut m, c| {
                    m.entry(c["street_id"].as_str().unwrap())
                        .or_default()
                        .push(c.clone());
                    m
                });
            for changes in by_street.values() {
                let reply = app
                    .push(&world.admin, &world.campaign, "replayer", changes)
                    .expect(200);
                for result in reply.body["results"].as_array().unwrap() {
                    assert_ne!(result["status"], "rejected", "{result}");
                    if round == 1 {
                        assert_eq!(
                            result["status"], "unchanged",
                            "re-push changed something: {result}"
                        );
                    }
                }
            }
        }
    }
    let (ok, out, err) = run_cli(&db, &["verify"]);
    assert!(ok, "verify failed after the re-push: {out}{err}");
}

/// The address of the current server, shared with the device threads of one round.
struct TestAppHandle {
    base: String,
}

#[test]
fn acknowledged_pushes_survive_sigkill_on_sqlite() {
    acknowledged_pushes_survive_sigkill(Backend::Sqlite);
}

#[test]
fn acknowledged_pushes_survive_sigkill_on_postgres() {
    acknowledged_pushes_survive_sigkill(Backend::Postgres);
}
