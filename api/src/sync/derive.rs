//! The columns stored beside a record's state, derived from it.

use sync_protocol::{FieldName, Kind, RecordState};

/// What a record's state says, in the form the `records` table indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Tombstoned.
    pub deleted: bool,
    /// A household's number.
    pub house_number: Option<String>,
    /// A visit's outcome.
    pub outcome: Option<String>,
    /// A visit's `visited_at` as pushed.
    pub visited_at: Option<String>,
    /// `visited_at` in Unix microseconds.
    pub visited_at_us: Option<i64>,
    /// A visit's review (`pending` when never reviewed).
    pub review: Option<String>,
}

fn text(state: &RecordState, field: FieldName) -> Option<String> {
    state
        .value(field)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Derives the indexed columns of a record.
pub fn derive(kind: Kind, state: &RecordState) -> Derived {
    let deleted = state.deleted();
    match kind {
        Kind::Household => Derived {
            deleted,
            house_number: text(state, FieldName::HouseNumber),
            ..Derived::default()
        },
        Kind::Visit => {
            let visited_at = text(state, FieldName::VisitedAt);
            let visited_at_us = visited_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_micros());
            Derived {
                deleted,
                house_number: None,
                outcome: state.outcome().map(|o| o.as_str().to_owned()),
                visited_at,
                visited_at_us,
                review: Some(state.review().as_str().to_owned()),
            }
        }
    }
}
