//! The columns stored beside a record's state, derived from it.

use sync_protocol::{FieldName, Kind, Outcome, RecordState, Review};

use crate::error::{ApiError, ApiResult};
use crate::model::RecordId;

/// What a record's state says, in the form the `records` table indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Tombstoned.
    pub deleted: bool,
    /// A household's number.
    pub house_number: Option<String>,
    /// A visit's outcome.
    pub outcome: Option<Outcome>,
    /// A visit's `visited_at` as pushed.
    pub visited_at: Option<String>,
    /// `visited_at` in Unix microseconds.
    pub visited_at_us: Option<i64>,
    /// A visit's review (`pending` when never reviewed).
    pub review: Option<Review>,
}

fn text(state: &RecordState, field: FieldName) -> Option<String> {
    state
        .value(field)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Derives the indexed columns of record `id`. Its state has been validated and merged, so
/// a visit's `visited_at` is RFC 3339; one that is not is a bug, reported rather than
/// stored without its ordering key.
pub fn derive(id: RecordId, kind: Kind, state: &RecordState) -> ApiResult<Derived> {
    let deleted = state.deleted();
    Ok(match kind {
        Kind::Household => Derived {
            deleted,
            house_number: text(state, FieldName::HouseNumber),
            ..Derived::default()
        },
        Kind::Visit => {
            let visited_at = text(state, FieldName::VisitedAt);
            let visited_at_us = match visited_at.as_deref() {
                None => None,
                Some(text) => Some(
                    chrono::DateTime::parse_from_rfc3339(text)
                        .map_err(|err| {
                            ApiError::internal(format!("visit {id}: visited_at {text:?}: {err}"))
                        })?
                        .timestamp_micros(),
                ),
            };
            Derived {
                deleted,
                house_number: None,
                outcome: state.outcome(),
                visited_at,
                visited_at_us,
                review: Some(state.review()),
            }
        }
    })
}
