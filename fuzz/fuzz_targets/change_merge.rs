//! A push body's changes, decoded, validated against a permissive and a strict context, and
//! merged: nothing panics, merging is idempotent, and the merged state survives a JSON
//! round trip (what the server stores and phones pull).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_protocol::{
    decode, merge, validate, Change, ExistingRecord, HouseholdFacts, Kind, PushContext,
    RecordState, Role, StreetAccess,
};

fn context<'a>(
    role: Role,
    existing: Option<ExistingRecord<'a>>,
    household: Option<HouseholdFacts>,
) -> PushContext<'a> {
    PushContext {
        now_ms: 1_795_931_853_797,
        max_skew_ms: 300_000,
        visits_from_ms: None,
        pusher_id: uuid::Uuid::from_u128(7),
        role,
        street: StreetAccess::Allowed,
        existing,
        household,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let changes: Vec<serde_json::Value> = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    let mut state = RecordState::new();
    for raw in changes.iter().take(64) {
        let Ok(change) = serde_json::from_value::<Change>(raw.clone()) else {
            continue;
        };
        let Ok(decoded) = decode(&change) else {
            continue;
        };
        let household = decoded.household_id.map(|_| HouseholdFacts {
            street_id: decoded.street_id,
        });
        for role in [Role::Admin, Role::Volunteer] {
            let existing = (!state.is_empty()).then(|| ExistingRecord {
                kind: decoded.kind,
                street_id: decoded.street_id,
                household_id: decoded.household_id,
                volunteer_id: Some(uuid::Uuid::from_u128(7)),
                other_campaign: false,
                state: &state,
            });
            let _ = validate(decoded.clone(), &context(role, existing, household));
        }
        let existing = (!state.is_empty()).then(|| ExistingRecord {
            kind: decoded.kind,
            street_id: decoded.street_id,
            household_id: decoded.household_id,
            volunteer_id: Some(uuid::Uuid::from_u128(7)),
            other_campaign: false,
            state: &state,
        });
        let Ok(valid) = validate(decoded.clone(), &context(Role::Admin, existing, household))
        else {
            continue;
        };
        if valid.kind() == Kind::Visit && valid.household_id().is_none() {
            panic!("a valid visit always names its household");
        }
        merge(&mut state, &valid);
        let before = state.clone();
        let again = merge(&mut state, &valid);
        assert!(
            !again.applied(),
            "merging the same change twice must change nothing"
        );
        assert_eq!(state, before);
        let text = serde_json::to_string(&state).expect("state serializes");
        let back: RecordState = serde_json::from_str(&text).expect("state deserializes");
        assert_eq!(back, state, "the stored form round-trips");
    }
});
