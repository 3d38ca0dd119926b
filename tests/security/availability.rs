//! Database availability (contract §12 "Retrying"): a long write never starves readers, a
//! request that cannot get the database in time answers 503 `unavailable` with
//! `Retry-After` (never 500, never a hang), and the server recovers by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::common::relay::Relay;
use crate::common::{fresh_db, spawn_app, Backend, Resp, Server, TestApp, World};

/// A ward leader's import as big as the one that froze the server: 350,000 households
/// (about 3.9 MB) on the two streets of ward 1.
fn big_household_csv() -> String {
    let mut csv = String::with_capacity(4 * 1024 * 1024);
    csv.push_str("street_code,house_number\n");
    for n in 0..350_000u32 {
        let street = if n.is_multiple_of(2) {
            "25741-H12"
        } else {
            "25741-H14"
        };
        csv.push_str(&format!("{street},{}/{}\n", n / 2, n % 7));
    }
    csv
}

/// One new household on `street` pushed by a volunteer.
fn push_one_house(app: &TestApp, token: &str, world: &World, street: &str, number: &str) -> Resp {
    let street_uuid = uuid::Uuid::parse_str(street).unwrap();
    let id = sync_protocol::household_id(street_uuid, number).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let body = json!({"campaign_id": world.campaign, "device_id": "phone-probe", "changes": [
        {"kind": "household", "id": id, "street_id": street,
         "fields": {"house_number": {"value": number, "hlc": format!("{now}-0000-phone-probe")}}}
    ]});
    app.send_once(
        "POST",
        "/api/v1/sync/push",
        Some(token),
        Some("application/json"),
        Some(&serde_json::to_vec(&body).unwrap()),
    )
}

/// A 503 must say when to come back; anything else but 200 is a failure.
#[track_caller]
fn assert_ok_or_unavailable(what: &str, resp: &Resp) {
    match resp.status {
        200 => {}
        503 => {
            assert_eq!(resp.code(), "unavailable", "{what}: {}", resp.text);
            let retry: u64 = resp
                .header("retry-after")
                .unwrap_or_else(|| panic!("{what}: 503 without Retry-After"))
                .parse()
                .unwrap();
            assert!(retry >= 1);
        }
        other => panic!("{what} answered {other}: {}", resp.text),
    }
}

/// Ends the probing loops even when the import's thread panics.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn a_big_import_starves_no_reader_and_nothing_answers_500(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    let world = World::build(&app);
    let app = Arc::new(app);
    let done = Arc::new(AtomicBool::new(false));
    let importer = {
        let (url, done) = (app.url("/api/v1/households/import"), done.clone());
        let token = world.leader1.1.clone();
        let csv = big_household_csv();
        std::thread::spawn(move || {
            let _done = SetOnDrop(done);
            // A debug build on a loaded machine may take minutes; the status is what counts.
            let agent = ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(1800))
                .build();
            let answer = agent
                .post(&url)
                .set("Authorization", &format!("Bearer {token}"))
                .set("Content-Type", "text/csv")
                .send_string(&csv);
            match answer {
                Ok(resp) => (resp.status(), resp.into_string().unwrap()),
                Err(ureq::Error::Status(code, resp)) => (code, resp.into_string().unwrap()),
                Err(err) => panic!("import failed: {err}"),
            }
        })
    };
    // More writers than the pool has connections, all queued behind the import.
    let pushers: Vec<_> = (0..12)
        .map(|p| {
            let (app, done, world) = (app.clone(), done.clone(), world.clone());
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                let mut n = 0;
                while !done.load(Ordering::SeqCst) {
                    let number = format!("probe {p}-{n}");
                    answers.push(push_one_house(
                        &app,
                        &world.volunteer1.1,
                        &world,
                        &world.street1,
                        &number,
                    ));
                    n += 1;
                }
                answers
            })
        })
        .collect();
    let coverage_path = format!(
        "/api/v1/campaigns/{}/coverage?area_id={}",
        world.campaign, world.ward1
    );
    let mut reads_during_import = 0;
    while !done.load(Ordering::SeqCst) {
        let coverage = app.send_once("GET", &coverage_path, Some(&world.leader1.1), None, None);
        assert_eq!(
            coverage.status, 200,
            "a coverage read behind an import: {}",
            coverage.text
        );
        let ready = app.send_once("GET", "/readyz", None, None, None);
        assert_eq!(
            ready.status, 200,
            "/readyz behind an import: {}",
            ready.text
        );
        if !done.load(Ordering::SeqCst) {
            reads_during_import += 1;
        }
    }
    let (status, text) = importer.join().unwrap();
    assert_eq!(status, 200, "{text}");
    let import: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(import["created"], json!(350_000), "{text}");
    assert!(
        reads_during_import > 0,
        "the import was over before any read was tried"
    );
    for pusher in pushers {
        for answer in pusher.join().unwrap() {
            assert_ok_or_unavailable("a push during an import", &answer);
        }
    }
    // Once the import is committed, pushes go through again.
    push_one_house(&app, &world.volunteer1.1, &world, &world.street1, "after 1").expect(200);
    let coverage = app.get(&coverage_path, &world.leader1.1).expect(200);
    assert!(coverage.body["households_total"].as_i64().unwrap() >= 350_001);
}

/// Another process holds the write lock (SQLite) or the street's row lock (PostgreSQL):
/// the push cannot get the database in time and says so with 503, reads go on, and the
/// push succeeds once the lock is gone.
fn a_write_that_cannot_get_its_lock_in_time_answers_503(backend: Backend) {
    let Some(app) = spawn_app(backend) else {
        return;
    };
    let world = World::build(&app);
    let mut holder = canvass_api::db::DbTarget::parse(&app.db.url())
        .unwrap()
        .connect()
        .unwrap();
    match backend {
        Backend::Sqlite => holder.batch_execute("BEGIN IMMEDIATE").unwrap(),
        Backend::Postgres => holder
            .batch_execute(&format!(
                "BEGIN; SELECT id FROM streets WHERE id = '{}' FOR UPDATE",
                world.street1
            ))
            .unwrap(),
    }
    let blocked = push_one_house(&app, &world.volunteer1.1, &world, &world.street1, "12A");
    blocked.clone().expect_problem(503, "unavailable");
    assert!(
        blocked.header("retry-after").is_some(),
        "{:?}",
        blocked.headers
    );
    app.get(
        &format!(
            "/api/v1/campaigns/{}/coverage?area_id={}",
            world.campaign, world.ward1
        ),
        &world.leader1.1,
    )
    .expect(200);
    app.get("/readyz", "").expect(200);
    holder.batch_execute("ROLLBACK").unwrap();
    let retried = push_one_house(&app, &world.volunteer1.1, &world, &world.street1, "12A");
    let results: Vec<Value> = retried.clone().expect(200).body["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results[0]["status"], json!("applied"), "{}", retried.text);
}

/// PostgreSQL goes away under a running server: requests that need it answer 503 with
/// `Retry-After` (never 500), `/readyz` answers 503, `/healthz` still 200; when it is back
/// the server serves again by itself, and nothing acknowledged before is lost.
fn an_unreachable_database_answers_503_and_the_server_recovers(backend: Backend) {
    assert_eq!(backend, Backend::Postgres);
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let url = db.url();
    let (head, tail) = url.split_once('@').unwrap();
    let (host, name) = tail.split_once('/').unwrap();
    let relay = Relay::start(host);
    let relayed = format!("{head}@127.0.0.1:{}/{name}", relay.port);
    let server = Server::start_url(&relayed, "127.0.0.1:0", &[]);
    let app = TestApp::new(server, db, backend);
    let world = World::build(&app);
    push_one_house(&app, &world.volunteer1.1, &world, &world.street1, "7").expect(200);

    relay.cut();
    for _ in 0..3 {
        let me = app.get("/api/v1/me", &world.volunteer1.1);
        me.clone().expect_problem(503, "unavailable");
        assert!(me.header("retry-after").is_some());
        let pushed = push_one_house(&app, &world.volunteer1.1, &world, &world.street1, "9");
        pushed.clone().expect_problem(503, "unavailable");
        let ready = app.get("/readyz", "");
        ready.clone().expect_problem(503, "unavailable");
        assert!(ready.header("retry-after").is_some());
        app.get("/healthz", "").expect(200);
    }

    relay.restore();
    let mut ready = app.get("/readyz", "");
    for _ in 0..50 {
        if ready.status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        ready = app.get("/readyz", "");
    }
    ready.expect(200);
    push_one_house(&app, &world.volunteer1.1, &world, &world.street1, "9").expect(200);
    let houses: Vec<Value> = app.pull_all(&world.volunteer1.1, &world.campaign, "checker");
    let numbers: Vec<&Value> = houses
        .iter()
        .map(|r| &r["fields"]["house_number"]["value"])
        .collect();
    assert!(
        numbers.contains(&&json!("7")) && numbers.contains(&&json!("9")),
        "{numbers:?}"
    );
}

macro_rules! per_backend {
    ($($name:ident),*) => {
        mod sqlite { $( #[test] fn $name() { super::$name(crate::common::Backend::Sqlite) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(crate::common::Backend::Postgres) } )* }
    };
}

per_backend!(
    a_big_import_starves_no_reader_and_nothing_answers_500,
    a_write_that_cannot_get_its_lock_in_time_answers_503
);

mod postgres_only {
    #[test]
    fn an_unreachable_database_answers_503_and_the_server_recovers() {
        super::an_unreachable_database_answers_503_and_the_server_recovers(
            crate::common::Backend::Postgres,
        );
    }
}
