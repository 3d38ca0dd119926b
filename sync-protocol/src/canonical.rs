//! One canonical JSON form per field value, so that equal values compare equal and
//! equal-HLC ties break the same way everywhere (contract §12: "other numbers compare as
//! numbers", "ordered by their canonical JSON text").
//!
//! A number is canonical as an integer when it is integral and exactly representable
//! (|x| ≤ 2^53), otherwise as a float: `10`, `10.0` and `1e1` are all `10`, `-0.0` is `0`,
//! `10.50` is `10.5`. Every other value is canonical as it is.

use serde_json::{Number, Value};

/// The largest integer every f64 between it and zero represents exactly: 2^53.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// The canonical JSON number for `x`, or `None` when `x` is not finite.
///
/// ```
/// use sync_protocol::canonical_number;
///
/// assert_eq!(canonical_number(10.0), Some(serde_json::json!(10)));
/// assert_eq!(canonical_number(-0.0), Some(serde_json::json!(0)));
/// assert_eq!(canonical_number(10.5), Some(serde_json::json!(10.5)));
/// assert_eq!(canonical_number(f64::NAN), None);
/// ```
pub fn canonical_number(x: f64) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() <= EXACT_INTEGER_LIMIT {
        // Integral and within ±2^53: the cast is exact.
        let integer = x as i64;
        return Some(Value::Number(Number::from(integer)));
    }
    Number::from_f64(x).map(Value::Number)
}

/// `value` in canonical form: a number re-encoded by [`canonical_number`]; anything else
/// unchanged. Integers stay integers as they were pushed.
pub fn canonical_value(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .and_then(canonical_number)
            .unwrap_or_else(|| value.clone()),
        _ => value.clone(),
    }
}

/// The canonical JSON text of `value` (compact, as `serde_json::to_string` writes it), used
/// to order two different values stamped with the same HLC.
pub fn canonical_text(value: &Value) -> String {
    canonical_value(value).to_string()
}
