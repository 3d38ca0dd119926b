//! The schemas of a synced change (contract section 6), written out by hand: `sync-protocol`
//! keeps its types free of web crates, and a change's fields carry per-field limits that
//! derive macros cannot say (a stamped value whose `value` is 0–50, a string of at most 500
//! characters, ...).

use serde_json::{json, Map, Value};

/// HLC text: 13-digit milliseconds, 4 lowercase hex digits, the writer's node.
const HLC_PATTERN: &str = "^[0-9]{13}-[0-9a-f]{4}-[!-~]{1,64}$";

/// A `{"value", "hlc"}` pair whose value follows `value`.
fn stamped(value: Value, description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "required": ["value", "hlc"],
        "properties": {
            "value": value,
            "hlc": {"$ref": "#/components/schemas/Hlc"}
        }
    })
}

fn text(max: u32, nullable: bool) -> Value {
    let kind = if nullable {
        json!(["string", "null"])
    } else {
        json!("string")
    };
    json!({"type": kind, "maxLength": max})
}

fn number(min: Option<f64>, max: Option<f64>) -> Value {
    let mut schema = json!({"type": ["number", "null"]});
    if let Some(min) = min {
        schema["minimum"] = json!(min);
    }
    if let Some(max) = max {
        schema["maximum"] = json!(max);
    }
    schema
}

/// The fields a change may carry, each stamped. Households use `house_number`, `note`,
/// `lat`, `lon`, `deleted`; visits every other one (and `note`, `lat`, `lon`, `deleted`).
fn fields() -> Value {
    let count = json!({"type": "integer", "minimum": 0, "maximum": 50});
    json!({
        "type": "object",
        "description": "Fields by name, each with its HLC. `null` clears an optional field.",
        "additionalProperties": false,
        "properties": {
            "house_number": stamped(
                json!({"type": "string", "minLength": 1, "maxLength": 40}),
                "Household: its number, 1–40 characters, holding a letter or digit."),
            "note": stamped(text(500, true), "Free text, at most 500 characters (never names, \
                phone or ID numbers)."),
            "lat": stamped(number(Some(-90.0), Some(90.0)), "Latitude."),
            "lon": stamped(number(Some(-180.0), Some(180.0)), "Longitude."),
            "deleted": stamped(json!({"type": "boolean"}), "Tombstone."),
            "outcome": stamped(json!({"$ref": "#/components/schemas/OutcomeName"}),
                "Visit: what happened at the door."),
            "smartphone_users": stamped(count.clone(), "Visit: smartphone users, 0–50."),
            "app_users": stamped(count, "Visit: app users, 0–50, at most smartphone_users."),
            "visited_at": stamped(json!({"type": "string", "format": "date-time"}),
                "Visit: when, RFC 3339 with an offset; not more than 5 minutes ahead, not \
                 before the campaign's starts_on."),
            "accuracy_m": stamped(number(Some(0.0), None), "Visit: GPS accuracy in metres."),
            "review": stamped(json!({"$ref": "#/components/schemas/ReviewName"}),
                "Visit: ward leaders and admins only."),
            "review_note": stamped(text(500, true), "Visit: the reviewer's note, at most 500 \
                characters; ward leaders and admins only.")
        }
    })
}

/// Schemas of section 6, by component name.
pub fn schemas() -> Map<String, Value> {
    let kind = json!({"type": "string", "enum": ["household", "visit"]});
    let uuid = json!({"type": "string", "format": "uuid"});
    let entries = [
        (
            "Hlc",
            json!({
                "type": "string",
                "description": "Hybrid logical clock: `{ms:013}-{counter:04x}-{node}`, ordered by \
                    ms, then counter, then node byte-wise.",
                "pattern": HLC_PATTERN,
                "example": "1597742400000-0000-phone-7"
            }),
        ),
        (
            "DeviceId",
            json!({
                "type": "string",
                "description": "The device: 1–64 printable ASCII characters, no spaces. `server` \
                    is reserved for the server's own stamps.",
                "minLength": 1,
                "maxLength": 64,
                "pattern": "^[!-~]+$",
                "not": {"const": "server"}
            }),
        ),
        ("ChangeFields", fields()),
        (
            "Change",
            json!({
                "type": "object",
                "description": "One record's changed fields. A visit's first change carries \
                    `outcome` and `visited_at` (and both counts unless the outcome is `not_home` \
                    or `no_smartphone`); a household's first change carries `house_number` and \
                    the deterministic id of its street and house number.",
                "required": ["kind", "id", "street_id", "fields"],
                "properties": {
                    "kind": kind.clone(),
                    "id": uuid.clone(),
                    "street_id": uuid.clone(),
                    "household_id": {"type": "string", "format": "uuid",
                        "description": "Visits: the household; never changes."},
                    "fields": {"$ref": "#/components/schemas/ChangeFields"}
                }
            }),
        ),
        (
            "PushResult",
            json!({
                "type": "object",
                "required": ["id", "status"],
                "properties": {
                    "id": {"description": "The change's id, echoed as it was sent."},
                    "status": {"type": "string", "enum": ["applied", "unchanged", "rejected"]},
                    "code": {"type": "string", "enum": [
                        "validation", "not_assigned", "forbidden_field", "immutable_field",
                        "unknown_street", "unknown_household", "unknown_record", "clock_skew",
                        "kind_mismatch"
                    ], "description": "For a rejection. `unknown_household`, `unknown_record` and \
                        `clock_skew` are pushed again later; every other code is final."},
                    "message": {"type": "string", "description": "For a rejection, for people."}
                }
            }),
        ),
        (
            "PulledRecord",
            json!({
                "type": "object",
                "description": "The full current state of a record, every field with its HLC.",
                "required": ["kind", "id", "street_id", "seq", "fields"],
                "properties": {
                    "kind": kind,
                    "id": uuid.clone(),
                    "street_id": uuid.clone(),
                    "household_id": uuid.clone(),
                    "volunteer_id": uuid,
                    "seq": {"type": "integer", "format": "int64", "minimum": 1},
                    "fields": {"$ref": "#/components/schemas/ChangeFields"}
                }
            }),
        ),
    ];
    entries
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect()
}

/// Points the push and pull bodies, which the handlers read as loose JSON (so that one bad
/// change never blocks the others), at the schemas above.
pub fn constrain_bodies(schemas: &mut Map<String, Value>) {
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let mut set = |schema: &str, property: &str, value: Value| {
        if let Some(properties) = schemas
            .get_mut(schema)
            .and_then(|s| s.get_mut("properties"))
            .and_then(Value::as_object_mut)
        {
            properties.insert(property.to_owned(), value);
        }
    };
    let uuid = json!({"type": "string", "format": "uuid"});
    set("PushRequest", "campaign_id", uuid.clone());
    set("PushRequest", "device_id", reference("DeviceId"));
    set(
        "PushRequest",
        "changes",
        json!({
            "type": "array",
            "description": "At most 1000 changes (more is 413), taken in order: a household \
                created early in the batch can carry a visit later in it.",
            "maxItems": 1000,
            "items": reference("Change")
        }),
    );
    set(
        "PushResponse",
        "results",
        json!({
            "type": "array",
            "description": "One result per change, in order.",
            "items": reference("PushResult")
        }),
    );
    set("PushResponse", "server_hlc", reference("Hlc"));
    set("PullRequest", "campaign_id", uuid);
    set("PullRequest", "device_id", reference("DeviceId"));
    set(
        "PullRequest",
        "cursors",
        json!({
            "type": ["object", "null"],
            "description": "Last seq seen per street id; a street missing starts at 0.",
            "propertyNames": {"format": "uuid"},
            "additionalProperties": {"type": "integer", "minimum": 0}
        }),
    );
    set(
        "PullRequest",
        "limit",
        json!({
            "type": ["integer", "null"],
            "description": "Most changes to return: default 500; above 5000 is taken as 5000.",
            "minimum": 0
        }),
    );
    set(
        "PullResponse",
        "changes",
        json!({
            "type": "array",
            "description": "Full current state of each record changed after the cursors, in \
                seq order per bucket.",
            "items": reference("PulledRecord")
        }),
    );
    set(
        "PullResponse",
        "cursors",
        json!({
            "type": "object",
            "description": "Cursors to pull with next, by street id.",
            "propertyNames": {"format": "uuid"},
            "additionalProperties": {"type": "integer", "minimum": 0}
        }),
    );
    set(
        "PullResponse",
        "remaining",
        json!({"type": "integer", "minimum": 0,
        "description": "Record versions still to come after this page (exact or an upper \
            bound)."}),
    );
    set("PullResponse", "server_hlc", reference("Hlc"));
    for required in ["PushRequest", "PullRequest"] {
        if let Some(schema) = schemas.get_mut(required) {
            schema["required"] = json!(["campaign_id", "device_id"]);
        }
    }
    if let Some(push) = schemas.get_mut("PushRequest") {
        push["required"] = json!(["campaign_id", "device_id", "changes"]);
    }
}
