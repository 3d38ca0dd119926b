//! The visit list query: filters, newest `visited_at` first, keyset pages.

use diesel::prelude::*;

use super::records::RecordRow;
use super::schema::records;
use super::DbConn;

/// Filters of the visit list, already resolved to stored ids.
#[derive(Debug, Default, Clone)]
pub struct VisitFilter {
    /// Campaign.
    pub campaign_id: String,
    /// Only these wards (None: anywhere).
    pub wards: Option<Vec<String>>,
    /// Only this street.
    pub street_id: Option<String>,
    /// Only this volunteer's.
    pub volunteer_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only this review state.
    pub review: Option<String>,
    /// Include deleted visits.
    pub include_deleted: bool,
    /// Continue after this (visited_at_us, id).
    pub after: Option<(i64, String)>,
}

/// One page of visits, at most `limit`.
pub fn page(conn: &mut DbConn, filter: &VisitFilter, limit: i64) -> QueryResult<Vec<RecordRow>> {
    let mut query = records::table
        .filter(records::kind.eq("visit"))
        .filter(records::campaign_id.eq(filter.campaign_id.clone()))
        .select(RecordRow::as_select())
        .order((records::visited_at_us.desc(), records::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(wards) = &filter.wards {
        query = query.filter(records::ward_id.eq_any(wards.clone()));
    }
    if let Some(street) = &filter.street_id {
        query = query.filter(records::street_id.eq(street.clone()));
    }
    if let Some(volunteer) = &filter.volunteer_id {
        query = query.filter(records::volunteer_id.eq(volunteer.clone()));
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(records::outcome.eq(outcome.clone()));
    }
    if let Some(review) = &filter.review {
        query = query.filter(records::review.eq(review.clone()));
    }
    if !filter.include_deleted {
        query = query.filter(records::deleted.eq(false));
    }
    if let Some((us, id)) = &filter.after {
        query = query.filter(
            records::visited_at_us.lt(*us).or(records::visited_at_us
                .eq(*us)
                .and(records::id.lt(id.clone()))),
        );
    }
    query.load(conn)
}

/// House numbers of households.
pub fn house_numbers(
    conn: &mut DbConn,
    household_ids: &[String],
) -> QueryResult<Vec<(String, Option<String>)>> {
    records::table
        .filter(records::id.eq_any(household_ids))
        .select((records::id, records::house_number))
        .load(conn)
}
