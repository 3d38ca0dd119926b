//! A record's state: every written field with the HLC of its current value.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::field::{FieldName, Outcome, Review};
use crate::hlc::Hlc;

/// A field value with the HLC of the write that set it.
///
/// Serialized as `{"value": …, "hlc": "…"}`. `Value::Null` is a cleared optional field: it
/// is kept, with its HLC, so that an older write cannot bring the old value back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped {
    /// The value as pushed (numbers in canonical form, see [`crate::canonical_value`]).
    pub value: Value,
    /// The HLC of the write.
    pub hlc: Hlc,
}

impl Stamped {
    /// Pairs a value with its HLC.
    pub fn new(value: Value, hlc: Hlc) -> Stamped {
        Stamped { value, hlc }
    }
}

/// The fields of one record, as the contract's `"fields"` map.
///
/// Only written fields are present: `review` (`pending`) and `deleted` (`false`) are
/// defaults, not writes, and the typed readers return the defaults when they are absent.
///
/// ```
/// use sync_protocol::{FieldName, Outcome, RecordState, Review};
///
/// let state: RecordState = serde_json::from_value(serde_json::json!({
///     "outcome": {"value": "declined", "hlc": "1597742400000-0000-phone-7"},
///     "note": {"value": null, "hlc": "1597742400000-0001-phone-7"}
/// }))?;
/// assert_eq!(state.outcome(), Some(Outcome::Declined));
/// assert_eq!(state.smartphone_users(), 0, "a count never written counts as 0");
/// assert_eq!(state.review(), Review::Pending);
/// assert_eq!(state.note(), None, "null is a cleared field");
/// assert!(state.get(FieldName::Note).is_some(), "but its HLC is kept");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordState {
    /// Every written field.
    pub fields: BTreeMap<FieldName, Stamped>,
}

impl RecordState {
    /// A state with no field written.
    pub fn new() -> RecordState {
        RecordState::default()
    }

    /// The stamped value of `field`, if it was ever written (a cleared field included).
    pub fn get(&self, field: FieldName) -> Option<&Stamped> {
        self.fields.get(&field)
    }

    /// The current value of `field`; `None` when never written or cleared with `null`.
    pub fn value(&self, field: FieldName) -> Option<&Value> {
        self.get(field)
            .map(|stamped| &stamped.value)
            .filter(|value| !value.is_null())
    }

    /// The largest HLC among the fields, if any.
    pub fn max_hlc(&self) -> Option<&Hlc> {
        self.fields.values().map(|stamped| &stamped.hlc).max()
    }

    /// Whether no field was ever written.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn text(&self, field: FieldName) -> Option<&str> {
        self.value(field).and_then(Value::as_str)
    }

    fn number(&self, field: FieldName) -> Option<f64> {
        self.value(field).and_then(Value::as_f64)
    }

    fn count(&self, field: FieldName) -> u32 {
        self.value(field)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }

    /// A household's house number.
    pub fn house_number(&self) -> Option<&str> {
        self.text(FieldName::HouseNumber)
    }

    /// The note, unless never written or cleared.
    pub fn note(&self) -> Option<&str> {
        self.text(FieldName::Note)
    }

    /// The latitude, unless never written or cleared.
    pub fn lat(&self) -> Option<f64> {
        self.number(FieldName::Lat)
    }

    /// The longitude, unless never written or cleared.
    pub fn lon(&self) -> Option<f64> {
        self.number(FieldName::Lon)
    }

    /// Whether the record is a tombstone; `false` when never written.
    pub fn deleted(&self) -> bool {
        self.value(FieldName::Deleted)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// A visit's outcome.
    pub fn outcome(&self) -> Option<Outcome> {
        self.text(FieldName::Outcome)
            .and_then(|text| text.parse().ok())
    }

    /// A visit's `smartphone_users`; 0 when never written.
    pub fn smartphone_users(&self) -> u32 {
        self.count(FieldName::SmartphoneUsers)
    }

    /// A visit's `app_users`; 0 when never written.
    pub fn app_users(&self) -> u32 {
        self.count(FieldName::AppUsers)
    }

    /// A visit's `visited_at` exactly as pushed.
    pub fn visited_at_text(&self) -> Option<&str> {
        self.text(FieldName::VisitedAt)
    }

    /// A visit's `visited_at`, parsed.
    pub fn visited_at(&self) -> Option<DateTime<FixedOffset>> {
        self.visited_at_text()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
    }

    /// A visit's location accuracy in metres, unless never written or cleared.
    pub fn accuracy_m(&self) -> Option<f64> {
        self.number(FieldName::AccuracyM)
    }

    /// A visit's review; `pending` when never written.
    pub fn review(&self) -> Review {
        self.text(FieldName::Review)
            .and_then(|text| text.parse().ok())
            .unwrap_or_default()
    }

    /// A visit's review note, unless never written or cleared.
    pub fn review_note(&self) -> Option<&str> {
        self.text(FieldName::ReviewNote)
    }
}

impl FromIterator<(FieldName, Stamped)> for RecordState {
    fn from_iter<I: IntoIterator<Item = (FieldName, Stamped)>>(iter: I) -> RecordState {
        RecordState {
            fields: iter.into_iter().collect(),
        }
    }
}
