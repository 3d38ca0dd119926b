//! Password guessing and login floods: throttling that counts before it hashes and holds
//! across processes, a cap on Argon2 work in flight, and the address behind a trusted
//! proxy (contract v1.1 sections 1, 3 and 12).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use canvass_api::auth::throttle::{LoginThrottle, Verdict};
use canvass_api::db::{DbConn, DbTarget};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::common::{fresh_db, spawn_app_with, Backend, Server, ADMIN_PASSWORD};

/// One login answer: status and `Retry-After`.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
}

fn login_at(base: &str, username: &str, password: &str, forwarded_for: Option<&str>) -> Answer {
    let mut request =
        ureq::post(&format!("{base}/api/v1/auth/login")).set("Content-Type", "application/json");
    if let Some(value) = forwarded_for {
        request = request.set("X-Forwarded-For", value);
    }
    let body = json!({"username": username, "password": password}).to_string();
    let response = match request.send_string(&body) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("login failed: {err}"),
    };
    Answer {
        status: response.status(),
        retry_after: response
            .header("retry-after")
            .map(|v| v.parse().expect("Retry-After in seconds")),
    }
}

/// `(base, username)` logins with a wrong password, all at once.
fn wrong_logins_at_once(targets: Vec<(String, String)>) -> Vec<Answer> {
    let barrier = Arc::new(Barrier::new(targets.len()));
    let threads: Vec<_> = targets
        .into_iter()
        .map(|(base, username)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                login_at(&base, &username, "wrong-password", None)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn count(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

/// Every answer is a verified failure (401), a throttled one (429, with `Retry-After`
/// within the window) or, if the hashing slots stayed busy, a 503 with `Retry-After`.
#[track_caller]
fn assert_only_failures_throttles_or_busy(answers: &[Answer]) {
    for answer in answers {
        match answer.status {
            401 => {}
            429 => assert!(
                answer.retry_after.is_some_and(|s| (1..=900).contains(&s)),
                "{answer:?}"
            ),
            503 => assert!(answer.retry_after.is_some(), "{answer:?}"),
            other => panic!("unexpected status {other}: {answers:?}"),
        }
    }
}

fn a_burst_of_guesses_for_one_username_verifies_at_most_ten_on_one_process_or_two(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, &[]) else {
        return;
    };
    // SQLite serves one process; on PostgreSQL a second process shares the throttle.
    let second = (backend == Backend::Postgres).then(|| Server::start(&app.db, &[]));
    let mut bases = vec![app.base.clone()];
    bases.extend(second.iter().map(|s| s.base.clone()));
    let targets = (0..60)
        .map(|i| (bases[i % bases.len()].clone(), "admin".to_owned()))
        .collect();
    let answers = wrong_logins_at_once(targets);
    assert_only_failures_throttles_or_busy(&answers);
    assert!(
        count(&answers, 401) <= 10,
        "{} guesses verified",
        count(&answers, 401)
    );
    assert!(
        count(&answers, 429) >= 50 - count(&answers, 503),
        "{answers:?}"
    );
    for base in &bases {
        let right = login_at(base, "ADMIN", ADMIN_PASSWORD, None);
        assert_eq!(
            right.status, 429,
            "throttled on every process, even the right password"
        );
    }
}

fn a_burst_of_failures_from_one_address_verifies_at_most_its_limit(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("CANVASS_LOGIN_FAILURES_PER_IP", "20")]) else {
        return;
    };
    let targets = (0..60)
        .map(|i| (app.base.clone(), format!("nobody.{i}")))
        .collect();
    let answers = wrong_logins_at_once(targets);
    assert_only_failures_throttles_or_busy(&answers);
    assert!(
        count(&answers, 401) <= 20,
        "{} failures verified",
        count(&answers, 401)
    );
    assert!(
        count(&answers, 429) >= 40 - count(&answers, 503),
        "{answers:?}"
    );
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn a_flood_of_logins_stays_under_300_mb_and_the_server_keeps_answering(backend: Backend) {
    // Unknown usernames, each once, from an address allowed to fail: all reach hashing.
    let Some(app) = spawn_app_with(backend, &[("CANVASS_LOGIN_FAILURES_PER_IP", "1000000")]) else {
        return;
    };
    let flood = 300;
    let barrier = Arc::new(Barrier::new(flood + 1));
    let threads: Vec<_> = (0..flood)
        .map(|i| {
            let (base, barrier) = (app.base.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                login_at(&base, &format!("flood.{i}"), "wrong-password", None)
            })
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let health = {
        let (base, done) = (app.base.clone(), done.clone());
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            barrier.wait();
            let mut statuses = Vec::new();
            loop {
                let status = match ureq::get(&format!("{base}/healthz")).call() {
                    Ok(response) => response.status(),
                    Err(ureq::Error::Status(status, _)) => status,
                    Err(err) => panic!("/healthz: {err}"),
                };
                statuses.push(status);
                if done.load(Ordering::SeqCst) {
                    return statuses;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let answers: Vec<Answer> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    done.store(true, Ordering::SeqCst);
    let health = health.join().unwrap();

    for answer in &answers {
        assert!(
            answer.status == 401 || (answer.status == 503 && answer.retry_after.is_some()),
            "{answer:?}"
        );
    }
    assert!(
        health.iter().all(|s| *s == 200),
        "/healthz during the flood: {health:?}"
    );
    let peak = peak_rss_kib(app.server.child.id());
    assert!(peak < 300 * 1024, "peak RSS {} MiB", peak / 1024);
}

fn behind_a_trusted_proxy_the_address_the_proxy_appended_is_counted(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        &[
            ("CANVASS_TRUST_PROXY", "true"),
            ("CANVASS_LOGIN_FAILURES_PER_IP", "3"),
        ],
    ) else {
        return;
    };
    // The client writes a fresh address each time; the proxy appends the real one.
    for n in 0..3 {
        let forged = format!("192.0.2.{n}, 198.51.100.7");
        let answer = login_at(&app.base, &format!("guess.{n}"), "wrong", Some(&forged));
        assert_eq!(answer.status, 401);
    }
    let answer = login_at(
        &app.base,
        "guess.3",
        "wrong",
        Some("192.0.2.99, 198.51.100.7"),
    );
    assert_eq!(
        answer.status, 429,
        "rotating the client-written entries gains nothing"
    );
    // Another client behind the same proxy is counted on its own.
    let answer = login_at(&app.base, "guess.4", "wrong", Some("198.51.100.8"));
    assert_eq!(answer.status, 401);
}

fn connect(db: &crate::common::TestDb) -> DbConn {
    let mut conn = DbTarget::parse(&db.url()).unwrap().connect().unwrap();
    conn.migrate().unwrap();
    conn
}

fn begin(
    conn: &mut DbConn,
    throttle: &LoginThrottle,
    name: &str,
    client: &str,
    now: i64,
) -> Verdict {
    conn.write_transaction(|c| throttle.begin(c, name, client, now))
        .unwrap()
}

fn retry_after(verdict: &Verdict) -> Option<u64> {
    match verdict {
        Verdict::Throttled { retry_after_secs } => Some(*retry_after_secs),
        Verdict::Counted(_) => None,
    }
}

fn the_window_slides_refusals_do_not_count_and_a_spray_forgets_no_one(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut conn = connect(&db);
    let throttle = LoginThrottle::new(Duration::from_secs(900), 10, 100);
    let t0 = 1_800_000_000_000_i64;
    for i in 0..10 {
        let verdict = begin(
            &mut conn,
            &throttle,
            "lan",
            &format!("10.0.0.{i}"),
            t0 + i * 1000,
        );
        assert_eq!(retry_after(&verdict), None);
    }
    // The 11th waits until the oldest failure leaves the window.
    let now = t0 + 10_000;
    assert_eq!(
        retry_after(&begin(&mut conn, &throttle, "lan", "10.0.1.1", now)),
        Some(890)
    );

    // A spray of 100,000 other usernames, inside the window and long before it.
    conn.batch_execute(&format!(
        "INSERT INTO login_attempts (id, username_key, client_key, at) \
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000) \
         SELECT 'junk-' || n, 'junk-' || n, 'spray', \
                CASE WHEN n % 2 = 0 THEN {now} ELSE {old} END FROM g",
        old = t0 - 10_000_000
    ))
    .unwrap();
    let pruned = canvass_api::db::login_attempts::prune(&mut conn, now - 900_000).unwrap();
    assert_eq!(
        pruned, 50_000,
        "only attempts older than the window are pruned"
    );
    for _ in 0..5 {
        assert!(retry_after(&begin(&mut conn, &throttle, "lan", "10.0.2.1", now)).is_some());
    }

    // Just after the oldest failure leaves, one slot is free: the refusals did not count.
    let later = t0 + 900_001;
    assert_eq!(
        retry_after(&begin(&mut conn, &throttle, "lan", "10.0.3.1", later)),
        None
    );
    assert_eq!(
        retry_after(&begin(&mut conn, &throttle, "lan", "10.0.3.2", later)),
        Some(1),
        "the next slot frees when the failure of t0 + 1 s leaves"
    );
}

macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[test] fn $name() { super::$name(crate::common::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(crate::common::Backend::Postgres) } )* }
    };
}

per_backend!(
    a_burst_of_guesses_for_one_username_verifies_at_most_ten_on_one_process_or_two,
    a_burst_of_failures_from_one_address_verifies_at_most_its_limit,
    a_flood_of_logins_stays_under_300_mb_and_the_server_keeps_answering,
    behind_a_trusted_proxy_the_address_the_proxy_appended_is_counted,
    the_window_slides_refusals_do_not_count_and_a_spray_forgets_no_one,
);
