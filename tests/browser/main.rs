//! The dashboard (contract section 14) against the real `canvass` binary on SQLite and on
//! PostgreSQL: over plain HTTP (cookies, CSRF, CSP, error pages) and in headless Chromium
//! (signing in, reading coverage, reviewing, assigning, importing), with screenshots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

#[path = "../sync/support.rs"]
mod support;

mod driver;
mod flows;
mod http;
mod screenshots;
mod seed;
mod web;
