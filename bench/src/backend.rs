//! Fresh databases for one measurement: a SQLite file in a temporary folder, or a new
//! PostgreSQL database on the server named by `CANVASS_TEST_POSTGRES_URL`.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::BenchError;

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// The scale backend.
    Postgres,
}

impl Backend {
    /// Its name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The PostgreSQL server the bench creates its databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CANVASS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether that server answers.
pub fn postgres_available() -> bool {
    diesel::PgConnection::establish(&postgres_admin_url()).is_ok()
}

/// A database made for one measurement, removed when dropped.
pub struct Database {
    /// What `--database-url` takes.
    pub url: String,
    /// Which backend.
    pub backend: Backend,
    folder: Option<PathBuf>,
    pg_name: Option<String>,
}

impl Database {
    /// A new, empty database.
    pub fn create(backend: Backend) -> Result<Database, BenchError> {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let folder = std::env::temp_dir().join(format!("canvass-bench-{tag}"));
                std::fs::create_dir_all(&folder)?;
                Ok(Database {
                    url: format!("sqlite://{}", folder.join("bench.db").display()),
                    backend,
                    folder: Some(folder),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("canvass_bench_{tag}");
                let mut conn = diesel::PgConnection::establish(&admin)?;
                conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                Ok(Database {
                    url: format!("{base}/{name}"),
                    backend,
                    folder: None,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// The SQLite file's path (for a direct connection).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.folder.as_ref().map(|f| f.join("bench.db"))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
        if let Some(name) = &self.pg_name {
            if let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url()) {
                let _ =
                    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}
