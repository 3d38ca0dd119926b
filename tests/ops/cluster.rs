//! Three `canvass serve` processes on one PostgreSQL database (contract §1): phones
//! (`sync_protocol::Replica`) push and pull through all three at random, a ward leader
//! reviews through the first while pushes go through the others, failed logins go through
//! all three, and the third process is SIGKILLed and restarted mid-run. Pulls never skip or
//! repeat a record version, throttling holds across the processes, counters equal a
//! recount, and nothing acknowledged is lost.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use sync_protocol::{NewVisit, Outcome, PullResponse, PushResponse, PushStatus, Replica};
use uuid::Uuid;

use crate::common::{spawn_app, Backend, Server, World};
use crate::support::*;

/// xorshift64*: deterministic choices without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// An HTTP client that reports a refused or cut connection (a killed process) as None.
struct Http(ureq::Agent);

/// Status, body and `Retry-After` of an answer.
type Answer = (u16, Value, Option<String>);

impl Http {
    fn new() -> Http {
        Http(
            ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        )
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Option<Answer> {
        let mut request = self.0.request(method, url);
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(_)) => return None,
        };
        let status = response.status();
        let retry_after = response.header("retry-after").map(str::to_owned);
        let text = response.into_string().ok()?;
        Some((
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            retry_after,
        ))
    }
}

struct Phone {
    replica: Replica,
    token: String,
    street: Uuid,
    campaign: Uuid,
    /// Record ids of every change the server acknowledged.
    acknowledged: BTreeSet<Uuid>,
}

const ROUNDS: usize = 12;

/// One to three offline edits: a new household, or a visit to a known one.
fn edit(phone: &mut Phone, rng: &mut Rng) {
    for _ in 0..1 + rng.below(3) {
        let houses: Vec<Uuid> = phone
            .replica
            .records()
            .filter(|(_, r)| r.kind == sync_protocol::Kind::Household)
            .map(|(id, _)| *id)
            .collect();
        let now = now_ms();
        if houses.is_empty() || rng.below(100) < 35 {
            let number = format!("{}", 1 + rng.below(40));
            phone
                .replica
                .add_household(phone.street, &number, now)
                .unwrap();
        } else {
            let house = houses[rng.below(houses.len())];
            let phones = rng.below(5) as u32;
            phone
                .replica
                .record_visit(
                    phone.campaign,
                    phone.street,
                    house,
                    NewVisit {
                        outcome: Outcome::InstalledNow,
                        visited_at: "2026-11-28T09:30:00+07:00".into(),
                        smartphone_users: Some(phones + 1),
                        app_users: Some(phones),
                    },
                    now,
                )
                .unwrap();
        }
    }
}

/// Sends `body` to `path` through random processes until one answers.
fn through_any(
    http: &Http,
    nodes: &[String],
    rng: &mut Rng,
    path: &str,
    token: &str,
    body: &Value,
) -> Answer {
    for _ in 0..1000 {
        let node = &nodes[rng.below(nodes.len())];
        if let Some(answer) = http.send("POST", &format!("{node}{path}"), Some(token), Some(body)) {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no process answered {path}");
}

fn push_all(http: &Http, nodes: &[String], phone: &mut Phone, rng: &mut Rng) {
    let batch = phone.replica.prepare_push(phone.campaign);
    if batch.is_empty() {
        return;
    }
    let body = serde_json::to_value(batch.request()).unwrap();
    let (status, answer, _) =
        through_any(http, nodes, rng, "/api/v1/sync/push", &phone.token, &body);
    assert_eq!(status, 200, "push answered {status}: {answer}");
    let answer: PushResponse = serde_json::from_value(answer).unwrap();
    for (change, result) in batch.request().changes.iter().zip(&answer.results) {
        assert_ne!(
            result.status,
            PushStatus::Rejected,
            "a valid change was rejected: {result:?}"
        );
        phone
            .acknowledged
            .insert(change.id.as_str().unwrap().parse().unwrap());
    }
    phone.replica.acknowledge(&batch, &answer).unwrap();
}

/// Pulls in small pages through random processes, checking that no page repeats a record
/// version: every change is after its bucket's cursor and seqs rise within a bucket.
fn pull_all_pages(http: &Http, nodes: &[String], phone: &mut Phone, rng: &mut Rng) {
    for _ in 0..10_000 {
        let limit = 1 + rng.below(8) as u32;
        let request = phone.replica.pull_request(phone.campaign, Some(limit));
        let body = serde_json::to_value(&request).unwrap();
        let (status, answer, _) =
            through_any(http, nodes, rng, "/api/v1/sync/pull", &phone.token, &body);
        assert_eq!(status, 200, "pull answered {status}: {answer}");
        let answer: PullResponse = serde_json::from_value(answer).unwrap();
        let mut last: BTreeMap<Uuid, i64> = request.cursors.clone();
        for change in &answer.changes {
            let before = last.get(&change.street_id).copied().unwrap_or(0);
            assert!(
                change.seq > before,
                "record version repeated: seq {} after {before}",
                change.seq
            );
            last.insert(change.street_id, change.seq);
        }
        if !phone.replica.apply_pull(&request, &answer).has_more {
            return;
        }
    }
    panic!("pull never ended");
}

fn state_of(phone: &Phone) -> BTreeMap<String, Value> {
    phone
        .replica
        .records()
        .filter(|(_, r)| r.street_id == phone.street)
        .map(|(id, r)| (id.to_string(), serde_json::to_value(&r.state).unwrap()))
        .collect()
}

#[test]
fn three_processes_on_one_database_act_as_one_server() {
    let Some(app) = spawn_app(Backend::Postgres) else {
        return;
    };
    let world = World::build(&app);
    // The username the failed logins aim at.
    volunteer(&app, &world, "tnv.khoa", &world.ward1);
    let second = Server::start(&app.db, &[]);
    let mut third = Server::start(&app.db, &[]);
    let third_bind = third.bind();
    let nodes = vec![app.base.clone(), second.base.clone(), third.base.clone()];
    let campaign: Uuid = world.campaign.parse().unwrap();

    let people = [
        ("lan-a", &world.volunteer1.1, &world.street1),
        ("lan-b", &world.volunteer1.1, &world.street1),
        ("minh", &world.volunteer2.1, &world.street1),
        ("thu", &world.volunteer3.1, &world.street3),
    ];
    let mut phones: Vec<Phone> = people
        .iter()
        .map(|(device, token, street)| Phone {
            replica: Replica::new(device, 300_000).unwrap(),
            token: (*token).clone(),
            street: street.parse().unwrap(),
            campaign,
            acknowledged: BTreeSet::new(),
        })
        .collect();

    let rounds_total = phones.len() * ROUNDS;
    let progress = AtomicUsize::new(0);
    let running = AtomicBool::new(true);
    let reviews = AtomicUsize::new(0);
    let wrong_password_401s = std::thread::scope(|scope| {
        for (i, phone) in phones.iter_mut().enumerate() {
            let nodes = &nodes;
            let progress = &progress;
            scope.spawn(move || {
                let http = Http::new();
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1) << 8);
                for _ in 0..ROUNDS {
                    edit(phone, &mut rng);
                    push_all(&http, nodes, phone, &mut rng);
                    pull_all_pages(&http, nodes, phone, &mut rng);
                    progress.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        // Reviews through the first process only, while pushes go through all three.
        let reviewer = scope.spawn(|| {
            let http = Http::new();
            let mut rng = Rng(42);
            let list = format!(
                "{}/api/v1/campaigns/{}/visits?page_size=100",
                nodes[0], world.campaign
            );
            while running.load(Ordering::SeqCst) {
                let (status, page, _) = http
                    .send("GET", &list, Some(&world.leader1.1), None)
                    .unwrap();
                assert_eq!(status, 200, "{page}");
                let on_street1: Vec<&Value> = page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|v| v["street_id"] == world.street1)
                    .collect();
                if on_street1.is_empty() {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let v = on_street1[rng.below(on_street1.len())]["id"]
                    .as_str()
                    .unwrap();
                let verdict = ["verified", "rejected"][rng.below(2)];
                let url = format!(
                    "{}/api/v1/campaigns/{}/visits/{v}/review",
                    nodes[0], world.campaign
                );
                let (status, body, _) = http
                    .send(
                        "POST",
                        &url,
                        Some(&world.leader1.1),
                        Some(&json!({"review": verdict})),
                    )
                    .unwrap();
                assert_eq!(status, 200, "review answered {status}: {body}");
                reviews.fetch_add(1, Ordering::SeqCst);
            }
        });
        // Failed logins through all three until one of them throttles.
        let guesser = scope.spawn(|| {
            let http = Http::new();
            let mut rng = Rng(7);
            let mut unauthorized = 0;
            loop {
                let (status, body, retry_after) = through_any(
                    &http,
                    &nodes,
                    &mut rng,
                    "/api/v1/auth/login",
                    "",
                    &json!({"username": "tnv.khoa", "password": "sai-mat-khau-0"}),
                );
                match status {
                    401 => unauthorized += 1,
                    429 => {
                        assert!(retry_after.is_some(), "429 without Retry-After");
                        return unauthorized;
                    }
                    other => panic!("a failed login answered {other}: {body}"),
                }
                assert!(unauthorized <= 50, "never throttled");
            }
        });
        // Halfway through, the third process dies without a goodbye and comes back.
        while progress.load(Ordering::SeqCst) < rounds_total / 2 {
            std::thread::sleep(Duration::from_millis(20));
        }
        third.kill();
        std::thread::sleep(Duration::from_millis(300));
        third = Server::start_on(&app.db, &third_bind, &[]);
        while progress.load(Ordering::SeqCst) < rounds_total {
            std::thread::sleep(Duration::from_millis(20));
        }
        running.store(false, Ordering::SeqCst);
        reviewer.join().unwrap();
        guesser.join().unwrap()
    });
    assert!(reviews.load(Ordering::SeqCst) > 0, "no review happened");

    // Throttling is the database's: the limit held across the three processes, and now
    // each of them, the restarted one included, refuses even the right password.
    assert!(
        wrong_password_401s <= 10,
        "{wrong_password_401s} wrong passwords answered 401 before any 429 (limit 10)"
    );
    let http = Http::new();
    for node in &nodes {
        let (status, body, retry_after) = http
            .send(
                "POST",
                &format!("{node}/api/v1/auth/login"),
                None,
                Some(&json!({"username": "tnv.khoa", "password": crate::common::world::PASSWORD})),
            )
            .unwrap();
        assert_eq!(status, 429, "{node} let a throttled username in: {body}");
        assert!(retry_after.is_some());
    }

    // Every phone ends with the server's state of its street; nothing acknowledged is lost.
    let mut rng = Rng(99);
    let fresh_s1 = pull_all(&app, &world.leader1.1, &world.campaign, "fresh", 7);
    let fresh_s3 = pull_all(&app, &world.leader2.1, &world.campaign, "fresh", 7);
    let mut total = 0;
    for phone in phones.iter_mut() {
        pull_all_pages(&http, &nodes, phone, &mut rng);
        let server = if phone.street.to_string() == world.street1 {
            fresh_s1.on_street(&world.street1)
        } else {
            fresh_s3.on_street(&world.street3)
        };
        assert_eq!(
            state_of(phone),
            server,
            "{} differs",
            phone.replica.device_id()
        );
        for id in &phone.acknowledged {
            assert!(
                server.contains_key(&id.to_string()),
                "{id} was acknowledged and is gone"
            );
        }
        total += phone.acknowledged.len();
        assert!(phone.replica.outbox().is_empty());
    }
    assert!(total > 20, "too little happened: {total}");
    assert_verified(&app);
    drop(third);
}
