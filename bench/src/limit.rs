//! The physical limit: visit-shaped rows upserted straight into the backend with nothing
//! else, as fast as we know how — same durability settings as the server, transactions of
//! 500 rows, one prepared multi-row `INSERT … ON CONFLICT DO UPDATE` per transaction, one
//! index on (street_id, seq) beside the key. The server's ingest is measured against it.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use uuid::Uuid;

use crate::backend::{Backend, Database};
use crate::BenchError;

/// Rows per transaction, like a push of 500 changes.
pub const BATCH: usize = 500;

/// How visit ids are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// UUIDv7: time-ordered, appended at the right of the key's B-tree.
    TimeOrdered,
    /// UUIDv4 (and the replica's UUIDv5 ids behave alike): scattered over the B-tree.
    Random,
}

/// One row as the server would store a new visit.
struct Row {
    id: String,
    street_id: String,
    household_id: String,
    campaign_id: String,
    seq: i64,
    state: String,
}

fn rows(count: usize, keys: Keys, streets: usize) -> Vec<Row> {
    let campaign = Uuid::new_v4().to_string();
    let street_ids: Vec<String> = (0..streets.max(1))
        .map(|_| Uuid::new_v4().to_string())
        .collect();
    (0..count)
        .map(|n| {
            let id = match keys {
                Keys::TimeOrdered => Uuid::now_v7(),
                Keys::Random => Uuid::new_v4(),
            };
            let hlc = format!("{:013}-{:04x}-phone-{}", 1_597_742_400_000u64 + n as u64, n % 65_536, n % 97);
            let state = format!(
                concat!(
                    r#"{{"app_users":{{"hlc":"{h}","value":2}},"outcome":{{"hlc":"{h}","value":"installed_now"}},"#,
                    r#""smartphone_users":{{"hlc":"{h}","value":3}},"visited_at":{{"hlc":"{h}","value":"2020-08-18T09:30:00+07:00"}}}}"#
                ),
                h = hlc
            );
            Row {
                id: id.to_string(),
                street_id: street_ids[n % street_ids.len()].clone(),
                household_id: Uuid::new_v4().to_string(),
                campaign_id: campaign.clone(),
                seq: i64::try_from(n / street_ids.len() + 1).unwrap_or(i64::MAX),
                state,
            }
        })
        .collect()
}

const SCHEMA: &str = "CREATE TABLE limit_visits (
    id TEXT PRIMARY KEY NOT NULL,
    street_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX limit_visits_street_seq ON limit_visits (street_id, seq);";

fn statement(rows: usize, placeholder: impl Fn(usize) -> String) -> String {
    let mut sql = String::from(
        "INSERT INTO limit_visits (id, street_id, household_id, campaign_id, seq, state) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        let cells: Vec<String> = (0..6).map(|c| placeholder(r * 6 + c + 1)).collect();
        sql.push('(');
        sql.push_str(&cells.join(","));
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, state = excluded.state");
    sql
}

macro_rules! insert_batch {
    ($conn:expr, $db:ty, $sql:expr, $batch:expr) => {{
        let mut query = diesel::sql_query($sql).into_boxed::<$db>();
        for row in $batch {
            query = query
                .bind::<Text, _>(&row.id)
                .bind::<Text, _>(&row.street_id)
                .bind::<Text, _>(&row.household_id)
                .bind::<Text, _>(&row.campaign_id)
                .bind::<BigInt, _>(row.seq)
                .bind::<Text, _>(&row.state);
        }
        query.execute($conn)
    }};
}

/// A thread that copies the log into the database every 200 ms while the rows go in, as
/// the server's does.
struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Result<(), BenchError>>,
}

impl Checkpointer {
    fn start(path: &str) -> Checkpointer {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let path = path.to_owned();
        let thread = std::thread::spawn(move || {
            let mut conn = SqliteConnection::establish(&path)?;
            while !stopped.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
            }
            Ok(())
        });
        Checkpointer { stop, thread }
    }

    fn stop(self) -> Result<(), BenchError> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread
            .join()
            .map_err(|_| BenchError::Setup("the limit's checkpoint thread panicked".into()))?
    }
}

/// What one limit measurement found.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Rows per second.
    pub rate: f64,
    /// CPU time per row: on SQLite of the thread that stored them, where the database runs;
    /// on PostgreSQL of its processes.
    pub cpu_per_row: Option<Duration>,
    /// On SQLite: the faster way copied the log into the database on a thread of its own
    /// (else in the commits).
    pub log_copied_by_thread: bool,
}

/// The CPU time per row between two readings, where both were read.
fn per_row(before: Option<Duration>, after: Option<Duration>, rows: usize) -> Option<Duration> {
    let rows = u32::try_from(rows).ok()?.max(1);
    Some(after?.saturating_sub(before?) / rows)
}

/// Upserts `rows` into a fresh table of the SQLite file at `path`, the log copied into the
/// database by the commits or by a thread of its own.
fn sqlite_limit(path: &str, rows: &[Row], copy_thread: bool) -> Result<Limit, BenchError> {
    let mut conn = SqliteConnection::establish(path)?;
    // The server writer's settings: WAL, FULL so that a commit survives a power cut, and
    // the same checkpoint interval; a page cache of 256 MiB, eight times the server's
    // default, so that the limit is never the slower for its cache.
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; \
         PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; \
         PRAGMA wal_autocheckpoint = 10000;",
    )?;
    conn.batch_execute("DROP TABLE IF EXISTS limit_visits")?;
    conn.batch_execute(SCHEMA)?;
    let sql = statement(BATCH, |_| "?".to_owned());
    let checkpointer = copy_thread.then(|| Checkpointer::start(path));
    let cpu_before = crate::cpu::of_thread();
    let started = Instant::now();
    for batch in rows.chunks(BATCH) {
        let sql = if batch.len() == BATCH {
            sql.clone()
        } else {
            statement(batch.len(), |_| "?".to_owned())
        };
        conn.immediate_transaction(|c| insert_batch!(c, diesel::sqlite::Sqlite, sql, batch))?;
    }
    let elapsed = started.elapsed();
    let cpu_after = crate::cpu::of_thread();
    if let Some(checkpointer) = checkpointer {
        checkpointer.stop()?;
    }
    Ok(Limit {
        rate: rows.len() as f64 / elapsed.as_secs_f64(),
        cpu_per_row: per_row(cpu_before, cpu_after, rows.len()),
        log_copied_by_thread: copy_thread,
    })
}

/// Upserts `count` new visit rows.
pub fn measure(database: &Database, count: usize, keys: Keys) -> Result<Limit, BenchError> {
    let data = rows(count, keys, 80);
    match database.backend {
        Backend::Sqlite => {
            let path = database
                .sqlite_path()
                .ok_or_else(|| BenchError::Setup("no SQLite file".into()))?
                .display()
                .to_string();
            // The server copies the log into the database on a thread of its own, which
            // costs the disk some of its syncs: the limit is the faster of both ways.
            let by_commit = sqlite_limit(&path, &data, false)?;
            let by_thread = sqlite_limit(&path, &data, true)?;
            Ok(if by_thread.rate > by_commit.rate {
                by_thread
            } else {
                by_commit
            })
        }
        Backend::Postgres => {
            let mut conn = PgConnection::establish(&database.url)?;
            conn.batch_execute("SET synchronous_commit = on")?;
            conn.batch_execute("DROP TABLE IF EXISTS limit_visits")?;
            conn.batch_execute(SCHEMA)?;
            let sql = statement(BATCH, |n| format!("${n}"));
            let cpu_before = crate::cpu::of_postgres();
            let started = Instant::now();
            for batch in data.chunks(BATCH) {
                let sql = if batch.len() == BATCH {
                    sql.clone()
                } else {
                    statement(batch.len(), |n| format!("${n}"))
                };
                conn.transaction(|c| insert_batch!(c, diesel::pg::Pg, sql, batch))?;
            }
            Ok(Limit {
                rate: count as f64 / started.elapsed().as_secs_f64(),
                cpu_per_row: per_row(cpu_before, crate::cpu::of_postgres(), count),
                log_copied_by_thread: false,
            })
        }
    }
}
