//! Backups that restore: a copy taken while phones push, restored into a fresh database,
//! counts exactly (`canvass verify`), holds every push acknowledged before it started, and
//! phones' cursors from after the backup start over (contract §12) without a new seq ever
//! equal to one they saw.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::common::{fresh_db, run_cli, Backend, Server, TestApp, TestDb, World};
use crate::support::*;

/// Pushes one new house with a visit on street 1; returns the visit id once acknowledged.
fn push_house(app: &TestApp, world: &World, device: &str, n: usize) -> Option<String> {
    let mut clock = Ticker::new(device);
    let number = format!("{device}-{n}");
    let house = house_id(&world.street1, &number);
    let v = new_id();
    let resp = app.try_post(
        "/api/v1/sync/push",
        &world.volunteer1.1,
        &json!({"campaign_id": world.campaign, "device_id": device, "changes": [
            household(&house, &world.street1, &[("house_number", json!(number))], &clock.next()),
            visit(&v, &world.street1, &house,
                  &knock("installed_now", "2026-11-28T09:30:00+07:00", 2, 1), &clock.next()),
        ]}),
    )?;
    (resp.status == 200 && statuses(&resp) == ["applied", "applied"]).then_some(v)
}

/// Takes the backup: SQLite with `canvass backup`, PostgreSQL with `pg_dump -Fc`.
fn back_up(app: &TestApp, file: &str) {
    match app.backend {
        Backend::Sqlite => {
            let (ok, stdout, stderr) = run_cli(&app.db, &["backup", file]);
            assert!(ok, "canvass backup failed:\n{stdout}\n{stderr}");
        }
        Backend::Postgres => {
            let status = Command::new("pg_dump")
                .args(["-Fc", "-f", file, "-d", &app.db.url()])
                .status()
                .expect("run pg_dump");
            assert!(status.success(), "pg_dump failed");
        }
    }
}

/// Restores the backup into a fresh database.
fn restore(backend: Backend, file: &str) -> TestDb {
    let db = fresh_db(backend).unwrap();
    match backend {
        Backend::Sqlite => {
            let url = db.url();
            let path = url.trim_start_matches("sqlite://");
            std::fs::copy(file, path).expect("copy the backup into place");
        }
        Backend::Postgres => {
            let status = Command::new("pg_restore")
                .args(["--no-owner", "-d", &db.url(), file])
                .status()
                .expect("run pg_restore");
            assert!(status.success(), "pg_restore failed");
        }
    }
    db
}

fn visit_ids(app: &TestApp, world: &World) -> BTreeSet<String> {
    let list = visits(app, &world.admin, &world.campaign, "page_size=1000");
    ids(&list).into_iter().collect()
}

fn a_backup_taken_under_pushes_restores(app: TestApp) {
    let world = World::build(&app);
    let workdir = std::env::temp_dir().join(format!("canvass-backup-{}", new_id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let file = workdir.join("backup.db").display().to_string();

    let before: Vec<String> = (0..5)
        .filter_map(|n| push_house(&app, &world, "phone-before", n))
        .collect();
    assert_eq!(before.len(), 5);

    let pushing = AtomicBool::new(true);
    let during: Vec<String> = std::thread::scope(|scope| {
        let pusher = scope.spawn(|| {
            let mut acked = Vec::new();
            let mut n = 0;
            while pushing.load(Ordering::SeqCst) || n < 5 {
                acked.extend(push_house(&app, &world, "phone-during", n));
                n += 1;
            }
            acked
        });
        back_up(&app, &file);
        pushing.store(false, Ordering::SeqCst);
        pusher.join().unwrap()
    });
    assert!(!during.is_empty());

    // The phone synced everything, so its cursors are past what the backup holds.
    let phone = pull_all(&app, &world.volunteer1.1, &world.campaign, "phone-lan", 100);
    let old_cursors = phone.cursors.clone();
    let old_seq = old_cursors[&world.street1].as_i64().unwrap();

    let restored_db = restore(app.backend, &file);
    let (ok, stdout, stderr) = run_cli(&restored_db, &["verify"]);
    assert!(
        ok,
        "verify of the restored copy failed:\n{stdout}\n{stderr}"
    );
    let (ok, stdout, stderr) = run_cli(&restored_db, &["migrate", "--after-restore"]);
    assert!(ok, "migrate --after-restore failed:\n{stdout}\n{stderr}");
    let restored = TestApp::new(Server::start(&restored_db, &[]), restored_db, app.backend);

    // Everything acknowledged before the backup began is there.
    let kept = visit_ids(&restored, &world);
    for v in &before {
        assert!(
            kept.contains(v),
            "visit {v} acknowledged before the backup is missing"
        );
    }

    // The phone's old cursors start over: it gets the whole restored street again.
    let again = restored
        .pull(
            &world.volunteer1.1,
            &world.campaign,
            "phone-lan",
            &old_cursors,
            5000,
        )
        .expect(200)
        .body;
    assert_eq!(again["has_more"], false);
    let again_ids: BTreeSet<&str> = again["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let fresh = pull_all(
        &restored,
        &world.volunteer1.1,
        &world.campaign,
        "phone-other",
        100,
    );
    assert_eq!(
        again_ids,
        fresh
            .records
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
    );
    assert!(again_ids.len() >= before.len() * 2);

    // A new push after the restore gets a seq above every one the phone saw before it,
    // and the phone's next pull brings exactly it.
    let after = push_house(&restored, &world, "phone-after", 0).unwrap();
    let next = pull_from(
        &restored,
        &world.volunteer1.1,
        &world.campaign,
        "phone-lan",
        &again["cursors"],
        100,
    );
    let new_ids: BTreeSet<&String> = next.records.keys().collect();
    assert!(new_ids.contains(&after), "the new visit did not arrive");
    assert_eq!(
        new_ids.len(),
        2,
        "more than the new house and visit: {new_ids:?}"
    );
    for record in next.records.values() {
        assert!(
            record["seq"].as_i64().unwrap() > old_seq,
            "seq {} reuses one the phone saw before the restore (≤ {old_seq})",
            record["seq"]
        );
    }
    let _ = std::fs::remove_dir_all(&workdir);
}

crate::both_backends!(a_backup_taken_under_pushes_restores);
