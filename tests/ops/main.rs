//! Operations: one SQLite process, several processes over one PostgreSQL database, backups
//! that restore, database outages and a full SQLite disk survived, TLS to PostgreSQL. The
//! PostgreSQL tests are skipped loudly without a server (`CANVASS_REQUIRE_POSTGRES=1` makes
//! that a failure).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../sync/support.rs"]
mod support;

mod allocator;
mod backup;
mod checkpoint;
mod cluster;
mod disk_full;
mod outage;
mod pg_tls;
mod several_processes;
mod single_process;
mod tls;
