//! End-to-end tests of contract sections 6–9 (sync, household identity, review and visit
//! lists, coverage and progress) against the real `canvass` binary, on SQLite and on
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod support;

mod concurrency;
mod convergence;
mod corrupt_rows;
mod coverage;
mod exports;
mod history;
mod progress;
mod pull;
mod push;
mod rejections;
mod review;
mod rules;
mod v1_1_rules;
mod vectors;
mod visits;
