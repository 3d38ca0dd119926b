//! The other wire shapes of sync (contract §6): a push result and a pulled record.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::field::Kind;
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
    /// For a visit, the user who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volunteer_id: Option<Uuid>,
    /// The record version's position in its bucket.
    pub seq: i64,
    /// Every written field with its HLC.
    pub fields: RecordState,
}
