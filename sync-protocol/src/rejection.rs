//! Why a pushed change was rejected: the contract's per-change codes (§6, §12).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A per-change rejection code, serialized as the contract's snake_case text.
///
/// When several apply, [`crate::validate()`] gives the first in the order of contract §12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// Malformed ids, kind, field names, HLCs or values; a missing required field.
    Validation,
    /// The pusher may not push on this street.
    NotAssigned,
    /// A review field from a non-reviewer, or a volunteer editing someone else's visit.
    ForbiddenField,
    /// A change of `street_id` or `household_id`, or a visit id of another campaign.
    ImmutableField,
    /// No street has this id.
    UnknownStreet,
    /// The visit's household is not known (yet).
    UnknownHousehold,
    /// An edit of a visit the server has not seen created (yet).
    UnknownRecord,
    /// An HLC more than the allowed skew ahead of the server clock.
    ClockSkew,
    /// The id belongs to a record of the other kind.
    KindMismatch,
}

impl RejectionCode {
    /// The contract's code text, e.g. `"unknown_household"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::Validation => "validation",
            RejectionCode::NotAssigned => "not_assigned",
            RejectionCode::ForbiddenField => "forbidden_field",
            RejectionCode::ImmutableField => "immutable_field",
            RejectionCode::UnknownStreet => "unknown_street",
            RejectionCode::UnknownHousehold => "unknown_household",
            RejectionCode::UnknownRecord => "unknown_record",
            RejectionCode::ClockSkew => "clock_skew",
            RejectionCode::KindMismatch => "kind_mismatch",
        }
    }

    /// Whether a phone keeps the change and pushes it again later: `unknown_household`,
    /// `unknown_record` and `clock_skew`. Every other rejection is final.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            RejectionCode::UnknownHousehold
                | RejectionCode::UnknownRecord
                | RejectionCode::ClockSkew
        )
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected change: the code clients act on, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// What clients and tests read.
    pub code: RejectionCode,
    /// Free text naming the problem, e.g. `"app_users is above smartphone_users"`.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and `message`.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
        }
    }

    /// A `validation` rejection.
    pub fn validation(message: impl Into<String>) -> Rejection {
        Rejection::new(RejectionCode::Validation, message)
    }
}
