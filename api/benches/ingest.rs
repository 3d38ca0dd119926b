//! Ingest throughput against the raw database's own upsert rate, in the same run.
//!
//! `cargo bench -p canvass-api --bench ingest` prints, per backend, how many changes per
//! second a push transaction ingests (validation, merge, history, seqs, counters) and how
//! many rows per second the same database upserts into the same table with nothing else,
//! and the ratio of the two. PostgreSQL is measured when `CANVASS_TEST_POSTGRES_URL` (or
//! the default local server) answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use canvass_api::db::campaigns::CampaignRow;
use canvass_api::db::records::RecordRow;
use canvass_api::db::{areas, campaigns, records, streets, DbConn, DbTarget};
use canvass_api::model::{AreaId, CampaignId, Level, RecordId, StreetId, UserId};
use canvass_api::sync::ingest::{ingest, Writer};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::json;
use sync_protocol::{household_id, Change, Kind, RecordState, Role};
use uuid::Uuid;

const BATCH: usize = 1000;
const BATCHES: usize = 10;

fn seed(conn: &mut DbConn) -> (CampaignRow, Vec<StreetId>) {
    let province = AreaId::new_v4();
    let ward = AreaId::new_v4();
    areas::insert(
        conn,
        &areas::AreaRow {
            id: province,
            code: "74".into(),
            name: "P".into(),
            level: Level::Province,
            parent_id: None,
        },
    )
    .unwrap();
    areas::insert(
        conn,
        &areas::AreaRow {
            id: ward,
            code: "25741".into(),
            name: "W".into(),
            level: Level::Ward,
            parent_id: Some(province),
        },
    )
    .unwrap();
    let street_ids: Vec<StreetId> = (0..20).map(|_| StreetId::new_v4()).collect();
    let rows: Vec<streets::StreetRow> = street_ids
        .iter()
        .enumerate()
        .map(|(n, id)| streets::StreetRow {
            id: *id,
            ward_id: ward,
            code: format!("S{n}"),
            name: "S".into(),
            last_seq: 0,
        })
        .collect();
    streets::insert_many(conn, &rows).unwrap();
    let campaign = CampaignRow {
        id: CampaignId::new_v4(),
        name: "bench".into(),
        area_id: province,
        target_ratio: 0.6,
        starts_on: "2020-08-17".parse().unwrap(),
        deadline: "2020-08-20".parse().unwrap(),
        timezone: chrono_tz::Asia::Ho_Chi_Minh,
        created_at: 0,
    };
    campaigns::insert(conn, &campaign).unwrap();
    (campaign, street_ids)
}

/// A push's worth of changes: households and a visit to each, spread over the streets.
fn changes(streets: &[StreetId], batch: usize, now_ms: u64) -> Vec<Change> {
    let mut out = Vec::with_capacity(BATCH);
    for n in 0..BATCH / 2 {
        let street = &streets[n % streets.len()];
        let house = format!("{batch}/{n}");
        let household = household_id(street.uuid(), &house).unwrap();
        let hlc = format!("{now_ms:013}-{:04x}-bench", n % 65536);
        let make = |value| serde_json::from_value::<Change>(value).unwrap();
        out.push(make(
            json!({"kind": "household", "id": household, "street_id": street.uuid(),
            "fields": {"house_number": {"value": house, "hlc": hlc}}}),
        ));
        out.push(make(json!({"kind": "visit", "id": Uuid::new_v4(), "street_id": street.uuid(), "household_id": household,
            "fields": {"outcome": {"value": "installed_now", "hlc": hlc},
                       "visited_at": {"value": "2020-08-18T09:30:00+07:00", "hlc": hlc},
                       "smartphone_users": {"value": 3, "hlc": hlc}, "app_users": {"value": 2, "hlc": hlc}}})));
    }
    out
}

fn raw_rows(streets: &[StreetId], ward: AreaId, batch: usize) -> Vec<RecordRow> {
    (0..BATCH)
        .map(|n| RecordRow {
            id: RecordId::new_v4(),
            kind: Kind::Household,
            street_id: streets[n % streets.len()],
            ward_id: ward,
            household_id: None,
            campaign_id: None,
            volunteer_id: None,
            // Below every seq the ingest hands out, so both runs share the table.
            seq: -i64::try_from(batch * BATCH + n + 1).unwrap(),
            state: serde_json::from_value::<RecordState>(json!({"house_number": {"value": format!("{batch}/{n}"), "hlc": "1597742400000-0000-bench"}})).unwrap(),
            deleted: false,
            house_number: Some(format!("{batch}/{n}")),
            outcome: None,
            visited_at: None,
            visited_at_us: None,
            review: None,
            first_device: None,
            conflict: false,
            updated_at: 0,
        })
        .collect()
}

fn measure(name: &str, url: &str) {
    let target = DbTarget::parse(url).unwrap();
    let mut conn = target.connect().unwrap();
    conn.migrate().unwrap();
    let (campaign, streets) = seed(&mut conn);
    let ward = streets::find(&mut conn, streets[0])
        .unwrap()
        .unwrap()
        .ward_id;
    let writer = Writer {
        user_id: UserId::new_v4(),
        role: Role::Admin,
        area_id: None,
        device_id: "bench".into(),
    };
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap();

    let started = Instant::now();
    for batch in 0..BATCHES {
        let rows = raw_rows(&streets, ward, batch);
        conn.write_transaction(|c| records::upsert_many(c, &rows))
            .unwrap();
    }
    let raw_rate = (BATCHES * BATCH) as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    for batch in 0..BATCHES {
        let batch_changes = changes(&streets, batch, now_ms);
        let done = conn
            .write_transaction(|c| ingest(c, Some(&campaign), &writer, &batch_changes))
            .unwrap();
        assert!(done
            .results
            .iter()
            .all(|r| r.status == sync_protocol::PushStatus::Applied));
    }
    let ingest_rate = (BATCHES * BATCH) as f64 / started.elapsed().as_secs_f64();
    println!(
        "{name:<10} raw upsert {raw_rate:>9.0} rows/s   ingest {ingest_rate:>9.0} changes/s   ratio {:.2}",
        ingest_rate / raw_rate
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("canvass-bench-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    measure(
        "sqlite",
        &format!("sqlite://{}", dir.join("bench.db").display()),
    );
    let _ = std::fs::remove_dir_all(&dir);

    let admin = std::env::var("CANVASS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match diesel::PgConnection::establish(&admin) {
        Ok(mut conn) => {
            let name = format!("canvass_bench_{}", Uuid::new_v4().simple());
            conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            measure("postgres", &format!("{base}/{name}"));
            let _ = conn.batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"));
        }
        Err(err) => println!("postgres   skipped: {err}"),
    }
}
