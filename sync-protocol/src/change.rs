//! The change as pushed on the wire, and its decoding (the first step of contract §12).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::field::{FieldName, Kind};
use crate::hlc::Hlc;
use crate::rejection::Rejection;
use crate::state::Stamped;

/// A change as it arrives in a push.
///
/// Deliberately loose: any JSON object deserializes into it, so that every problem gets a
/// precise per-change rejection from [`decode`] instead of refusing the whole body. Missing
/// keys are `null`; top-level keys other than these five (`seq`, `volunteer_id` echoed from
/// a pull…) are ignored. Anything but an object (an array included) does not deserialize:
/// the contract refuses such a body whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Map<String, Value>")]
pub struct Change {
    /// `"household"` or `"visit"`.
    pub kind: Value,
    /// The record's id.
    pub id: Value,
    /// The street the record belongs to.
    pub street_id: Value,
    /// For a visit: the household visited.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub household_id: Value,
    /// `{"<field name>": {"value": …, "hlc": "…"}}`.
    pub fields: Value,
}

impl From<Map<String, Value>> for Change {
    fn from(mut object: Map<String, Value>) -> Change {
        let mut take = |key: &str| object.remove(key).unwrap_or(Value::Null);
        Change {
            kind: take("kind"),
            id: take("id"),
            street_id: take("street_id"),
            household_id: take("household_id"),
            fields: take("fields"),
        }
    }
}

impl Change {
    /// A well-formed wire change, e.g. for a phone's outbox or a test.
    pub fn new(
        kind: Kind,
        id: Uuid,
        street_id: Uuid,
        household_id: Option<Uuid>,
        fields: &BTreeMap<FieldName, Stamped>,
    ) -> Change {
        let fields: Map<String, Value> = fields
            .iter()
            .map(|(name, stamped)| {
                let mut entry = Map::new();
                entry.insert("value".to_owned(), stamped.value.clone());
                entry.insert("hlc".to_owned(), Value::String(stamped.hlc.to_string()));
                (name.as_str().to_owned(), Value::Object(entry))
            })
            .collect();
        Change {
            kind: Value::String(kind.as_str().to_owned()),
            id: Value::String(id.to_string()),
            street_id: Value::String(street_id.to_string()),
            household_id: household_id.map_or(Value::Null, |id| Value::String(id.to_string())),
            fields: Value::Object(fields),
        }
    }
}

/// A change whose shape is right: ids, kind, field names and HLCs parsed.
///
/// Field values are not checked yet; [`crate::validate()`] does that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedChange {
    /// The record's kind.
    pub kind: Kind,
    /// The record's id.
    pub id: Uuid,
    /// The street the record belongs to.
    pub street_id: Uuid,
    /// For a visit, its household; always `None` for a household.
    pub household_id: Option<Uuid>,
    /// The fields, each with the HLC it was written with. Never empty.
    pub fields: BTreeMap<FieldName, Stamped>,
}

/// Decodes a wire change: the first step of contract §12's precedence.
///
/// Everything refused here is `validation`: an id that is not a hyphenated UUID (any
/// case), an unknown kind, a visit without `household_id` or a household with one, a
/// `fields` that is not a non-empty object, a field name unknown for the kind, a field
/// entry that is not an object with `value` and `hlc`, or a malformed HLC.
///
/// ```
/// use sync_protocol::{decode, Change, FieldName, Kind, RejectionCode};
///
/// let change: Change = serde_json::from_value(serde_json::json!({
///     "kind": "household",
///     "id": "cd204d15-0527-5827-9e6d-6bff87ec69dd",
///     "street_id": "ca41459a-228f-4513-b479-e934348a81aa",
///     "seq": 12,
///     "fields": {"house_number": {"value": "12/5A", "hlc": "1795931793795-0000-phone-lan"}}
/// }))?;
/// let decoded = decode(&change).map_err(|r| r.message)?;
/// assert_eq!(decoded.kind, Kind::Household);
/// assert!(decoded.fields.contains_key(&FieldName::HouseNumber));
///
/// let mut bad = change.clone();
/// bad.fields["house_number"]["hlc"] = "1795931793795-00A0-phone-lan".into();
/// assert_eq!(decode(&bad).map_err(|r| r.code), Err(RejectionCode::Validation));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(change: &Change) -> Result<DecodedChange, Rejection> {
    let kind = decode_kind(&change.kind)?;
    let id = decode_id("id", &change.id)?;
    let street_id = decode_id("street_id", &change.street_id)?;
    let household_id = match (kind, &change.household_id) {
        (Kind::Visit, Value::Null) => {
            return Err(Rejection::validation("a visit needs household_id"))
        }
        (Kind::Visit, value) => Some(decode_id("household_id", value)?),
        (Kind::Household, Value::Null) => None,
        (Kind::Household, _) => {
            return Err(Rejection::validation("a household has no household_id"))
        }
    };
    let fields = decode_fields(kind, &change.fields)?;
    Ok(DecodedChange {
        kind,
        id,
        street_id,
        household_id,
        fields,
    })
}

fn decode_kind(value: &Value) -> Result<Kind, Rejection> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| Rejection::validation("kind must be \"household\" or \"visit\""))
}

/// Parses a UUID in hyphenated text, in any case.
fn decode_id(key: &str, value: &Value) -> Result<Uuid, Rejection> {
    value
        .as_str()
        .filter(|text| text.len() == 36)
        .and_then(|text| Uuid::try_parse(text).ok())
        .ok_or_else(|| Rejection::validation(format!("{key} must be a UUID in hyphenated text")))
}

fn decode_fields(kind: Kind, value: &Value) -> Result<BTreeMap<FieldName, Stamped>, Rejection> {
    let Some(entries) = value.as_object() else {
        return Err(Rejection::validation("fields must be an object"));
    };
    if entries.is_empty() {
        return Err(Rejection::validation("fields must not be empty"));
    }
    entries
        .iter()
        .map(|(name, entry)| {
            let field = FieldName::parse(kind, name).ok_or_else(|| {
                Rejection::validation(format!("unknown field {name:?} for a {kind}"))
            })?;
            Ok((field, decode_entry(name, entry)?))
        })
        .collect()
}

fn decode_entry(name: &str, entry: &Value) -> Result<Stamped, Rejection> {
    let shape = || Rejection::validation(format!("fields.{name} must be {{\"value\", \"hlc\"}}"));
    let entry = entry.as_object().ok_or_else(shape)?;
    let value = entry.get("value").ok_or_else(shape)?;
    let hlc = entry.get("hlc").and_then(Value::as_str).ok_or_else(shape)?;
    let hlc: Hlc = hlc.parse().map_err(|error| {
        Rejection::validation(format!("fields.{name}.hlc is not a valid HLC: {error}"))
    })?;
    Ok(Stamped::new(value.clone(), hlc))
}
