//! Nothing is lost and no one gets in: hostile input, the permission matrix, token attacks
//! and server hygiene, against the real binary on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod availability;
mod hostile;
mod http_layer;
mod hygiene;
mod logins;
mod matrix;
mod tokens;
