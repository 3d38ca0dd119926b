//! Contract v1.1 section 4: usernames are unique and matched after Unicode NFKC and
//! lower-casing, enforced by the database, also for users stored before that rule.

use std::sync::{Arc, Barrier};

use crate::common::world::PASSWORD;
use crate::common::{fresh_db, Backend, Server, TestApp, ADMIN_PASSWORD};
use crate::support::{create_user, text};
use canvass_api::db::users::{self, UserRow};
use canvass_api::db::{DbConn, DbTarget};
use diesel::connection::SimpleConnection;

fn usernames_are_unique_and_matched_after_nfkc_and_lower_casing(app: TestApp) {
    let created = create_user(&app, &app.admin, "Lan.Nguyen", "admin", None).expect(201);
    assert_eq!(created.body["username"], "Lan.Nguyen", "kept as given");
    for taken in [
        "lan.nguyen",
        "LAN.NGUYEN",
        "Ｌａｎ．Ｎｇｕｙｅｎ",
        "Admin",
        "ａｄｍｉｎ",
    ] {
        create_user(&app, &app.admin, taken, "admin", None).expect_problem(409, "conflict");
    }
    let login = app.login_resp("LAN.NGUYEN", PASSWORD).expect(200);
    assert_eq!(login.body["user"]["username"], "Lan.Nguyen");
    for spelling in ["ADMIN", "ａｄｍｉｎ", "Admin"] {
        app.login_resp(spelling, ADMIN_PASSWORD).expect(200);
    }
}

fn a_username_with_white_space_control_or_format_characters_is_422(app: TestApp) {
    for bad in [
        "v1a\u{200B}",
        "\u{FEFF}v1a",
        "v1\u{00AD}a",
        "v1a\u{202E}",
        "v1\u{00A0}a",
        "v1\u{3000}a",
        "v1\u{2028}a",
        "v1\u{0007}a",
    ] {
        let resp = create_user(&app, &app.admin, bad, "admin", None);
        assert_eq!(resp.status, 422, "{bad:?}: {}", resp.text);
        resp.expect_problem(422, "validation");
    }
    create_user(&app, &app.admin, "v1a", "admin", None).expect(201);
}

fn concurrent_creations_of_one_name_in_different_forms_leave_one_user(app: TestApp) {
    let names = ["Bao", "bao", "BAO", "ｂａｏ", "bAo", "Ｂao"];
    let barrier = Arc::new(Barrier::new(names.len()));
    let app = Arc::new(app);
    let threads: Vec<_> = names
        .iter()
        .map(|name| {
            let (app, barrier, name) = (app.clone(), barrier.clone(), name.to_string());
            std::thread::spawn(move || {
                barrier.wait();
                create_user(&app, &app.admin, &name, "admin", None).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort_unstable();
    let mut expected = vec![409; names.len() - 1];
    expected.insert(0, 201);
    assert_eq!(statuses, expected);
    let list = app.get("/api/v1/users?role=admin", &app.admin).expect(200);
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        2,
        "admin and one bao"
    );
}

crate::both_backends!(
    usernames_are_unique_and_matched_after_nfkc_and_lower_casing,
    a_username_with_white_space_control_or_format_characters_is_422,
    concurrent_creations_of_one_name_in_different_forms_leave_one_user,
);

fn connect(db: &crate::common::TestDb) -> DbConn {
    DbTarget::parse(&db.url()).unwrap().connect().unwrap()
}

fn row(username: &str, created_at: i64, password_hash: &str) -> UserRow {
    UserRow {
        id: canvass_api::model::UserId::new_v4(),
        username: username.to_owned(),
        display_name: username.to_owned(),
        role: sync_protocol::Role::Admin,
        area_id: None,
        password_hash: password_hash.to_owned(),
        disabled: false,
        created_at,
    }
}

fn the_database_refuses_two_usernames_equal_after_normalization(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut conn = connect(&db);
    conn.migrate().unwrap();
    users::insert(&mut conn, &row("Bao", 1, "x")).unwrap();
    let err = users::insert(&mut conn, &row("ＢＡＯ", 2, "x")).unwrap_err();
    assert!(
        matches!(
            err,
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            )
        ),
        "{err:?}"
    );
}

/// Runs every migration older than usernames' normalization, so the test can store users
/// the way a database of that time held them.
fn migrate_to_before_normalized_usernames(conn: &mut DbConn) {
    use diesel::migration::MigrationSource;
    use diesel_migrations::MigrationHarness;
    const FIRST_NORMALIZED: &str = "20261130062400";
    fn run<DB, C>(conn: &mut C, source: diesel_migrations::EmbeddedMigrations)
    where
        DB: diesel::backend::Backend,
        C: MigrationHarness<DB> + diesel::migration::MigrationConnection,
        diesel_migrations::EmbeddedMigrations: MigrationSource<DB>,
    {
        conn.setup().unwrap();
        let mut migrations = MigrationSource::<DB>::migrations(&source).unwrap();
        migrations.sort_by_key(|m| m.name().version().to_string());
        for migration in migrations {
            if migration.name().version().to_string().as_str() < FIRST_NORMALIZED {
                conn.run_migration(&*migration).unwrap();
            }
        }
    }
    match conn {
        DbConn::Sqlite(c) => run(c, canvass_api::db::SQLITE_MIGRATIONS),
        DbConn::Pg(c) => run(c, canvass_api::db::POSTGRES_MIGRATIONS),
    }
}

fn users_stored_before_normalization_are_normalized_at_start(backend: Backend) {
    let Some(db) = fresh_db(backend) else {
        return;
    };
    let mut conn = connect(&db);
    migrate_to_before_normalized_usernames(&mut conn);
    let hash = canvass_api::auth::password::hash(ADMIN_PASSWORD).unwrap();
    // `Lan` and `lan` were two users when usernames were case-sensitive.
    for (name, created_at) in [("admin", 1), ("Lan", 2), ("lan", 3), ("Ｈoa", 4)] {
        conn.batch_execute(&format!(
            "INSERT INTO users (id, username, display_name, role, password_hash, disabled, \
             created_at) VALUES ('{}', '{name}', '{name}', 'admin', '{hash}', FALSE, {created_at})",
            uuid::Uuid::new_v4()
        ))
        .unwrap();
    }
    drop(conn);

    let server = Server::start(&db, &[]);
    let app = TestApp::new(server, db, backend);
    let who = |name: &str| {
        let login = app.login_resp(name, ADMIN_PASSWORD).expect(200);
        text(&login.body["user"], "username")
    };
    assert_eq!(who("HOA"), "Ｈoa");
    assert_eq!(who("LAN"), "Lan", "the older user owns the normalized name");
    assert_eq!(who("Lan"), "Lan");
    assert_eq!(who("lan"), "lan", "the younger keeps its exact spelling");
    create_user(&app, &app.admin, "hoa", "admin", None).expect_problem(409, "conflict");
    create_user(&app, &app.admin, "LAN", "admin", None).expect_problem(409, "conflict");
    assert!(app.log().contains("collides"), "the collision is logged");
}

#[test]
fn the_database_refuses_two_usernames_equal_after_normalization_on_sqlite() {
    the_database_refuses_two_usernames_equal_after_normalization(Backend::Sqlite);
}

#[test]
fn the_database_refuses_two_usernames_equal_after_normalization_on_postgres() {
    the_database_refuses_two_usernames_equal_after_normalization(Backend::Postgres);
}

#[test]
fn users_stored_before_normalization_are_normalized_at_start_on_sqlite() {
    users_stored_before_normalization_are_normalized_at_start(Backend::Sqlite);
}

#[test]
fn users_stored_before_normalization_are_normalized_at_start_on_postgres() {
    users_stored_before_normalization_are_normalized_at_start(Backend::Postgres);
}
