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
