//! The canvass offline-sync protocol (wire contract §6, §7, §9 and §12).
//!
//! Phones log household visits offline and push them later; the server merges records
//! field by field, the larger [hybrid logical clock](Hlc) winning. This crate is the
//! shared, pure core of that protocol: no I/O, no clock reads, no environment. Callers
//! pass the wall clock in.
//!
//! - [`hlc`] and [`clock`]: HLC timestamps and the clock that issues them.
//! - [`change`] and [`validate`](mod@validate): the wire change, [`decode()`] then
//!   [`validate()`] into a [`ValidChange`], with the contract's rejection precedence.
//! - [`merge`](mod@merge): the infallible last-writer-wins [`merge()`] and [`join()`].
//! - [`coverage`]: what a household counts for, and counter deltas.
//! - [`household_id`](mod@household_id): deterministic household ids.
//! - [`replica`]: a phone's replica, saved and restored whole, with the safe push cycle,
//!   per-campaign pulls and the recovery from a clock that ran ahead: the core of a phone
//!   app.
//!
//! A push, change by change:
//!
//! ```
//! use sync_protocol::{decode, merge, validate, Change, PushContext, PushResult, RecordState,
//!                     Role, StreetAccess};
//!
//! let change: Change = serde_json::from_value(serde_json::json!({
//!     "kind": "household",
//!     "id": "cd204d15-0527-5827-9e6d-6bff87ec69dd",
//!     "street_id": "ca41459a-228f-4513-b479-e934348a81aa",
//!     "fields": {"house_number": {"value": "12/5A", "hlc": "1795931793795-0000-phone-lan"}}
//! }))?;
//! let mut state = RecordState::new(); // what the server stores for this id
//! let ctx = PushContext {
//!     now_ms: 1_795_931_853_797,
//!     max_skew_ms: 300_000,
//!     visits_from_ms: None,
//!     pusher_id: uuid::Uuid::nil(),
//!     role: Role::Admin,
//!     street: StreetAccess::Allowed,
//!     existing: None,
//!     household: None,
//! };
//! let result = match decode(&change).and_then(|decoded| validate(decoded, &ctx)) {
//!     Ok(valid) if merge(&mut state, &valid).applied() => PushResult::applied(change.id.clone()),
//!     Ok(_) => PushResult::unchanged(change.id.clone()),
//!     Err(rejection) => PushResult::rejected(change.id.clone(), &rejection),
//! };
//! assert_eq!(serde_json::to_string(&result)?,
//!            r#"{"id":"cd204d15-0527-5827-9e6d-6bff87ec69dd","status":"applied"}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

#![deny(missing_docs)]

pub mod canonical;
pub mod change;
pub mod clock;
pub mod coverage;
pub mod field;
pub mod hlc;
pub mod household_id;
pub mod ignorable;
pub mod merge;
pub mod rejection;
pub mod replica;
pub mod state;
pub mod validate;
pub mod values;
pub mod wire;

pub use canonical::{canonical_number, canonical_text, canonical_value};
pub use change::{decode, Change, DecodedChange};
pub use clock::{Clock, ClockDrift};
pub use coverage::{
    delta, household_coverage, CounterDelta, Counters, HouseholdCoverage, VisitFacts,
};
pub use field::{FieldName, Kind, Outcome, Review, Role, UnknownName};
pub use hlc::{Hlc, HlcError};
pub use household_id::{household_id, normalize_house_number};
pub use ignorable::is_default_ignorable;
pub use merge::{join, merge, merge_field, merge_order, FieldMerge, MergeOutcome};
pub use rejection::{Rejection, RejectionCode};
pub use replica::recovery::RESTAMP_MARGIN_MS;
pub use replica::{
    AckError, CampaignSync, EditError, FinalRejection, NewVisit, Pending, PullReport, PushBatch,
    PushReport, Replica, ReplicaRecord, MAX_CHANGE_BYTES, SERVER_DEVICE_ID,
};
pub use state::{RecordState, Stamped};
pub use validate::{
    validate, ExistingRecord, HouseholdFacts, PushContext, StreetAccess, ValidChange,
};
pub use values::{MAX_HOUSE_NUMBER_CHARS, MAX_NOTE_CHARS, MAX_USERS};
pub use wire::{
    Bucket, PullRequest, PullResponse, PulledRecord, PushRequest, PushResponse, PushResult,
    PushStatus, MAX_PUSH_BYTES, MAX_PUSH_CHANGES,
};
