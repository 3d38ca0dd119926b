//! Field-level last-writer-wins merge. Infallible: everything that can be wrong with a
//! change was refused by [`crate::validate()`].
//!
//! The order is total: the larger HLC wins; for equal HLCs (the same writer cannot give one
//! HLC to two values, but a broken phone can) the larger canonical JSON text wins. So the
//! merge is commutative, associative and idempotent, and arrival order never matters.

use std::cmp::Ordering;

use crate::canonical::canonical_text;
use crate::field::FieldName;
use crate::state::{RecordState, Stamped};
use crate::validate::ValidChange;

/// What merging one incoming field did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldMerge {
    /// The incoming value is newer and replaces the current one (or there was none).
    Won,
    /// The current value is newer; the incoming one is not kept in the state.
    Lost,
    /// The same value with the same HLC is already there.
    Same,
}

/// Compares two stamped values in the merge order: HLC first, then canonical JSON text.
///
/// `Equal` means the same HLC and the same canonical value.
pub fn merge_order(a: &Stamped, b: &Stamped) -> Ordering {
    a.hlc
        .cmp(&b.hlc)
        .then_with(|| canonical_text(&a.value).cmp(&canonical_text(&b.value)))
}

/// Decides whether `incoming` replaces `current`.
///
/// ```
/// use sync_protocol::{merge_field, FieldMerge, Stamped};
/// use serde_json::json;
///
/// let old = Stamped::new(json!("declined"), "1597742400000-0000-phone-7".parse()?);
/// let new = Stamped::new(json!("installed_now"), "1597742400000-0001-phone-2".parse()?);
/// assert_eq!(merge_field(None, &old), FieldMerge::Won);
/// assert_eq!(merge_field(Some(&old), &new), FieldMerge::Won);
/// assert_eq!(merge_field(Some(&new), &old), FieldMerge::Lost);
/// assert_eq!(merge_field(Some(&new), &new.clone()), FieldMerge::Same);
///
/// // Equal HLCs: the larger canonical JSON text wins, "\"n…" > "\"d…".
/// let twin = Stamped::new(json!("not_home"), old.hlc.clone());
/// assert_eq!(merge_field(Some(&old), &twin), FieldMerge::Won);
/// assert_eq!(merge_field(Some(&twin), &old), FieldMerge::Lost);
/// # Ok::<(), sync_protocol::HlcError>(())
/// ```
pub fn merge_field(current: Option<&Stamped>, incoming: &Stamped) -> FieldMerge {
    let Some(current) = current else {
        return FieldMerge::Won;
    };
    match merge_order(incoming, current) {
        Ordering::Greater => FieldMerge::Won,
        Ordering::Less => FieldMerge::Lost,
        Ordering::Equal => FieldMerge::Same,
    }
}

/// Which fields of a change took effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Fields that took the incoming value.
    pub won: Vec<FieldName>,
    /// Fields whose current value is newer.
    pub lost: Vec<FieldName>,
    /// Fields that already held the incoming value and HLC.
    pub same: Vec<FieldName>,
}

impl MergeOutcome {
    /// Whether some field took the incoming value: the push result is `applied`;
    /// otherwise `unchanged`.
    pub fn applied(&self) -> bool {
        !self.won.is_empty()
    }
}

/// Merges a valid change into a record's state, field by field.
///
/// ```
/// use sync_protocol::{decode, merge, validate, Change, PushContext, RecordState, Role, StreetAccess};
///
/// let change: Change = serde_json::from_value(serde_json::json!({
///     "kind": "household",
///     "id": "cd204d15-0527-5827-9e6d-6bff87ec69dd",
///     "street_id": "ca41459a-228f-4513-b479-e934348a81aa",
///     "fields": {"house_number": {"value": "12/5A", "hlc": "1795931793795-0000-phone-lan"}}
/// }))?;
/// let ctx = PushContext {
///     now_ms: 1_795_931_853_797,
///     max_skew_ms: 300_000,
///     visits_from_ms: None,
///     pusher_id: uuid::Uuid::nil(),
///     role: Role::Admin,
///     street: StreetAccess::Allowed,
///     existing: None,
///     household: None,
/// };
/// let valid = validate(decode(&change).map_err(|r| r.message)?, &ctx).map_err(|r| r.message)?;
/// let mut state = RecordState::new();
/// assert!(merge(&mut state, &valid).applied());
/// assert!(!merge(&mut state, &valid).applied(), "an exact re-send is unchanged");
/// assert_eq!(state.house_number(), Some("12/5A"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn merge(state: &mut RecordState, change: &ValidChange) -> MergeOutcome {
    let mut outcome = MergeOutcome::default();
    for (&field, incoming) in change.fields() {
        match merge_field(state.get(field), incoming) {
            FieldMerge::Won => {
                state.fields.insert(field, incoming.clone());
                outcome.won.push(field);
            }
            FieldMerge::Lost => outcome.lost.push(field),
            FieldMerge::Same => outcome.same.push(field),
        }
    }
    outcome
}

/// The state-based join of two states: for every field, the larger in the merge order.
///
/// ```
/// use sync_protocol::{join, RecordState};
///
/// let a: RecordState = serde_json::from_value(serde_json::json!({
///     "note": {"value": "gate is blue", "hlc": "1597742400000-0000-phone-7"}
/// }))?;
/// let b: RecordState = serde_json::from_value(serde_json::json!({
///     "note": {"value": null, "hlc": "1597742400001-0000-phone-2"},
///     "lat": {"value": 10.98, "hlc": "1597742400000-0000-phone-2"}
/// }))?;
/// assert_eq!(join(&a, &b), join(&b, &a));
/// assert_eq!(join(&a, &b), b, "b is newer on every field a has");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn join(a: &RecordState, b: &RecordState) -> RecordState {
    let mut joined = a.clone();
    for (&field, incoming) in &b.fields {
        if merge_field(joined.get(field), incoming) == FieldMerge::Won {
            joined.fields.insert(field, incoming.clone());
        }
    }
    joined
}
