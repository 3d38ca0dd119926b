//! Judging a decoded change against what the server knows (contract §6 and §12).

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::change::DecodedChange;
use crate::field::{FieldName, Kind, Role};
use crate::hlc::Hlc;
use crate::household_id::household_id;
use crate::rejection::{Rejection, RejectionCode};
use crate::state::{RecordState, Stamped};
use crate::values::{check_value, ValueLimits};

/// Whether the pusher may push on the change's street, as the server computed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreetAccess {
    /// No street has this id: `unknown_street`.
    Unknown,
    /// The street exists but is not the pusher's (for a volunteer: not assigned in this
    /// campaign now nor within the last 7 days): `not_assigned`.
    NotAllowed,
    /// The pusher may push here.
    Allowed,
}

/// The record with the change's id, when the server already has one.
#[derive(Debug, Clone, Copy)]
pub struct ExistingRecord<'a> {
    /// Its kind.
    pub kind: Kind,
    /// Its street.
    pub street_id: Uuid,
    /// For a visit, its household.
    pub household_id: Option<Uuid>,
    /// The user whose push created it: a visit's volunteer, a household's creator (`None`
    /// for a household created by an import, or stored before creators were kept).
    pub volunteer_id: Option<Uuid>,
    /// Whether it is a visit of another campaign (always `false` for a household: they are
    /// shared by all campaigns).
    pub other_campaign: bool,
    /// Its current fields.
    pub state: &'a RecordState,
}

/// What the server knows of the household a visit names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdFacts {
    /// The street the household stands on.
    pub street_id: Uuid,
}

/// Everything [`validate()`] needs besides the change, computed by the server.
#[derive(Debug, Clone, Copy)]
pub struct PushContext<'a> {
    /// The server's wall clock, Unix milliseconds.
    pub now_ms: u64,
    /// How far ahead of `now_ms` an HLC or a `visited_at` may be (the contract's 5 minutes:
    /// 300 000).
    pub max_skew_ms: u64,
    /// The earliest `visited_at` the campaign takes, Unix milliseconds: local midnight of
    /// its `starts_on` in its time zone (the server computes it). `None`: no lower bound.
    pub visits_from_ms: Option<i64>,
    /// The pushing user.
    pub pusher_id: Uuid,
    /// The pushing user's role.
    pub role: Role,
    /// Whether the change's street exists and the pusher may push there.
    pub street: StreetAccess,
    /// The record with the change's id, if the server has one.
    pub existing: Option<ExistingRecord<'a>>,
    /// For a visit: its household, if the server knows it.
    pub household: Option<HouseholdFacts>,
}

/// A change that passed every rule, ready for [`crate::merge()`].
///
/// Only [`validate()`] makes one, so holding one proves the change is acceptable. Its field
/// values are in canonical form (see [`crate::canonical_value`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidChange {
    kind: Kind,
    id: Uuid,
    street_id: Uuid,
    household_id: Option<Uuid>,
    fields: BTreeMap<FieldName, Stamped>,
    is_creation: bool,
}

impl ValidChange {
    /// The record's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The record's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The record's street.
    pub fn street_id(&self) -> Uuid {
        self.street_id
    }

    /// For a visit, its household.
    pub fn household_id(&self) -> Option<Uuid> {
        self.household_id
    }

    /// The fields to merge, each with its HLC. Never empty.
    pub fn fields(&self) -> &BTreeMap<FieldName, Stamped> {
        &self.fields
    }

    /// Whether the server had no record with this id: the change creates it (the server
    /// then records the pusher as its creator, `volunteer_id`).
    pub fn is_creation(&self) -> bool {
        self.is_creation
    }

    /// The largest HLC in the change, for the server clock to witness.
    pub fn max_hlc(&self) -> Option<&Hlc> {
        self.fields.values().map(|stamped| &stamped.hlc).max()
    }
}

/// Judges a decoded change. When several rules are broken, the rejection is the first in
/// contract §12's order: `unknown_street`, `not_assigned`, `kind_mismatch`,
/// `immutable_field`, `forbidden_field`, `clock_skew`, `validation` (values and required
/// fields), `unknown_record`, `unknown_household`. ([`crate::decode()`] did the first
/// `validation` step.)
///
/// Besides the field rules: a household's first change must carry `house_number` and the
/// deterministic id of its street and house number ([`crate::household_id()`]); a visit's
/// `visited_at` may be neither more than `max_skew_ms` ahead of `now_ms` nor before
/// `visits_from_ms`; a volunteer writes only visits it created, and a household's
/// `deleted` only when its own push created the household (`forbidden_field`).
///
/// ```
/// use sync_protocol::{decode, validate, Change, PushContext, RejectionCode, Role, StreetAccess};
///
/// let change: Change = serde_json::from_value(serde_json::json!({
///     "kind": "visit",
///     "id": "01890a5d-ac96-774b-bcce-b302099a8058",
///     "street_id": "ca41459a-228f-4513-b479-e934348a81aa",
///     "household_id": "cd204d15-0527-5827-9e6d-6bff87ec69dd",
///     "fields": {
///         "outcome": {"value": "declined", "hlc": "1795931793795-0002-phone-lan"},
///         "visited_at": {"value": "2020-08-18T09:40:00+07:00", "hlc": "1795931793795-0002-phone-lan"},
///         "smartphone_users": {"value": 1, "hlc": "1795931793795-0002-phone-lan"},
///         "app_users": {"value": 2, "hlc": "1795931793795-0002-phone-lan"}
///     }
/// }))?;
/// let ctx = PushContext {
///     now_ms: 1_795_931_853_797,
///     max_skew_ms: 300_000,
///     visits_from_ms: None,
///     pusher_id: uuid::Uuid::nil(),
///     role: Role::Volunteer,
///     street: StreetAccess::Allowed,
///     existing: None,
///     household: Some(sync_protocol::HouseholdFacts { street_id: "ca41459a-228f-4513-b479-e934348a81aa".parse()? }),
/// };
/// let rejection = validate(decode(&change).map_err(|r| r.message)?, &ctx).unwrap_err();
/// assert_eq!(rejection.code, RejectionCode::Validation);
/// assert_eq!(rejection.message, "app_users is above smartphone_users");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate(change: DecodedChange, ctx: &PushContext) -> Result<ValidChange, Rejection> {
    check_street(ctx)?;
    if let Some(existing) = &ctx.existing {
        check_existing(&change, existing)?;
    }
    check_permissions(&change, ctx)?;
    check_skew(&change, ctx)?;
    let fields = check_values(&change, ctx)?;
    let is_creation = ctx.existing.is_none();
    if is_creation {
        check_creation(&change, &fields)?;
    }
    if change.kind == Kind::Visit && ctx.household.is_none() {
        return Err(Rejection::new(
            RejectionCode::UnknownHousehold,
            "the visit's household is not known",
        ));
    }
    Ok(ValidChange {
        kind: change.kind,
        id: change.id,
        street_id: change.street_id,
        household_id: change.household_id,
        fields,
        is_creation,
    })
}

fn check_street(ctx: &PushContext) -> Result<(), Rejection> {
    match ctx.street {
        StreetAccess::Allowed => Ok(()),
        StreetAccess::Unknown => Err(Rejection::new(
            RejectionCode::UnknownStreet,
            "no street has this street_id",
        )),
        StreetAccess::NotAllowed => Err(Rejection::new(
            RejectionCode::NotAssigned,
            "the street is not assigned to the pusher",
        )),
    }
}

fn check_existing(change: &DecodedChange, existing: &ExistingRecord) -> Result<(), Rejection> {
    if existing.kind != change.kind {
        return Err(Rejection::new(
            RejectionCode::KindMismatch,
            format!("the id belongs to a {}", existing.kind),
        ));
    }
    let immutable = |message: &str| Err(Rejection::new(RejectionCode::ImmutableField, message));
    if existing.other_campaign {
        return immutable("the visit id belongs to another campaign");
    }
    if existing.street_id != change.street_id {
        return immutable("street_id never changes");
    }
    if change.kind == Kind::Visit && existing.household_id != change.household_id {
        return immutable("household_id never changes");
    }
    Ok(())
}

fn check_permissions(change: &DecodedChange, ctx: &PushContext) -> Result<(), Rejection> {
    if ctx.role.may_review() {
        // Admins push anything; ward leaders also edit their ward's visits.
        return Ok(());
    }
    if let Some(field) = change.fields.keys().find(|field| field.is_review_field()) {
        return Err(Rejection::new(
            RejectionCode::ForbiddenField,
            format!("only ward leaders and admins write {field}"),
        ));
    }
    let created_by_someone_else = ctx
        .existing
        .as_ref()
        .is_some_and(|existing| existing.volunteer_id != Some(ctx.pusher_id));
    if created_by_someone_else {
        match change.kind {
            Kind::Visit => {
                return Err(Rejection::new(
                    RejectionCode::ForbiddenField,
                    "a volunteer changes only the visits it created",
                ))
            }
            Kind::Household if change.fields.contains_key(&FieldName::Deleted) => {
                return Err(Rejection::new(
                    RejectionCode::ForbiddenField,
                    "a volunteer deletes only households its own push created",
                ))
            }
            Kind::Household => {}
        }
    }
    Ok(())
}

fn check_skew(change: &DecodedChange, ctx: &PushContext) -> Result<(), Rejection> {
    let limit = ctx.now_ms.saturating_add(ctx.max_skew_ms);
    match change
        .fields
        .iter()
        .find(|(_, stamped)| stamped.hlc.ms() > limit)
    {
        Some((field, stamped)) => Err(Rejection::new(
            RejectionCode::ClockSkew,
            format!(
                "the HLC of {field} is {} ms ahead of the server clock",
                stamped.hlc.ms() - ctx.now_ms
            ),
        )),
        None => Ok(()),
    }
}

fn check_values(
    change: &DecodedChange,
    ctx: &PushContext,
) -> Result<BTreeMap<FieldName, Stamped>, Rejection> {
    let limits = ValueLimits {
        latest_ms: ctx.now_ms.saturating_add(ctx.max_skew_ms),
        visits_from_ms: ctx.visits_from_ms,
    };
    let fields = change
        .fields
        .iter()
        .map(|(&field, stamped)| {
            let value = check_value(field, &stamped.value, &limits)?;
            Ok((field, Stamped::new(value, stamped.hlc.clone())))
        })
        .collect::<Result<BTreeMap<_, _>, Rejection>>()?;
    let count = |field| fields.get(&field).and_then(|s: &Stamped| s.value.as_u64());
    if let (Some(smartphone), Some(app)) = (
        count(FieldName::SmartphoneUsers),
        count(FieldName::AppUsers),
    ) {
        if app > smartphone {
            return Err(Rejection::validation("app_users is above smartphone_users"));
        }
    }
    if let Some(household) = &ctx.household {
        if change.kind == Kind::Visit && household.street_id != change.street_id {
            return Err(Rejection::validation(
                "the visit's household stands on another street",
            ));
        }
    }
    Ok(fields)
}

/// The fields a record's first change must carry (contract §6 and §12).
///
/// A visit change carrying neither `outcome` nor `visited_at` is taken for an edit that
/// arrived before the visit's creation (`unknown_record`, retried by the phone); one
/// carrying either is a creation, so whatever else is required must be there.
///
/// A household's first change must also carry the deterministic id of its street and house
/// number, so that no two records can stand for one house.
fn check_creation(
    change: &DecodedChange,
    fields: &BTreeMap<FieldName, Stamped>,
) -> Result<(), Rejection> {
    let missing = |field: FieldName, when: &str| {
        Rejection::validation(format!("{field} is required when {when} is created"))
    };
    match change.kind {
        Kind::Household => {
            let Some(number) = fields.get(&FieldName::HouseNumber) else {
                return Err(missing(FieldName::HouseNumber, "a household"));
            };
            let expected = number
                .value
                .as_str()
                .and_then(|text| household_id(change.street_id, text));
            if expected != Some(change.id) {
                return Err(Rejection::validation(
                    "a new household's id must be the deterministic id of its street and house number",
                ));
            }
        }
        Kind::Visit => {
            let outcome = fields.get(&FieldName::Outcome);
            let visited_at = fields.get(&FieldName::VisitedAt);
            let Some(outcome) = outcome else {
                return Err(match visited_at {
                    Some(_) => missing(FieldName::Outcome, "a visit"),
                    None => Rejection::new(
                        RejectionCode::UnknownRecord,
                        "an edit of a visit the server has not seen created",
                    ),
                });
            };
            if visited_at.is_none() {
                return Err(missing(FieldName::VisitedAt, "a visit"));
            }
            let needs_counts = outcome
                .value
                .as_str()
                .and_then(|text| text.parse::<crate::field::Outcome>().ok())
                .is_some_and(crate::field::Outcome::requires_counts);
            if needs_counts {
                for field in [FieldName::SmartphoneUsers, FieldName::AppUsers] {
                    if !fields.contains_key(&field) {
                        return Err(Rejection::validation(format!(
                            "{field} is required when a visit is created with outcome {}",
                            outcome.value.as_str().unwrap_or_default()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}
