//! Operations: one SQLite process, several processes over one PostgreSQL database, backups
//! that restore, database outages survived. The PostgreSQL tests are skipped loudly without
//! a server (`CANVASS_REQUIRE_POSTGRES=1` makes that a failure).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
#[allow(unused_imports)]
mod common;

mod single_process;
