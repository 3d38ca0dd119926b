//! Database outages survived (contract §12 "Retrying"): a TCP relay between the server and
//! PostgreSQL cuts every connection and refuses new ones while phones push, then lets them
//! through again. The shared PostgreSQL itself is never stopped. While it is cut, requests
//! that need the database answer 503 `unavailable` with `Retry-After` within the client's
//! timeout (never a 500, never a hang) and `/readyz` answers 503; afterwards the server
//! recovers by itself and every push that got a 200 is there.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::relay::Relay;
use crate::common::{fresh_db, run_cli, Backend, Server, TestApp, TestDb, World};
use crate::support::*;

/// What the pushers saw.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) ok: AtomicUsize,
    pub(crate) unavailable: AtomicUsize,
    pub(crate) other: Mutex<Vec<String>>,
    pub(crate) acknowledged: Mutex<Vec<String>>,
    /// The household and visit of each push answered 503: stored both or neither.
    pub(crate) refused: Mutex<Vec<(String, String)>>,
}

/// The client's timeout: an answer must come within it, even while the database is gone.
pub(crate) const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn push_house(
    agent: &ureq::Agent,
    base: &str,
    world: &World,
    device: &str,
    n: usize,
    seen: &Seen,
) {
    let mut clock = Ticker::new(device);
    let number = format!("{device}-{n}");
    let house = house_id(&world.street1, &number);
    let v = new_id();
    let body = json!({"campaign_id": world.campaign, "device_id": device, "changes": [
        household(&house, &world.street1, &[("house_number", json!(number))], &clock.next()),
        visit(&v, &world.street1, &house,
              &knock("installed_now", "2026-11-28T09:30:00+07:00", 2, 1), &clock.next()),
    ]});
    let result = agent
        .post(&format!("{base}/api/v1/sync/push"))
        .set("Authorization", &format!("Bearer {}", world.volunteer1.1))
        .send_json(body);
    match result {
        Ok(response) => {
            let answer: Value = response.into_json().unwrap();
            let statuses: Vec<&str> = answer["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].as_str().unwrap())
                .collect();
            assert_eq!(statuses, ["applied", "applied"]);
            seen.ok.fetch_add(1, Ordering::SeqCst);
            seen.acknowledged.lock().unwrap().extend([house, v]);
        }
        Err(ureq::Error::Status(503, response)) => {
            let retry = response.header("retry-after").map(str::to_owned);
            let problem: Value = response.into_json().unwrap_or(Value::Null);
            if retry.is_none() || problem["code"] != "unavailable" {
                seen.other
                    .lock()
                    .unwrap()
                    .push(format!("503 {retry:?} {problem}"));
            }
            seen.unavailable.fetch_add(1, Ordering::SeqCst);
            seen.refused.lock().unwrap().push((house, v));
        }
        Err(ureq::Error::Status(code, response)) => {
            let text = response.into_string().unwrap_or_default();
            seen.other.lock().unwrap().push(format!("{code} {text}"));
        }
        Err(err) => seen.other.lock().unwrap().push(format!("no answer: {err}")),
    }
}

pub(crate) fn readyz(base: &str) -> u16 {
    let agent = ureq::AgentBuilder::new().timeout(CLIENT_TIMEOUT).build();
    match agent.get(&format!("{base}/readyz")).call() {
        Ok(response) => response.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(err) => panic!("/readyz did not answer: {err}"),
    }
}

/// Starts three phones pushing new households, one after the other, until the returned
/// guard is dropped (however the test ends, so a failed assertion cannot hang the scope);
/// what they see is counted in `seen`. Returns once 10 pushes were acknowledged.
pub(crate) fn start_pushers<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    base: &'scope str,
    world: &'scope World,
    seen: &'scope Seen,
    pushing: &'scope AtomicBool,
) -> StopOnDrop<'scope> {
    let stop = StopOnDrop(pushing);
    for p in 0..3 {
        scope.spawn(move || {
            let agent = ureq::AgentBuilder::new().timeout(CLIENT_TIMEOUT).build();
            let device = format!("phone-{p}");
            let mut n = 0;
            while pushing.load(Ordering::SeqCst) {
                push_house(&agent, base, world, &device, n, seen);
                n += 1;
            }
        });
    }
    wait_for("pushes acknowledged before the fault", || {
        seen.ok.load(Ordering::SeqCst) >= 10
    });
    stop
}

/// Stops the pushers when dropped.
pub(crate) struct StopOnDrop<'a>(pub(crate) &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Waits for `done`, failing after a generous bound instead of hanging the suite.
pub(crate) fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_database_outage_answers_503_and_recovers_with_nothing_acknowledged_lost() {
    let Some(real) = fresh_db(Backend::Postgres) else {
        return;
    };
    let TestDb::Postgres { name, .. } = &real else {
        unreachable!()
    };
    let proxy = Relay::start("127.0.0.1:5432");
    let proxied = TestDb::Postgres {
        name: name.clone(),
        admin_url: format!("postgres://postgres@127.0.0.1:{}/test", proxy.port),
    };
    let app = TestApp::new(Server::start(&proxied, &[]), proxied, Backend::Postgres);
    let world = World::build(&app);

    let seen = Seen::default();
    let pushing = AtomicBool::new(true);
    std::thread::scope(|scope| {
        let _stop = start_pushers(scope, &app.base, &world, &seen, &pushing);
        proxy.cut();
        wait_for("503s during the outage", || {
            seen.unavailable.load(Ordering::SeqCst) >= 6
        });
        assert_eq!(readyz(&app.base), 503, "/readyz while the database is gone");
        let during = seen.ok.load(Ordering::SeqCst);
        proxy.restore();
        wait_for("pushes after the outage", || {
            seen.ok.load(Ordering::SeqCst) >= during + 10
        });
    });
    assert_eq!(readyz(&app.base), 200);
    let other = seen.other.lock().unwrap();
    assert!(
        other.is_empty(),
        "answers other than 200 and 503 unavailable: {other:?}"
    );

    // Every acknowledged push is there, and the counters equal a recount.
    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "check", 1000);
    for id in seen.acknowledged.lock().unwrap().iter() {
        assert!(
            pulled.records.contains_key(id),
            "{id} got a 200 and is gone"
        );
    }
    let (ok, stdout, stderr) = run_cli(&real, &["verify"]);
    assert!(ok, "verify failed:\n{stdout}\n{stderr}");
}
