//! The visit list query: filters, newest `visited_at` first, keyset pages.

use diesel::prelude::*;
use sync_protocol::{Kind, Outcome, Review};

use super::decode::Cells;
use super::error::DbResult;
use super::records::{self, RecordRow, Stored};
use super::schema::records as table;
use super::DbConn;
use crate::model::{AreaId, CampaignId, RecordId, StreetId, UserId};

/// Filters of the visit list, already resolved and authorised.
#[derive(Debug, Clone)]
pub struct VisitFilter {
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Only these wards (None: anywhere).
    pub wards: Option<Vec<AreaId>>,
    /// Only this street.
    pub street_id: Option<StreetId>,
    /// Only this volunteer's.
    pub volunteer_id: Option<UserId>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only this review state.
    pub review: Option<Review>,
    /// Include deleted visits.
    pub include_deleted: bool,
    /// Continue after this (visited_at_us, id).
    pub after: Option<(i64, RecordId)>,
}

impl VisitFilter {
    /// Every visit of a campaign that is not deleted.
    pub fn new(campaign_id: CampaignId) -> VisitFilter {
        VisitFilter {
            campaign_id,
            wards: None,
            street_id: None,
            volunteer_id: None,
            outcome: None,
            review: None,
            include_deleted: false,
            after: None,
        }
    }
}

/// One page of visits, at most `limit`.
pub fn page(conn: &mut DbConn, filter: &VisitFilter, limit: i64) -> DbResult<Vec<RecordRow>> {
    let mut query = table::table
        .filter(table::kind.eq(Kind::Visit.as_str()))
        .filter(table::campaign_id.eq(filter.campaign_id.to_string()))
        .select(Stored::as_select())
        .order((table::visited_at_us.desc(), table::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(wards) = &filter.wards {
        let wards: Vec<String> = wards.iter().map(ToString::to_string).collect();
        query = query.filter(table::ward_id.eq_any(wards));
    }
    if let Some(street) = filter.street_id {
        query = query.filter(table::street_id.eq(street.to_string()));
    }
    if let Some(volunteer) = filter.volunteer_id {
        query = query.filter(table::volunteer_id.eq(volunteer.to_string()));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(table::outcome.eq(outcome.as_str()));
    }
    if let Some(review) = filter.review {
        query = query.filter(table::review.eq(review.as_str()));
    }
    if !filter.include_deleted {
        query = query.filter(table::deleted.eq(false));
    }
    if let Some((us, id)) = filter.after {
        query = query.filter(
            table::visited_at_us.lt(us).or(table::visited_at_us
                .eq(us)
                .and(table::id.lt(id.to_string()))),
        );
    }
    records::decode_all(query.load(conn)?)
}

/// House numbers of households.
pub fn house_numbers(
    conn: &mut DbConn,
    household_ids: &[RecordId],
) -> DbResult<Vec<(RecordId, Option<String>)>> {
    let ids: Vec<String> = household_ids.iter().map(ToString::to_string).collect();
    let mut all = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, Option<String>)> = table::table
            .filter(table::id.eq_any(chunk))
            .select((table::id, table::house_number))
            .load(conn)?;
        for (id, number) in rows {
            all.push((Cells::new("records", &id).exact("id", &id, "UUID")?, number));
        }
    }
    Ok(all)
}
