//! The visit list, one visit, and a review (contract section 8).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;
use sync_protocol::{Change, FieldName, Hlc, Kind, Outcome, PushStatus, Review, Stamped};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Endpoint;
use crate::db::campaigns::CampaignRow;
use crate::db::records::RecordRow;
use crate::db::visit_list::{self, VisitFilter};
use crate::db::{areas, records, streets, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::model::{AreaId, CampaignId, RecordId, StreetId, UserId};
use crate::services::{campaigns, Scope};
use crate::state::SERVER_NODE;
use crate::sync::ingest::{ingest, Decoded, Writer};

/// The largest page of the visit list.
pub const MAX_PAGE_SIZE: i64 = 1000;
/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: i64 = 100;

/// A visit as the review screens show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Visit {
    /// Id.
    pub id: Uuid,
    /// Street.
    pub street_id: Uuid,
    /// Household.
    pub household_id: Uuid,
    /// The household's number.
    pub house_number: Option<String>,
    /// Who logged it.
    pub volunteer_id: Option<Uuid>,
    /// Outcome.
    #[schema(value_type = Option<crate::model::OutcomeName>)]
    pub outcome: Option<String>,
    /// Smartphone users, 0–50; null when never written (not asked is not zero).
    #[schema(maximum = 50)]
    pub smartphone_users: Option<u32>,
    /// App users, 0–50; null when never written.
    #[schema(maximum = 50)]
    pub app_users: Option<u32>,
    /// When, as pushed.
    pub visited_at: Option<String>,
    /// Free text, at most 500 characters (never names, phone or ID numbers).
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// Review state.
    #[schema(value_type = crate::model::ReviewName)]
    pub review: String,
    /// The reviewer's note, at most 500 characters.
    #[schema(max_length = 500)]
    pub review_note: Option<String>,
    /// Tombstoned.
    pub deleted: bool,
    /// Two or more devices wrote its fields.
    pub conflict: bool,
}

/// The filters of the visit list and the exports, parsed but not yet judged.
#[derive(Debug, Clone, Default)]
pub struct VisitFilters {
    /// Only this ward (or the wards below this area).
    pub ward: Option<AreaId>,
    /// Only this street.
    pub street: Option<StreetId>,
    /// Only this volunteer's.
    pub volunteer: Option<UserId>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only this review state (`pending` matches visits never reviewed).
    pub review: Option<Review>,
    /// Include deleted visits.
    pub include_deleted: bool,
}

/// Where a page of the visit list ends: the last visit's ordering key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitCursor {
    /// Its `visited_at` in Unix microseconds.
    pub visited_at_us: i64,
    /// Its id (ties).
    pub id: RecordId,
}

/// One page of visits.
#[derive(Debug, Clone)]
pub struct VisitList {
    /// Newest `visited_at` first, ties by id.
    pub items: Vec<Visit>,
    /// Where the next page starts; None on the last page.
    pub next: Option<VisitCursor>,
}

/// Judges the filters against the scope (a ward or street outside it is 403, unknown 404,
/// a volunteer naming another volunteer 403) and narrows them to the scope.
pub fn resolve_filter(
    conn: &mut DbConn,
    scope: &Scope,
    campaign: &CampaignRow,
    filters: &VisitFilters,
) -> ApiResult<VisitFilter> {
    let mut filter = VisitFilter {
        outcome: filters.outcome,
        review: filters.review,
        include_deleted: filters.include_deleted,
        ..VisitFilter::new(campaign.id)
    };
    // A ward or street filter must lie in the caller's scope, a volunteer's included (its
    // ward): a known id outside it is 403 (§2), not an empty list.
    if let Some(ward) = filters.ward {
        let ward = areas::find(conn, ward)?.ok_or_else(|| ApiError::not_found("ward"))?;
        scope.require(conn, ward.id)?;
        filter.wards = Some(areas::wards_within(conn, ward.id)?);
    } else if scope.own_records().is_none() {
        filter.wards = scope.wards(conn)?;
    }
    if let Some(street) = filters.street {
        let street = streets::find(conn, street)?.ok_or_else(|| ApiError::not_found("street"))?;
        scope.require(conn, street.ward_id)?;
        filter.street_id = Some(street.id);
    }
    filter.volunteer_id = match scope.own_records() {
        Some(me) => {
            if filters.volunteer.is_some_and(|v| v != me) {
                return Err(ApiError::forbidden("a volunteer sees only its own visits"));
            }
            Some(me)
        }
        None => filters.volunteer,
    };
    Ok(filter)
}

/// A page of the campaign's visits matching `filters`, at most `page_size` (1–1000), after
/// `after`.
pub fn visit_page(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    filters: &VisitFilters,
    page_size: i64,
    after: Option<VisitCursor>,
) -> ApiResult<VisitList> {
    scope.permit(Endpoint::ReadVisits)?;
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::validation(
            "page_size must be an integer from 1 to 1000",
        ));
    }
    let campaign = campaigns::load(conn, campaign_id)?;
    let mut filter = resolve_filter(conn, scope, &campaign, filters)?;
    filter.after = after.map(|c| (c.visited_at_us, c.id));
    let page_len = usize::try_from(page_size).map_err(ApiError::internal)?;
    let mut rows = visit_list::page(conn, &filter, page_size + 1)?;
    let more = rows.len() > page_len;
    rows.truncate(page_len);
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(cursor_of(last)?),
        _ => None,
    };
    Ok(VisitList {
        items: visits_of(conn, &rows)?,
        next,
    })
}

/// The ordering key of a stored visit.
pub fn cursor_of(row: &RecordRow) -> ApiResult<VisitCursor> {
    // Stored visits decode with their ordering key (see `db::records`).
    let us = row
        .visited_at_us
        .ok_or_else(|| ApiError::internal(format!("visit {}: no visited_at_us", row.id)))?;
    Ok(VisitCursor {
        visited_at_us: us,
        id: row.id,
    })
}

/// Loads a visit of `campaign` and checks the scope may see it: 404 unknown or of another
/// campaign, 403 outside the scope (a volunteer: not its own).
pub fn visible_visit(
    conn: &mut DbConn,
    scope: &Scope,
    campaign: &CampaignRow,
    id: RecordId,
) -> ApiResult<RecordRow> {
    let row = records::find(conn, id)?
        .filter(|r| r.kind == Kind::Visit && r.campaign_id == Some(campaign.id))
        .ok_or_else(|| ApiError::not_found("visit"))?;
    match scope.own_records() {
        Some(me) => {
            if row.volunteer_id != Some(me) {
                return Err(ApiError::forbidden("a volunteer sees only its own visits"));
            }
        }
        None => scope.require(conn, row.ward_id)?,
    }
    Ok(row)
}

/// One visit the scope may see.
pub fn visit(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    id: RecordId,
) -> ApiResult<Visit> {
    scope.permit(Endpoint::ReadVisits)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let row = visible_visit(conn, scope, &campaign, id)?;
    one_visit(conn, &row)
}

/// What a review says.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    /// `verified` or `rejected` (`pending` is 422).
    pub review: Review,
    /// The new `review_note`: None leaves it, `Some(None)` clears it.
    pub note: Option<Option<String>>,
}

/// Verifies or rejects a visit, in the caller's write transaction: an ordinary field
/// change stamped with the server HLC `stamp` returns, so phones pull it like any other.
/// `stamp` is called under the street's lock with the largest HLC the visit holds, which
/// no process can raise until the transaction ends: witnessing it puts the review above
/// every HLC of the visit, whichever process stored them (contract §12).
/// Returns the visit as it now stands and the largest HLC stored.
pub fn review(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    id: RecordId,
    input: ReviewInput,
    stamp: impl FnOnce(Option<&Hlc>) -> Hlc,
) -> ApiResult<(Visit, Option<Hlc>)> {
    scope.permit(Endpoint::Review)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let row = visible_visit(conn, scope, &campaign, id)?;
    if input.review == Review::Pending {
        return Err(ApiError::validation("review must be verified or rejected"));
    }
    streets::lock(conn, row.street_id)?;
    let stored = records::find(conn, id)?;
    let hlc = &stamp(stored.as_ref().and_then(|r| r.state.max_hlc()));
    let mut fields = BTreeMap::new();
    fields.insert(
        FieldName::Review,
        Stamped::new(Value::String(input.review.as_str().to_owned()), hlc.clone()),
    );
    if let Some(note) = input.note {
        let note = note.map_or(Value::Null, Value::String);
        fields.insert(FieldName::ReviewNote, Stamped::new(note, hlc.clone()));
    }
    let change = Change::new(
        Kind::Visit,
        id.uuid(),
        row.street_id.uuid(),
        row.household_id.map(RecordId::uuid),
        &fields,
    );
    let writer = Writer {
        user_id: scope.user(),
        role: scope.role(),
        area_id: scope.area(),
        device_id: SERVER_NODE.to_owned(),
    };
    let done = ingest(conn, Some(&campaign), &writer, Decoded::new(vec![change]))?;
    if let Some(result) = done.results.first() {
        if result.status == PushStatus::Rejected {
            return Err(ApiError::validation(
                result.message.clone().unwrap_or_default(),
            ));
        }
    }
    let row = records::find(conn, id)?.ok_or_else(|| ApiError::not_found("visit"))?;
    Ok((one_visit(conn, &row)?, done.max_hlc))
}

/// A count of a visit: `None` when never written. A stored count is an integer 0–50 (push
/// validates it), so anything else is an error, never a number made up.
fn count(row: &RecordRow, field: FieldName) -> ApiResult<Option<u32>> {
    row.state
        .value(field)
        .map(|value| {
            value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "visit {}: {} is {value}, not a count",
                        row.id,
                        field.as_str()
                    ))
                })
        })
        .transpose()
}

fn visit_of(
    row: &RecordRow,
    house_numbers: &HashMap<RecordId, Option<String>>,
) -> ApiResult<Visit> {
    // Stored visits decode with their household (see `db::records`); a household row that
    // is gone would be a broken reference, reported rather than shown without its number.
    let missing = |what: &str| ApiError::internal(format!("visit {}: no {what}", row.id));
    let household = row.household_id.ok_or_else(|| missing("household_id"))?;
    let house_number = house_numbers
        .get(&household)
        .ok_or_else(|| missing("stored household"))?
        .clone();
    let state = &row.state;
    Ok(Visit {
        id: row.id.uuid(),
        street_id: row.street_id.uuid(),
        household_id: household.uuid(),
        house_number,
        volunteer_id: row.volunteer_id.map(UserId::uuid),
        outcome: state.outcome().map(|o| o.as_str().to_owned()),
        smartphone_users: count(row, FieldName::SmartphoneUsers)?,
        app_users: count(row, FieldName::AppUsers)?,
        visited_at: state.visited_at_text().map(str::to_owned),
        note: state.note().map(str::to_owned),
        review: state.review().as_str().to_owned(),
        review_note: state.review_note().map(str::to_owned),
        deleted: state.deleted(),
        conflict: row.conflict,
    })
}

/// Stored visits as `Visit`s, with their households' numbers.
pub fn visits_of(conn: &mut DbConn, rows: &[RecordRow]) -> ApiResult<Vec<Visit>> {
    let households: Vec<RecordId> = rows.iter().filter_map(|r| r.household_id).collect();
    let numbers: HashMap<RecordId, Option<String>> = visit_list::house_numbers(conn, &households)?
        .into_iter()
        .collect();
    rows.iter().map(|row| visit_of(row, &numbers)).collect()
}

fn one_visit(conn: &mut DbConn, row: &RecordRow) -> ApiResult<Visit> {
    visits_of(conn, std::slice::from_ref(row))?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("visit"))
}
