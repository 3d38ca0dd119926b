//! Turns TLS on in the shared local PostgreSQL, with a server certificate for 127.0.0.1 and
//! localhost signed by a CA of the test's own making, without restarting the server: test
//! runs of other checkouts use it at the same time and must keep working.
//!
//! The key and certificates live in `<data directory>/canvass-test-tls/<generation>/`, owned
//! by the server's OS user, the key readable by it alone. The server goes on reading them at
//! every reload and restart after the test, so they stay. A generation is written in full
//! and read back through the server before the configuration names it, and older ones are
//! removed only once the server serves the new one: a reload or restart at any moment finds
//! a key and a certificate that belong together. Runs take an advisory lock for as long as
//! they use the server's TLS, and reuse the generation in place when a `verify-full`
//! connection with its CA succeeds.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::common::tempdir::TempDir;
use crate::common::{postgres_admin_url, postgres_available, postgres_required};

/// The advisory lock held while a test relies on the server's TLS settings ("canvTLS").
const TLS_LOCK: i64 = 0x0063_616e_7654_4c53;

/// The folder inside the data directory that holds the generations.
const FOLDER: &str = "canvass-test-tls";

/// How long the server may take to serve a new certificate after `pg_reload_conf()`.
const RELOAD_WAIT: Duration = Duration::from_secs(30);

/// PostgreSQL serving TLS with a certificate of [`TlsPostgres::ca_file`]'s CA, until dropped.
pub struct TlsPostgres {
    /// The CA certificate that signed the server's certificate, as a client would keep it.
    pub ca_file: PathBuf,
    _ca_dir: TempDir,
    _lock: PgConnection,
}

/// A key and certificates in PEM.
pub struct Pems {
    pub ca: String,
    pub server_cert: String,
    pub server_key: String,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Connections {
    #[diesel(sql_type = BigInt)]
    listed: i64,
    #[diesel(sql_type = BigInt)]
    encrypted: i64,
}

#[derive(QueryableByName)]
struct Encrypted {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

/// The test server's TLS, set up or reused; None when PostgreSQL is skipped, or TLS cannot
/// be turned on from here and `CANVASS_REQUIRE_POSTGRES` is not set.
pub fn tls_postgres() -> Option<TlsPostgres> {
    if !postgres_available() {
        return None;
    }
    let admin_url = postgres_admin_url();
    let mut lock = PgConnection::establish(&admin_url).expect("postgres");
    lock.batch_execute(&format!("SELECT pg_advisory_lock({TLS_LOCK})"))
        .expect("advisory lock");
    let ca_dir = TempDir::new();
    let ca_file = ca_dir.0.join("root.crt");
    if let Some(ca) = ca_in_service(&mut lock) {
        fs::write(&ca_file, ca).expect("write CA");
        if verify_full(&admin_url, &ca_file).is_ok() {
            return Some(TlsPostgres {
                ca_file,
                _ca_dir: ca_dir,
                _lock: lock,
            });
        }
    }
    match install(&mut lock, &admin_url, &ca_file) {
        Ok(()) => Some(TlsPostgres {
            ca_file,
            _ca_dir: ca_dir,
            _lock: lock,
        }),
        Err(reason) => {
            assert!(
                !postgres_required(),
                "CANVASS_REQUIRE_POSTGRES is set but the TLS test cannot turn TLS on in the \
                 PostgreSQL at {admin_url}: {reason}"
            );
            // Straight to stderr: the test harness swallows eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! The TLS test cannot turn TLS on in the PostgreSQL at {admin_url}:\n\
                 !!! {reason}\n\
                 !!! The TLS tests are SKIPPED. Run them as root or as the server's OS user,\n\
                 !!! with CANVASS_REQUIRE_POSTGRES=1 to make this a failure (CI does).\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
    }
}

/// `url` with more query parameters.
pub fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// A fresh CA and a server certificate it signed, for 127.0.0.1, ::1 and localhost.
pub fn make_certificates() -> Pems {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "canvass test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .expect("server parameters");
    server.distinguished_name = DistinguishedName::new();
    server
        .distinguished_name
        .push(DnType::CommonName, "canvass test PostgreSQL");
    server.use_authority_key_identifier_extension = true;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    Pems {
        ca: ca_cert.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
    }
}

/// How many connections to `database` PostgreSQL lists, and how many of them are encrypted.
pub fn connections_encrypted(database: &str) -> (i64, i64) {
    let mut conn = PgConnection::establish(&postgres_admin_url()).expect("postgres");
    let counted: Connections = diesel::sql_query(
        "SELECT count(*) AS listed, count(*) FILTER (WHERE s.ssl) AS encrypted \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1",
    )
    .bind::<Text, _>(database)
    .get_result(&mut conn)
    .expect("count connections");
    (counted.listed, counted.encrypted)
}

fn setting(conn: &mut PgConnection, name: &str) -> String {
    diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .get_result::<Setting>(conn)
        .expect("read a setting")
        .value
}

/// The CA of the generation the server serves, read through the server (so that a run
/// which may not read the data directory reuses it too).
fn ca_in_service(conn: &mut PgConnection) -> Option<String> {
    if setting(conn, "ssl") != "on" {
        return None;
    }
    let cert = PathBuf::from(setting(conn, "ssl_cert_file"));
    let folder = Path::new(&setting(conn, "data_directory")).join(FOLDER);
    if !cert.starts_with(&folder) {
        return None;
    }
    read_through_server(conn, &cert.with_file_name("ca.crt")).ok()
}

fn read_through_server(conn: &mut PgConnection, path: &Path) -> Result<String, String> {
    diesel::sql_query("SELECT pg_read_file($1) AS value")
        .bind::<Text, _>(path.to_string_lossy())
        .get_result::<Setting>(conn)
        .map(|s| s.value)
        .map_err(|err| err.to_string())
}

/// Connects as a `verify-full` client trusting `ca_file` and checks the session is TLS.
fn verify_full(admin_url: &str, ca_file: &Path) -> Result<(), String> {
    let url = with_params(
        admin_url,
        &format!("sslmode=verify-full&sslrootcert={}", ca_file.display()),
    );
    let mut conn = PgConnection::establish(&url).map_err(|err| err.to_string())?;
    let session: Encrypted =
        diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .get_result(&mut conn)
            .map_err(|err| err.to_string())?;
    if session.ssl {
        Ok(())
    } else {
        Err("the session is not encrypted".to_owned())
    }
}

/// Writes a new generation, points the server at it, reloads and waits until it serves it.
fn install(conn: &mut PgConnection, admin_url: &str, ca_file: &Path) -> Result<(), String> {
    let data_dir = PathBuf::from(setting(conn, "data_directory"));
    let owner = fs::metadata(&data_dir).map_err(|err| {
        format!(
            "cannot see its data directory {} here ({err}); is it on another machine?",
            data_dir.display()
        )
    })?;
    let folder = data_dir.join(FOLDER);
    let generation = folder.join(uuid::Uuid::new_v4().simple().to_string());
    let pems = make_certificates();
    write_generation(&generation, &pems, owner.uid(), owner.gid()).map_err(|err| {
        let _ = fs::remove_dir_all(&generation);
        format!("cannot write {}: {err}", generation.display())
    })?;
    let key = generation.join("server.key");
    match read_through_server(conn, &key) {
        Ok(text) if text == pems.server_key => {}
        other => {
            let _ = fs::remove_dir_all(&generation);
            return Err(format!(
                "the server does not read back the key written to {} ({other:?})",
                key.display()
            ));
        }
    }
    let broken: Count =
        diesel::sql_query("SELECT count(*) AS n FROM pg_file_settings WHERE error IS NOT NULL")
            .get_result(conn)
            .map_err(|err| err.to_string())?;
    if broken.n > 0 {
        let _ = fs::remove_dir_all(&generation);
        return Err(
            "its configuration files already hold errors (pg_file_settings); \
                    a reload would not apply"
                .to_owned(),
        );
    }

    // One statement per call: ALTER SYSTEM refuses to run inside a (implicit) transaction.
    for statement in [
        format!(
            "ALTER SYSTEM SET ssl_cert_file = {}",
            literal(&generation.join("server.crt"))
        ),
        format!("ALTER SYSTEM SET ssl_key_file = {}", literal(&key)),
        "ALTER SYSTEM SET ssl = on".to_owned(),
        "SELECT pg_reload_conf()".to_owned(),
    ] {
        conn.batch_execute(&statement)
            .map_err(|err| format!("{statement}: {err}"))?;
    }

    fs::write(ca_file, &pems.ca).map_err(|err| err.to_string())?;
    // The postmaster reloads in the background: new connections get the new certificate
    // once it has.
    let deadline = Instant::now() + RELOAD_WAIT;
    let mut outcome = verify_full(admin_url, ca_file);
    while outcome.is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        outcome = verify_full(admin_url, ca_file);
    }
    outcome.map_err(|err| {
        format!(
            "after pg_reload_conf() the server does not serve the certificate in {} \
             (see its log): {err}",
            generation.display()
        )
    })?;

    // The server serves the new generation; nothing names the older ones any more.
    if let Ok(entries) = fs::read_dir(&folder) {
        for entry in entries.flatten() {
            if entry.path() != generation {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(())
}

/// Writes the files of one generation, owned by the server's OS user, the key private to it.
fn write_generation(dir: &Path, pems: &Pems, uid: u32, gid: u32) -> std::io::Result<()> {
    let folder = dir.parent().expect("generation folder");
    fs::create_dir_all(folder)?;
    std::os::unix::fs::chown(folder, Some(uid), Some(gid))?;
    fs::create_dir(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    for (name, text, mode) in [
        ("ca.crt", &pems.ca, 0o644),
        ("server.crt", &pems.server_cert, 0o644),
        ("server.key", &pems.server_key, 0o600),
    ] {
        let path = dir.join(name);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::os::unix::fs::chown(&path, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// A path as an SQL string literal (ALTER SYSTEM takes no parameters).
fn literal(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "''"))
}
