//! A full disk under SQLite (docs/operations.md, "Disk full"): the SQLite file lives on a
//! real, small filesystem (a tmpfs mounted for the test) that a ballast file fills while
//! phones push. Writes are then refused with 503 `unavailable` and `Retry-After` (never a
//! 500), `/readyz` answers 503, reads go on; once the ballast is deleted pushes succeed
//! again without a restart, every push that got a 200 is there and `canvass verify` finds
//! the counters equal to a recount.
//!
//! SQLite only: a PostgreSQL server whose disk is full refuses writes and, at worst, shuts
//! down, which the server sees as the database out of reach; that is the outage test
//! (`outage.rs`), and filling the disk of the shared PostgreSQL would break every other
//! test using it.
//!
//! Mounting needs root. Without it the test is skipped loudly, unless
//! `CANVASS_REQUIRE_DISK_FULL=1` (set by `.ci/run`) makes that a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{fresh_db, run_cli, Backend, Server, TestApp, World};
use crate::outage::{readyz, start_pushers, wait_for, Seen};
use crate::support::*;

/// The size of the filesystem: room for the database, a WAL of a few MiB and the
/// headroom `/readyz` probes for once space is freed.
const TMPFS_SIZE: &str = "32m";

/// A tmpfs mounted on a directory; unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs on `dir`, or says why it cannot.
    fn mount(dir: &Path) -> Result<Tmpfs, String> {
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={TMPFS_SIZE}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|err| format!("cannot run mount: {err}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn disk_full_required() -> bool {
    std::env::var("CANVASS_REQUIRE_DISK_FULL").is_ok_and(|v| v == "1" || v == "true")
}

/// Writes `path` until the filesystem refuses more (ENOSPC).
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        if let Err(err) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            assert_eq!(
                err.raw_os_error(),
                Some(28),
                "the ballast stopped for another reason than ENOSPC: {err}"
            );
            return;
        }
    }
}

#[test]
fn a_full_disk_refuses_writes_with_503_and_recovers_once_space_is_freed_with_nothing_acknowledged_lost(
) {
    let db = fresh_db(Backend::Sqlite).unwrap();
    let url = db.url();
    let database = Path::new(url.trim_start_matches("sqlite://"));
    let dir = database.parent().unwrap().to_owned();
    // Declared after the database: dropped (unmounted) before it is removed.
    let _tmpfs = match Tmpfs::mount(&dir) {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            assert!(
                !disk_full_required(),
                "CANVASS_REQUIRE_DISK_FULL is set but a tmpfs cannot be mounted: {why}"
            );
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! the SQLite disk-full test is SKIPPED: cannot mount a tmpfs ({why}).\n\
                 !!! Run as root, or set CANVASS_REQUIRE_DISK_FULL=1 to make this a failure.\n"
            );
            return;
        }
    };
    let ballast = dir.join("ballast");
    let mut app = TestApp::new(Server::start(&db, &[]), db, Backend::Sqlite);
    let world = World::build(&app);

    let seen = Seen::default();
    let pushing = AtomicBool::new(true);
    std::thread::scope(|scope| {
        let _stop = start_pushers(scope, &app.base, &world, &seen, &pushing);
        fill(&ballast);
        // Any refusal counts here; which kind they were is checked at the end.
        wait_for("refusals while the disk is full", || {
            seen.unavailable.load(Ordering::SeqCst) + seen.other.lock().unwrap().len() >= 6
        });
        let refusals = seen.other.lock().unwrap().clone();
        assert!(
            refusals.is_empty(),
            "a full disk answered other than 503 unavailable: {refusals:?}"
        );
        assert_eq!(readyz(&app.base), 503, "/readyz while the disk is full");
        // Reads go on: the volunteer can pull what is stored.
        let during = pull_all(&app, &world.volunteer1.1, &world.campaign, "reader", 1000);
        assert!(!during.records.is_empty());
        let ok_while_full = seen.ok.load(Ordering::SeqCst);
        std::fs::remove_file(&ballast).unwrap();
        wait_for("pushes after space is freed", || {
            seen.ok.load(Ordering::SeqCst) >= ok_while_full + 10
        });
    });
    assert_eq!(readyz(&app.base), 200, "/readyz once space is freed");
    let other = seen.other.lock().unwrap();
    assert!(
        other.is_empty(),
        "answers other than 200 and 503 unavailable: {other:?}"
    );
    let log = app.server.log.lock().unwrap().clone();
    assert!(
        log.contains("DISK FULL"),
        "the full disk was not logged loudly:\n{log}"
    );

    let pulled = pull_all(&app, &world.volunteer1.1, &world.campaign, "check", 1000);
    for id in seen.acknowledged.lock().unwrap().iter() {
        assert!(
            pulled.records.contains_key(id),
            "{id} got a 200 and is gone"
        );
    }
    // No push was half applied: a refused one left both its records or neither.
    for (house, visit) in seen.refused.lock().unwrap().iter() {
        assert_eq!(
            pulled.records.contains_key(house),
            pulled.records.contains_key(visit),
            "a refused push was half applied: household {house}, visit {visit}"
        );
    }
    assert!(app.server.terminate(), "the server did not stop cleanly");
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(ok, "verify failed:\n{stdout}\n{stderr}");
}
