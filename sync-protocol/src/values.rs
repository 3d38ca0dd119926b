//! The rules for each field's value (contract §6 and §12).

use chrono::DateTime;
use serde_json::Value;

use crate::canonical::canonical_number;
use crate::field::{FieldName, Outcome, Review};
use crate::household_id::normalize_house_number;
use crate::rejection::Rejection;

/// The longest `note` and `review_note`, in characters (Unicode scalar values).
pub const MAX_NOTE_CHARS: usize = 500;
/// The longest `house_number`, in characters (Unicode scalar values).
pub const MAX_HOUSE_NUMBER_CHARS: usize = 40;
/// The largest `smartphone_users` and `app_users`.
pub const MAX_USERS: u64 = 50;

/// The bounds of `visited_at`.
pub(crate) struct ValueLimits {
    /// The latest instant a `visited_at` may name: the server clock plus the allowed skew.
    pub(crate) latest_ms: u64,
    /// The earliest: the campaign's start, if any.
    pub(crate) visits_from_ms: Option<i64>,
}

/// Checks one field's value and returns it in canonical form (numbers re-encoded by
/// [`canonical_number`], everything else as pushed).
pub(crate) fn check_value(
    field: FieldName,
    value: &Value,
    limits: &ValueLimits,
) -> Result<Value, Rejection> {
    if value.is_null() {
        return if field.is_optional() {
            Ok(Value::Null)
        } else {
            Err(invalid(field, "cannot be null"))
        };
    }
    match field {
        FieldName::HouseNumber => check_house_number(value),
        FieldName::Note | FieldName::ReviewNote => check_note(field, value),
        FieldName::Lat => check_number(field, value, -90.0, 90.0, "a number from -90 to 90"),
        FieldName::Lon => check_number(field, value, -180.0, 180.0, "a number from -180 to 180"),
        FieldName::AccuracyM => check_number(field, value, 0.0, f64::MAX, "a number of at least 0"),
        FieldName::Deleted => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(invalid(field, "must be true or false")),
        },
        FieldName::Outcome => check_name::<Outcome>(
            field,
            value,
            "must be installed_now, already_installed, declined, not_home or no_smartphone",
        ),
        FieldName::Review => {
            check_name::<Review>(field, value, "must be pending, verified or rejected")
        }
        FieldName::SmartphoneUsers | FieldName::AppUsers => match value.as_u64() {
            Some(n) if n <= MAX_USERS => Ok(value.clone()),
            _ => Err(invalid(field, "must be an integer from 0 to 50")),
        },
        FieldName::VisitedAt => check_visited_at(value, limits),
    }
}

fn invalid(field: FieldName, problem: &str) -> Rejection {
    Rejection::validation(format!("{field} {problem}"))
}

fn check_house_number(value: &Value) -> Result<Value, Rejection> {
    let field = FieldName::HouseNumber;
    let text = value
        .as_str()
        .ok_or_else(|| invalid(field, "must be a string"))?;
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_HOUSE_NUMBER_CHARS {
        return Err(invalid(field, "must be 1 to 40 characters"));
    }
    if text.chars().any(char::is_control) {
        // An address never holds control characters, and PostgreSQL text cannot hold NUL.
        return Err(invalid(field, "must not contain control characters"));
    }
    if normalize_house_number(text).is_none() {
        return Err(invalid(field, "holds no letter or digit once normalized"));
    }
    Ok(value.clone())
}

fn check_note(field: FieldName, value: &Value) -> Result<Value, Rejection> {
    match value.as_str() {
        Some(text) if text.chars().count() <= MAX_NOTE_CHARS => Ok(value.clone()),
        Some(_) => Err(invalid(field, "is longer than 500 characters")),
        None => Err(invalid(field, "must be a string")),
    }
}

fn check_number(
    field: FieldName,
    value: &Value,
    low: f64,
    high: f64,
    expected: &str,
) -> Result<Value, Rejection> {
    value
        .as_f64()
        .filter(|x| x.is_finite() && (low..=high).contains(x))
        .and_then(canonical_number)
        .ok_or_else(|| invalid(field, &format!("must be {expected}")))
}

fn check_name<T: std::str::FromStr>(
    field: FieldName,
    value: &Value,
    expected: &str,
) -> Result<Value, Rejection> {
    match value.as_str().map(str::parse::<T>) {
        Some(Ok(_)) => Ok(value.clone()),
        _ => Err(invalid(field, expected)),
    }
}

fn check_visited_at(value: &Value, limits: &ValueLimits) -> Result<Value, Rejection> {
    let field = FieldName::VisitedAt;
    let at = value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .ok_or_else(|| invalid(field, "must be an RFC 3339 date and time with an offset"))?;
    let at_ms = at.timestamp_millis();
    if i128::from(at_ms) > i128::from(limits.latest_ms) {
        return Err(invalid(field, "is too far in the future"));
    }
    if limits.visits_from_ms.is_some_and(|from| at_ms < from) {
        return Err(invalid(field, "is before the campaign's first day"));
    }
    Ok(value.clone())
}
