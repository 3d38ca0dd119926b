//! Stored values that do not decode fail loudly (decisions.md, "Stored data"): each kind of
//! value the server once read with a silent default (a malformed id read as the nil UUID,
//! an unknown level as a ward, an unknown role as a volunteer, a bad date as 1970, a record
//! state that does not parse skipped) is corrupted in one row, directly in the database,
//! and then the API answers an opaque 500 `internal`, the log names the row in one line,
//! and `canvass verify` names it and exits 1. Repairing the row brings everything back.

use serde_json::json;

use crate::common::world::{AREAS_CSV, PASSWORD};
use crate::common::{run_cli, Backend, Resp, TestApp};
use crate::support::*;

/// One ward with a street, a volunteer on it, a campaign and one visited household.
struct Fixture {
    ward: String,
    campaign: String,
    volunteer: (String, String),
    visit: String,
}

fn child(app: &TestApp, parent: Option<&str>, code: &str) -> String {
    let path = parent.map_or("/api/v1/areas".to_owned(), |p| {
        format!("/api/v1/areas?parent_id={p}")
    });
    app.get(&path, &app.admin).expect(200).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Few Argon2 hashes: the admin and one volunteer.
fn fixture(app: &TestApp) -> Fixture {
    let admin = &app.admin;
    app.post_csv("/api/v1/areas/import", admin, AREAS_CSV)
        .expect(200);
    let province = child(app, None, "74");
    let ward = child(app, Some(&child(app, Some(&province), "718")), "25741");
    let street = app
        .post(
            "/api/v1/streets",
            admin,
            &json!({"ward_id": ward, "code": "25741-H12", "name": "Hẻm 12"}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = app
        .post(
            "/api/v1/users",
            admin,
            &json!({"username": "tnv.lan", "password": PASSWORD, "role": "volunteer",
                    "area_id": ward}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let volunteer = (id, app.login("tnv.lan", PASSWORD));
    let campaign = app
        .post(
            "/api/v1/campaigns",
            admin,
            &json!({"name": "Bluezone", "area_id": province, "target_ratio": 0.6,
                    "starts_on": "2026-11-01", "deadline": "2026-12-31"}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/campaigns/{campaign}/assignments"),
        admin,
        &json!({"street_id": street, "volunteer_id": volunteer.0}),
    )
    .expect(201);
    let mut clock = Ticker::new("phone-lan");
    let house = house_id(&street, "1");
    let visit_id = new_id();
    let changes = [
        household(
            &house,
            &street,
            &[("house_number", json!("1"))],
            &clock.next(),
        ),
        visit(
            &visit_id,
            &street,
            &house,
            &knock("installed_now", "2026-11-20T09:00:00+07:00", 3, 2),
            &clock.next(),
        ),
    ];
    assert_eq!(
        push(app, &volunteer.1, &campaign, "phone-lan", &changes),
        ["applied", "applied"]
    );
    assert_verified(app);
    Fixture {
        ward,
        campaign,
        volunteer,
        visit: visit_id,
    }
}

/// Runs `update` on the test's database, bypassing the CHECK constraint `check` of `table`
/// when given (here only: the server never writes such a value).
fn corrupt(app: &TestApp, table: &str, check: Option<&str>, update: &str) {
    match (app.backend, check) {
        (_, None) => sql(app, update),
        (Backend::Sqlite, Some(_)) => sql(
            app,
            &format!("PRAGMA ignore_check_constraints = ON; {update}"),
        ),
        (Backend::Postgres, Some(check)) => sql(
            app,
            &format!("ALTER TABLE {table} DROP CONSTRAINT {check}; {update}"),
        ),
    }
}

/// Waits until the server's log holds a line with every one of `parts`; returns those
/// lines. Lines arrive through a pipe a little after the answer they belong to.
fn log_lines(app: &TestApp, parts: &[&str]) -> Vec<String> {
    let matching = || -> Vec<String> {
        app.log()
            .lines()
            .filter(|line| parts.iter().all(|p| line.contains(p)))
            .map(str::to_owned)
            .collect()
    };
    for _ in 0..600 {
        let lines = matching();
        if !lines.is_empty() {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no log line with {parts:?} in:\n{}", app.log());
}

/// The answer is an opaque 500 `internal`; the log has exactly one line naming the table,
/// the row and the column; `canvass verify` names the same and exits 1.
#[track_caller]
fn assert_loud(app: &TestApp, resp: Resp, table: &str, row: &str, column: &str) {
    let resp = resp.expect_problem(500, "internal");
    assert!(
        !resp.text.contains(row),
        "the 500 leaks the row: {}",
        resp.text
    );
    let (table_part, row_part, column_part) = (
        format!("table {table},"),
        format!("row {row},"),
        format!("column {column}:"),
    );
    let parts = [table_part.as_str(), row_part.as_str(), column_part.as_str()];
    log_lines(app, &parts);
    // Every line of that request is in once the closing line of a later request is.
    let closed = || app.log().matches(" status=").count();
    let before = closed();
    app.get("/api/v1/areas", &app.admin).expect(200);
    for _ in 0..600 {
        if closed() > before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let lines = log_lines(app, &parts);
    assert_eq!(
        lines.len(),
        1,
        "one log line per failed request: {lines:#?}"
    );

    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(!ok, "verify passed a corrupt row:\n{stdout}\n{stderr}");
    let named = format!("BAD ROW table={table} row={row} column={column}:");
    assert!(
        stdout.contains(&named) || stderr.contains(&named),
        "verify does not name {named}:\n{stdout}\n{stderr}"
    );
}

fn a_malformed_stored_id_is_a_500_naming_its_row(app: TestApp) {
    let f = fixture(&app);
    // Read as the nil UUID before: the visit showed a volunteer that does not exist.
    corrupt(
        &app,
        "records",
        None,
        &format!(
            "UPDATE records SET volunteer_id = 'not-a-uuid' WHERE id = '{}'",
            f.visit
        ),
    );
    let list = app.get(
        &format!("/api/v1/campaigns/{}/visits", f.campaign),
        &app.admin,
    );
    assert_loud(&app, list, "records", &f.visit, "volunteer_id");
    // An id that parses but is not in the canonical text is as corrupt: queries compare text.
    corrupt(
        &app,
        "records",
        None,
        &format!(
            "UPDATE records SET volunteer_id = '{}' WHERE id = '{}'",
            f.volunteer.0.to_uppercase(),
            f.visit
        ),
    );
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    assert!(!ok && format!("{stdout}{stderr}").contains("column=volunteer_id"));
    corrupt(
        &app,
        "records",
        None,
        &format!(
            "UPDATE records SET volunteer_id = '{}' WHERE id = '{}'",
            f.volunteer.0, f.visit
        ),
    );
    visits(&app, &app.admin, &f.campaign, "");
    assert_verified(&app);
}

fn an_unknown_stored_level_is_a_500_naming_its_row(app: TestApp) {
    let f = fixture(&app);
    // Read as a ward before.
    corrupt(
        &app,
        "areas",
        Some("areas_level_check"),
        &format!("UPDATE areas SET level = 'city' WHERE id = '{}'", f.ward),
    );
    let area = app.get(&format!("/api/v1/areas/{}", f.ward), &app.admin);
    assert_loud(&app, area, "areas", &f.ward, "level");
    corrupt(
        &app,
        "areas",
        None,
        &format!("UPDATE areas SET level = 'ward' WHERE id = '{}'", f.ward),
    );
    app.get(&format!("/api/v1/areas/{}", f.ward), &app.admin)
        .expect(200);
    assert_verified(&app);
}

fn a_cycle_of_parent_links_is_a_500_not_a_walk_without_end(app: TestApp) {
    let f = fixture(&app);
    let coverage = format!("/api/v1/campaigns/{}/coverage", f.campaign);
    let province = app.get(&coverage, &app.admin).expect(200).body["area_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set_parent = |parent: &str| {
        let update = format!("UPDATE areas SET parent_id = {parent} WHERE id = '{province}'");
        corrupt(&app, "areas", None, &update);
    };
    // Province → district → ward → province: the tree walks are recursive queries, which
    // only a depth bound stops.
    set_parent(&format!("'{}'", f.ward));
    app.get(&coverage, &app.admin)
        .expect_problem(500, "internal");
    log_lines(&app, &["table areas,", "column parent_id:", "a cycle"]);
    set_parent("NULL");
    app.get(&coverage, &app.admin).expect(200);
    assert_verified(&app);
}

fn an_unknown_stored_role_is_a_500_naming_its_row(app: TestApp) {
    let f = fixture(&app);
    // Read as a volunteer before.
    corrupt(
        &app,
        "users",
        Some("users_role_check"),
        &format!(
            "UPDATE users SET role = 'mayor' WHERE id = '{}'",
            f.volunteer.0
        ),
    );
    let list = app.get("/api/v1/users", &app.admin);
    assert_loud(&app, list, "users", &f.volunteer.0, "role");
    // Its own token meets the same row: 500, not a volunteer's rights.
    app.get("/api/v1/me", &f.volunteer.1)
        .expect_problem(500, "internal");
    corrupt(
        &app,
        "users",
        None,
        &format!(
            "UPDATE users SET role = 'volunteer' WHERE id = '{}'",
            f.volunteer.0
        ),
    );
    let me = app.get("/api/v1/me", &f.volunteer.1).expect(200).body;
    assert_eq!(me["role"], "volunteer");
    assert_verified(&app);
}

fn a_bad_stored_date_is_a_500_naming_its_row(app: TestApp) {
    let f = fixture(&app);
    // Read as 1970-01-01 before.
    corrupt(
        &app,
        "campaigns",
        None,
        &format!(
            "UPDATE campaigns SET starts_on = '2026-02-30' WHERE id = '{}'",
            f.campaign
        ),
    );
    let campaign = app.get(&format!("/api/v1/campaigns/{}", f.campaign), &app.admin);
    assert_loud(&app, campaign, "campaigns", &f.campaign, "starts_on");
    app.get("/api/v1/campaigns", &app.admin)
        .expect_problem(500, "internal");
    corrupt(
        &app,
        "campaigns",
        None,
        &format!(
            "UPDATE campaigns SET starts_on = '2026-11-01' WHERE id = '{}'",
            f.campaign
        ),
    );
    let campaign = app
        .get(&format!("/api/v1/campaigns/{}", f.campaign), &app.admin)
        .expect(200)
        .body;
    assert_eq!(campaign["starts_on"], "2026-11-01");
    assert_verified(&app);
}

fn a_record_state_that_does_not_parse_is_a_500_naming_its_row(app: TestApp) {
    let f = fixture(&app);
    // The state as stored is the pulled `fields` map.
    let good = app
        .pull_all(&f.volunteer.1, &f.campaign, "phone-lan")
        .into_iter()
        .find(|r| r["id"] == f.visit.as_str())
        .unwrap()["fields"]
        .to_string();
    // Progress skipped such a visit before: its figures silently left out.
    corrupt(
        &app,
        "records",
        None,
        &format!(
            "UPDATE records SET state = '{{\"outcome\": ' WHERE id = '{}'",
            f.visit
        ),
    );
    let progress = app.get(
        &format!(
            "/api/v1/campaigns/{}/progress?from=2026-11-19&to=2026-11-21",
            f.campaign
        ),
        &app.admin,
    );
    assert_loud(&app, progress, "records", &f.visit, "state");
    app.get(
        &format!("/api/v1/campaigns/{}/visits", f.campaign),
        &app.admin,
    )
    .expect_problem(500, "internal");
    corrupt(
        &app,
        "records",
        None,
        &format!(
            "UPDATE records SET state = '{}' WHERE id = '{}'",
            good.replace('\'', "''"),
            f.visit
        ),
    );
    let progress = app
        .get(
            &format!(
                "/api/v1/campaigns/{}/progress?from=2026-11-19&to=2026-11-21",
                f.campaign
            ),
            &app.admin,
        )
        .expect(200)
        .body;
    assert_eq!(progress["items"][1]["households_reached"], 1);
    assert_verified(&app);
}

/// `canvass verify` fails naming `column` of the record `row`, and no other row.
fn assert_verify_names(app: &TestApp, row: &str, column: &str) {
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    let out = format!("{stdout}{stderr}");
    assert!(!ok, "verify passed a dangling reference:\n{out}");
    assert!(
        out.contains(&format!("BAD ROW table=records row={row} column={column}:")),
        "verify does not name {row}'s {column}:\n{out}"
    );
    assert_eq!(out.matches("BAD ROW").count(), 1, "{out}");
}

/// The schema leaves a record's street, ward and campaign to the writer (no foreign keys,
/// decisions.md): a row changed behind the server's back to name one that is not stored,
/// or a ward that is not its street's, is what `canvass verify` reports.
fn a_record_naming_a_missing_street_ward_or_campaign_fails_verify(app: TestApp) {
    let f = fixture(&app);
    let set = |assignment: &str| {
        sql(
            &app,
            &format!("UPDATE records SET {assignment} WHERE id = '{}'", f.visit),
        )
    };
    let elsewhere = new_id();
    set(&format!("street_id = '{elsewhere}'"));
    assert_verify_names(&app, &f.visit, "street_id");
    set(&format!(
        "street_id = (SELECT id FROM streets WHERE code = '25741-H12'), ward_id = '{}'",
        f.campaign
    ));
    assert_verify_names(&app, &f.visit, "ward_id");
    set(&format!(
        "ward_id = '{}', campaign_id = '{elsewhere}'",
        f.ward
    ));
    assert_verify_names(&app, &f.visit, "campaign_id");
    set(&format!("campaign_id = '{}'", f.campaign));
    assert_verified(&app);
}

/// `canvass verify` reads the whole log a page of 1,000 rows at a time: a row that does
/// not decode is named wherever it sits, on the first page or the last.
fn a_history_row_that_does_not_decode_fails_verify_on_any_page(app: TestApp) {
    let f = fixture(&app);
    // 2,000 copies of the visit's first logged row, under record ids that sort around the
    // real ones, built from digits so that the SQL runs on both backends.
    sql(
        &app,
        &format!(
            "INSERT INTO history (record_id, hlc, entries, device_id, user_id, received_at)
             WITH d(x) AS (VALUES ('0'), ('1'), ('2'), ('3'), ('4'), ('5'), ('6'), ('7'), ('8'), ('9'))
             SELECT '00000000-0000-4000-8000-00000000' || a.x || b.x || c.x || e.x,
                    h.hlc, h.entries, h.device_id, h.user_id, h.received_at
             FROM d a, d b, d c, d e,
                  (SELECT * FROM history WHERE record_id = '{}' ORDER BY id LIMIT 1) h
             WHERE a.x IN ('0', '1')",
            f.visit
        ),
    );
    assert_verified(&app);
    let broken = [
        "00000000-0000-4000-8000-000000000003",
        "00000000-0000-4000-8000-000000001996",
    ];
    for record in broken {
        sql(
            &app,
            &format!("UPDATE history SET entries = '[]' WHERE record_id = '{record}'"),
        );
    }
    let (ok, stdout, stderr) = run_cli(&app.db, &["verify"]);
    let out = format!("{stdout}{stderr}");
    assert!(!ok, "verify passed a history row without entries:\n{out}");
    assert_eq!(
        out.matches("BAD ROW table=history").count(),
        2,
        "verify does not name both broken rows, once each:\n{out}"
    );
    assert_eq!(
        out.matches("column=entries: holds no entry").count(),
        2,
        "{out}"
    );
}

crate::both_backends!(
    a_history_row_that_does_not_decode_fails_verify_on_any_page,
    a_record_naming_a_missing_street_ward_or_campaign_fails_verify,
    a_malformed_stored_id_is_a_500_naming_its_row,
    an_unknown_stored_level_is_a_500_naming_its_row,
    a_cycle_of_parent_links_is_a_500_not_a_walk_without_end,
    an_unknown_stored_role_is_a_500_naming_its_row,
    a_bad_stored_date_is_a_500_naming_its_row,
    a_record_state_that_does_not_parse_is_a_500_naming_its_row,
);
