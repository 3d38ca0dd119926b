//! Tests of the sync protocol, one binary (one link, shared helpers).
// Tests state their expectations with unwrap/expect; the workspace denies them elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod clock;
mod coverage;
mod decode;
mod field_values;
mod hlc;
mod household_id;
mod merge;
mod precedence;
mod properties;
mod replica;
mod replica_rejections;
mod replica_sync;
mod simulation;
mod support;
mod validate;
mod vectors;
