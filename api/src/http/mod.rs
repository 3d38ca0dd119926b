//! HTTP plumbing shared by all routes: bodies, problem answers for actix's own errors,
//! request observation (logs and metrics) and response hardening.

pub mod body;
pub mod compression;
pub mod csv_out;
pub mod csv_rows;
pub mod heads;
pub mod metrics;
pub mod observe;
pub mod problems;
pub mod server;
