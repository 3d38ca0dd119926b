//! `canvass demo`: a fresh database becomes a living campaign, served, with figures that a
//! supervisor would believe and counters that `canvass verify` finds exact.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{fresh_db, run_cli, Backend, Server, TestApp, ADMIN_PASSWORD};

/// Starts `canvass demo --scale small` on a fresh database of `backend` and waits until it
/// says it is ready; returns the app and everything it printed on stdout.
fn start_demo(backend: Backend) -> Option<(TestApp, String)> {
    let db = fresh_db(backend)?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_canvass"))
        .args([
            "demo",
            "--scale",
            "small",
            "--seed",
            "7",
            "--bind",
            "127.0.0.1:0",
        ])
        .args(["--database-url", &db.url(), "--pool-size", "8"])
        .env("CANVASS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start canvass demo");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let printed = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let out = printed.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("canvass demo ready at ") {
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send(url);
            }
            let mut out = out.lock().unwrap();
            out.push_str(&line);
            out.push('\n');
        }
    });
    // Generous: a debug build on a busy machine; the release figure is in the docs.
    let deadline = Instant::now() + Duration::from_secs(900);
    let base = loop {
        if let Ok(url) = rx.recv_timeout(Duration::from_millis(200)) {
            break url;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("canvass demo exited with {status}: {}", log.lock().unwrap());
        }
        assert!(
            Instant::now() < deadline,
            "canvass demo was not ready: {}",
            log.lock().unwrap()
        );
    };
    let printed = printed.lock().unwrap().clone();
    let server = Server { child, base, log };
    Some((TestApp::new(server, db, backend), printed))
}

fn coverage(app: &TestApp, campaign: &str, area: Option<&str>) -> Value {
    let query = area.map(|a| format!("?area_id={a}")).unwrap_or_default();
    app.get(
        &format!("/api/v1/campaigns/{campaign}/coverage{query}"),
        &app.admin,
    )
    .expect(200)
    .body
}

/// Every visit of the campaign, through the visit list's pages.
fn all_visits(app: &TestApp, campaign: &str) -> Vec<Value> {
    let mut visits = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = token
            .as_ref()
            .map(|t| format!("&page_token={t}"))
            .unwrap_or_default();
        let body = app
            .get(
                &format!("/api/v1/campaigns/{campaign}/visits?page_size=1000{page}"),
                &app.admin,
            )
            .expect(200)
            .body;
        visits.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => return visits,
        }
    }
}

fn demo_builds_a_living_campaign(backend: Backend) {
    let Some((mut app, printed)) = start_demo(backend) else {
        return;
    };
    for login in ["tinh", "huyen.thuan-an", "phuong.25741", "tnv.25741.1"] {
        assert!(printed.contains(login), "{login} not printed:\n{printed}");
    }
    assert!(printed.contains(ADMIN_PASSWORD), "password not printed");
    assert!(printed.contains(" 0 changes refused"), "{printed}");
    // The printed logins work with the printed password.
    app.login("tnv.25741.1", ADMIN_PASSWORD);
    app.login("huyen.thuan-an", ADMIN_PASSWORD);

    let campaigns = app.get("/api/v1/campaigns", &app.admin).expect(200).body;
    let campaigns = campaigns["items"].as_array().unwrap();
    assert_eq!(campaigns.len(), 1);
    let campaign = &campaigns[0];
    assert_eq!(campaign["name"], "Cài đặt Bluezone");
    assert_eq!(campaign["target_ratio"], 0.6);
    assert_eq!(campaign["starts_on"], "2020-08-17");
    assert_eq!(campaign["deadline"], "2020-08-20");
    assert_eq!(campaign["timezone"], "Asia/Ho_Chi_Minh");
    let cid = campaign["id"].as_str().unwrap().to_owned();

    let province = coverage(&app, &cid, None);
    assert_eq!(province["name"], "Tỉnh Bình Dương");
    assert!(province["households_total"].as_i64().unwrap() > 0);
    assert!(
        province["households_reached"].as_i64().unwrap()
            < province["households_total"].as_i64().unwrap()
    );
    let ratio = province["coverage"].as_f64().unwrap();
    assert!(ratio > 0.0 && ratio < 1.0, "province coverage {ratio}");
    let districts = province["children"].as_array().unwrap();
    assert_eq!(districts.len(), 9);
    let (mut met, mut below, mut wards) = (0, 0, 0);
    for district in districts {
        let id = district["area_id"].as_str().unwrap();
        for ward in coverage(&app, &cid, Some(id))["children"]
            .as_array()
            .unwrap()
        {
            wards += 1;
            if ward["target_met"] == true {
                met += 1;
            } else {
                below += 1;
            }
        }
    }
    assert_eq!(wards, 91);
    assert!(
        met > 0 && below > 0,
        "{met} wards met the target, {below} did not"
    );

    let visits = all_visits(&app, &cid);
    assert!(visits.iter().any(|v| v["conflict"] == true), "no conflict");
    assert!(visits.iter().any(|v| v["review"] == "verified"));
    assert!(visits.iter().any(|v| v["review"] == "rejected"));
    assert!(visits.iter().any(|v| v["outcome"] == "not_home"));
    let days: std::collections::BTreeSet<&str> = visits
        .iter()
        .filter_map(|v| v["visited_at"].as_str().map(|at| &at[..10]))
        .collect();
    assert_eq!(days.len(), 4, "visits on {days:?}");

    app.server.terminate();
    let (exact, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(exact, "verify failed: {stdout}{stderr}");
    assert!(stdout.contains("counters are exact"), "{stdout}");
}

#[test]
fn demo_builds_a_living_campaign_on_sqlite() {
    demo_builds_a_living_campaign(Backend::Sqlite);
}

#[test]
fn demo_builds_a_living_campaign_on_postgres() {
    demo_builds_a_living_campaign(Backend::Postgres);
}

#[test]
fn demo_refuses_a_database_that_already_has_users() {
    let Some(app) = crate::common::spawn_app(Backend::Sqlite) else {
        return;
    };
    let (ok, _, stderr) = run_cli(&app.db, &["demo", "--bind", "127.0.0.1:0"]);
    assert!(!ok);
    assert!(stderr.contains("fresh database"), "{stderr}");
}
