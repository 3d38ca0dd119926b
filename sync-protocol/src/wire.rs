//! The wire shapes of sync besides the change itself (contract §6): push and pull bodies
//! and answers, push results, pulled records, and the size limits of a push.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::change::Change;
use crate::field::Kind;
use crate::hlc::Hlc;
use crate::rejection::{Rejection, RejectionCode};
use crate::state::RecordState;

/// What happened to one pushed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// At least one field took the incoming value.
    Applied,
    /// Nothing newer: every field already held this or a newer value.
    Unchanged,
    /// Refused; see the code.
    Rejected,
}

/// One entry of a push response's `results`, in the order of the changes.
///
/// ```
/// use sync_protocol::{PushResult, Rejection};
///
/// let result = PushResult::rejected(
///     serde_json::json!("01890a5d-ac96-774b-bcce-b302099a8058"),
///     &Rejection::validation("app_users is above smartphone_users"),
/// );
/// assert_eq!(
///     serde_json::to_value(&result)?,
///     serde_json::json!({
///         "id": "01890a5d-ac96-774b-bcce-b302099a8058",
///         "status": "rejected",
///         "code": "validation",
///         "message": "app_users is above smartphone_users"
///     })
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResult {
    /// The change's `id` echoed as it was sent (whatever JSON it was).
    #[serde(default)]
    pub id: Value,
    /// What happened.
    pub status: PushStatus,
    /// For a rejection: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<RejectionCode>,
    /// For a rejection: a message for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl PushResult {
    /// An `applied` result.
    pub fn applied(id: Value) -> PushResult {
        PushResult::accepted(id, PushStatus::Applied)
    }

    /// An `unchanged` result.
    pub fn unchanged(id: Value) -> PushResult {
        PushResult::accepted(id, PushStatus::Unchanged)
    }

    /// A `rejected` result carrying the rejection's code and message.
    pub fn rejected(id: Value, rejection: &Rejection) -> PushResult {
        PushResult {
            id,
            status: PushStatus::Rejected,
            code: Some(rejection.code),
            message: Some(rejection.message.clone()),
        }
    }

    fn accepted(id: Value, status: PushStatus) -> PushResult {
        PushResult {
            id,
            status,
            code: None,
            message: None,
        }
    }

    /// Whether the phone keeps the change to push it again later: a rejection with a
    /// retryable code (see [`RejectionCode::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.status == PushStatus::Rejected && self.code.is_some_and(RejectionCode::is_retryable)
    }
}

/// One record of a pull response's `changes`: the full current state of the record.
///
/// The server serializes its output with this type; phones read it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledRecord {
    /// The record's kind.
    pub kind: Kind,
    /// The record's id.
    pub id: Uuid,
    /// Its street (the pull bucket).
    pub street_id: Uuid,
    /// For a visit, its household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    /// For a visit, the user who created it (the server keeps a household's creator too,
    /// for the rule on deleting it, but does not show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volunteer_id: Option<Uuid>,
    /// The record version's position in its bucket.
    pub seq: i64,
    /// Every written field with its HLC.
    pub fields: RecordState,
}

/// The most changes one push may carry (contract §6); more is refused whole (413).
pub const MAX_PUSH_CHANGES: usize = 1000;

/// The largest push body in bytes, after decompression (contract §6: 2 MiB); larger is
/// refused whole (413).
pub const MAX_PUSH_BYTES: usize = 2 * 1024 * 1024;

/// The body of `POST /sync/push`.
///
/// [`crate::Replica::prepare_push`] builds one within the contract's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The campaign pushed to.
    pub campaign_id: Uuid,
    /// The pushing device (never `server`, which is reserved).
    pub device_id: String,
    /// The changes, taken in order.
    pub changes: Vec<Change>,
}

/// The answer of `POST /sync/push` (200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per change, in order.
    pub results: Vec<PushResult>,
    /// The server's clock after the push.
    pub server_hlc: Hlc,
}

/// The body of `POST /sync/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The campaign pulled from: cursors belong to one campaign.
    pub campaign_id: Uuid,
    /// The pulling device (never `server`).
    pub device_id: String,
    /// The last seq seen per street; a street missing starts at 0.
    pub cursors: BTreeMap<Uuid, i64>,
    /// The most changes to return (server default 500, at most 5000); `0` returns only
    /// buckets, cursors and `remaining`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A street the caller may sync now (a pull bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// The street.
    pub street_id: Uuid,
    /// Its ward.
    pub ward_id: Uuid,
    /// The street's code.
    pub code: String,
    /// The street's name.
    pub name: String,
}

/// The answer of `POST /sync/pull` (200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The streets the caller may sync now.
    pub buckets: Vec<Bucket>,
    /// Streets of the request's cursors that are no longer the caller's.
    pub dropped: Vec<Uuid>,
    /// The full current state of each record changed after the cursors.
    pub changes: Vec<PulledRecord>,
    /// The cursors to pull with next.
    pub cursors: BTreeMap<Uuid, i64>,
    /// Whether more changes wait: pull again with `cursors`.
    pub has_more: bool,
    /// Record versions still to come (exact or an upper bound).
    pub remaining: i64,
    /// The server's clock.
    pub server_hlc: Hlc,
}
