//! Migration discipline: the SQLite and PostgreSQL folders hold the same migrations, and
//! every migration can be reverted and applied again on both backends.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use canvass_api::db::{DbConn, DbTarget};
use diesel::connection::SimpleConnection;

use crate::common::{fresh_db, Backend};

fn migrations_dir(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend)
}

fn folder_names(backend: &str) -> BTreeSet<String> {
    let dir = migrations_dir(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect()
}

#[test]
fn the_sqlite_and_postgres_migration_folders_have_the_same_names() {
    let sqlite = folder_names("sqlite");
    let postgres = folder_names("postgres");
    assert!(
        !sqlite.is_empty(),
        "no migrations found in {}",
        migrations_dir("sqlite").display()
    );
    assert_eq!(sqlite, postgres);
    for backend in ["sqlite", "postgres"] {
        for name in &sqlite {
            for file in ["up.sql", "down.sql"] {
                let path = migrations_dir(backend).join(name).join(file);
                let sql = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(!sql.trim().is_empty(), "{} is empty", path.display());
            }
        }
    }
}

/// Tables the schema must have once migrated (the ones sections 1–5 stand on).
const TABLES: [&str; 6] = [
    "users",
    "areas",
    "streets",
    "campaigns",
    "assignments",
    "refresh_tokens",
];

fn has_table(conn: &mut DbConn, table: &str) -> bool {
    conn.batch_execute(&format!("SELECT 1 FROM {table} WHERE 1 = 0"))
        .is_ok()
}

fn up_down_up(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let target = DbTarget::parse(&db.url()).unwrap();
    let mut conn = target.connect().unwrap();
    let total = folder_names("sqlite").len();

    assert_eq!(conn.migrate().unwrap(), total, "up runs every migration");
    for table in TABLES {
        assert!(has_table(&mut conn, table), "{table} exists after up");
    }
    assert_eq!(conn.migrate().unwrap(), 0, "up again has nothing to do");

    assert_eq!(
        conn.revert_all().unwrap(),
        total,
        "down reverts every migration"
    );
    for table in TABLES {
        assert!(!has_table(&mut conn, table), "{table} is gone after down");
    }

    assert_eq!(conn.migrate().unwrap(), total, "up works again after down");
    for table in TABLES {
        assert!(
            has_table(&mut conn, table),
            "{table} exists after up, down, up"
        );
    }
    drop(conn);

    // The server starts on the round-tripped schema and serves.
    let server = crate::common::Server::start(&db, &[]);
    let app = crate::common::TestApp::new(server, db, backend);
    app.get("/api/v1/me", &app.admin).expect(200);
}

#[test]
fn migrations_go_up_down_and_up_again_on_sqlite() {
    up_down_up(Backend::Sqlite);
}

#[test]
fn migrations_go_up_down_and_up_again_on_postgres() {
    up_down_up(Backend::Postgres);
}

/// The last migration before history moved to one row per change.
const BEFORE_HISTORY_PER_CHANGE: &str = "20261130170000";

/// Runs migrations one by one up to and including `version`.
fn migrate_up_to(conn: &mut DbConn, version: &str) {
    use diesel_migrations::MigrationHarness;
    loop {
        let ran = match conn {
            DbConn::Sqlite(c) => c
                .run_next_migration(canvass_api::db::SQLITE_MIGRATIONS)
                .map(|v| v.to_string()),
            DbConn::Pg(c) => c
                .run_next_migration(canvass_api::db::POSTGRES_MIGRATIONS)
                .map(|v| v.to_string()),
        }
        .unwrap();
        if ran == version {
            return;
        }
    }
}

/// History logged one row per field, before the upgrade, reads back entry for entry after
/// it: values (a string with quotes, a number, a decimal, null), HLCs whose node holds a
/// quote and a backslash, devices, users and times, in the order they were received.
fn logged_history_survives_the_move_to_one_row_per_change(backend: Backend) {
    use canvass_api::db::history::{page_of_record, Position};
    use serde_json::json;

    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut conn = DbTarget::parse(&db.url()).unwrap().connect().unwrap();
    migrate_up_to(&mut conn, BEFORE_HISTORY_PER_CHANGE);
    let record = "11111111-1111-4111-8111-111111111111";
    let user = "22222222-2222-4222-8222-222222222222";
    let odd = r#"1597742400000-0000-ph"o\ne"#;
    let rows = [
        ("note", r#""dog \"at\" the gate ✓""#, odd, r#"ph"o\ne"#),
        ("app_users", "3", "1597742400000-0001-phone", "phone"),
        (
            "lat",
            "10.123456789012345",
            "1597742400000-0002-phone",
            "phone",
        ),
        ("note", "null", "1597742400000-0003-phone", "phone"),
    ];
    for (n, (field, value, hlc, device)) in rows.iter().enumerate() {
        let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
        conn.batch_execute(&format!(
            "INSERT INTO history (record_id, field, value, hlc, device_id, user_id, received_at) \
             VALUES ('{record}', '{field}', {}, {}, {}, '{user}', {})",
            quote(value),
            quote(hlc),
            quote(device),
            1_597_742_400_100_i64 + i64::try_from(n).unwrap()
        ))
        .unwrap();
    }
    // The history migration, and every later one.
    let later = folder_names(match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    })
    .into_iter()
    .filter(|name| name.replace('-', "")[..14] > *BEFORE_HISTORY_PER_CHANGE)
    .count();
    assert_eq!(conn.migrate().unwrap(), later, "the history migration runs");

    let record_id = record.parse().unwrap();
    let entries = page_of_record(&mut conn, record_id, None, 100).unwrap();
    let read: Vec<(String, serde_json::Value, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e.field.as_str().to_owned(),
                e.value.clone(),
                e.hlc.to_string(),
                e.device_id.clone(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (
                "note".to_owned(),
                json!("dog \"at\" the gate ✓"),
                odd.to_owned(),
                r#"ph"o\ne"#.to_owned()
            ),
            (
                "app_users".to_owned(),
                json!(3),
                "1597742400000-0001-phone".to_owned(),
                "phone".to_owned()
            ),
            (
                "lat".to_owned(),
                json!(10.123456789012345),
                "1597742400000-0002-phone".to_owned(),
                "phone".to_owned()
            ),
            (
                "note".to_owned(),
                serde_json::Value::Null,
                "1597742400000-0003-phone".to_owned(),
                "phone".to_owned()
            ),
        ]
    );
    assert!(entries.iter().all(|e| e.user_id.to_string() == user));
    let times: Vec<i64> = entries
        .iter()
        .map(|e| e.received_at.timestamp_millis())
        .collect();
    assert_eq!(
        times,
        [
            1_597_742_400_100,
            1_597_742_400_101,
            1_597_742_400_102,
            1_597_742_400_103
        ]
    );
    // A page token given before the upgrade names the old row: it continues after it.
    let rest = page_of_record(
        &mut conn,
        record_id,
        Some(Position { row: 2, entry: 0 }),
        100,
    )
    .unwrap();
    assert_eq!(rest, entries[2..]);
}

#[test]
fn logged_history_survives_the_move_to_one_row_per_change_on_sqlite() {
    logged_history_survives_the_move_to_one_row_per_change(Backend::Sqlite);
}

#[test]
fn logged_history_survives_the_move_to_one_row_per_change_on_postgres() {
    logged_history_survives_the_move_to_one_row_per_change(Backend::Postgres);
}

/// The last migration before each street kept the largest HLC of its records.
const BEFORE_CLOCK_FLOOR_PER_STREET: &str = "20261201000100";

/// The server clock's floor, read from the history before the upgrade, is each street's
/// after it: the largest HLC logged on any record of any street, whichever row holds it.
fn the_clock_floor_survives_the_move_to_streets(backend: Backend) {
    use canvass_api::db::streets;

    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut conn = DbTarget::parse(&db.url()).unwrap().connect().unwrap();
    migrate_up_to(&mut conn, BEFORE_CLOCK_FLOOR_PER_STREET);
    let ward = "33333333-3333-4333-8333-333333333333";
    let record = |n: u8| format!("4444444{n}-4444-4444-8444-444444444444");
    let street = |n: u8| format!("5555555{n}-5555-4555-8555-555555555555");
    let mut setup = format!(
        "INSERT INTO areas (id, code, name, level) VALUES ('{ward}', '25741', 'Phú Cường', 'ward');"
    );
    // Street 1's newest HLC is in its first history row; street 2's, the overall
    // largest, in a row of a household with a smaller one logged after it.
    let logged = [
        (1, 1, "1597742400500-0000-phone-a"),
        (1, 1, "1597742400100-0000-phone-a"),
        (2, 2, "1597742409000-0003-phone-b"),
        (2, 3, "1597742400200-0000-phone-b"),
    ];
    for n in [1, 2] {
        setup.push_str(&format!(
            "INSERT INTO streets (id, ward_id, code, name) VALUES ('{}', '{ward}', 'S{n}', 'Hẻm {n}');",
            street(n)
        ));
    }
    for (seq, (street_n, record_n, hlc)) in logged.iter().enumerate() {
        if seq == 0 || logged[seq - 1].1 != *record_n {
            setup.push_str(&format!(
                "INSERT INTO records (id, kind, street_id, ward_id, seq, state, house_number, updated_at) \
                 VALUES ('{}', 'household', '{}', '{ward}', {seq}, '{{}}', '{record_n}', 0);",
                record(*record_n),
                street(*street_n)
            ));
        }
        setup.push_str(&format!(
            "INSERT INTO history (record_id, hlc, entries, device_id, user_id, received_at) \
             VALUES ('{}', '{hlc}', '[]', 'phone', '{ward}', 0);",
            record(*record_n)
        ));
    }
    conn.batch_execute(&setup).unwrap();
    conn.migrate().unwrap();

    let floor = streets::max_hlc(&mut conn).unwrap().map(|h| h.to_string());
    assert_eq!(floor.as_deref(), Some("1597742409000-0003-phone-b"));
}

#[test]
fn the_clock_floor_survives_the_move_to_streets_on_sqlite() {
    the_clock_floor_survives_the_move_to_streets(Backend::Sqlite);
}

#[test]
fn the_clock_floor_survives_the_move_to_streets_on_postgres() {
    the_clock_floor_survives_the_move_to_streets(Backend::Postgres);
}
