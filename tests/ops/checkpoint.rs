//! A SQLite server copies its write-ahead log into the database file on a thread of its
//! own (api/src/db/checkpointer.rs): a committed write reaches the database file within a
//! moment, long before the writer's own automatic checkpoint (10,000 pages) would run.

use std::time::{Duration, Instant};

use crate::common::{fresh_db, Backend, Server, TestDb, ADMIN_PASSWORD};

fn database_file(db: &TestDb) -> Vec<u8> {
    let TestDb::Sqlite(dir) = db else {
        unreachable!("a SQLite test database")
    };
    std::fs::read(dir.0.join("canvass.db")).unwrap()
}

fn log_in(server: &Server) {
    let answer = ureq::post(&format!("{}/api/v1/auth/login", server.base))
        .send_json(serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}));
    assert_eq!(answer.map(|r| r.status()).ok(), Some(200));
}

/// The database file once it has stopped changing (the start-up writes copied in).
fn settled(db: &TestDb) -> Vec<u8> {
    let mut last = database_file(db);
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let now = database_file(db);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn a_committed_write_reaches_the_database_file_without_the_writers_checkpoint() {
    let db = fresh_db(Backend::Sqlite).unwrap();
    let server = Server::start(&db, &[]);
    let before = settled(&db);
    // A login writes its refresh token: a few pages of the log, far below 10,000.
    log_in(&server);
    let deadline = Instant::now() + Duration::from_secs(5);
    while database_file(&db) == before {
        assert!(
            Instant::now() < deadline,
            "the committed login is still only in the write-ahead log after 5 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
