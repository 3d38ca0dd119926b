//! End-to-end tests of contract sections 1–5 and 10 against the real `canvass` binary, on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

#[macro_use]
mod support;

mod areas;
mod assignments;
mod auth;
mod campaigns;
mod compression;
mod demo;
mod errors;
mod migrations;
mod openapi;
mod ops;
mod roles;
mod server;
mod sessions;
mod smoke;
mod streets;
mod usernames;
mod users;
