//! Coverage counters: households per ward (all campaigns share households) and, per
//! campaign and ward, the sums that coverage is served from.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::{ward_coverage, ward_totals};
use super::DbConn;

/// A campaign's counters for one ward.
#[derive(Debug, Clone, Default, Queryable, Selectable, Insertable)]
#[diesel(table_name = ward_coverage)]
pub struct WardCoverageRow {
    /// Campaign.
    pub campaign_id: String,
    /// Ward.
    pub ward_id: String,
    /// Households with a visit not deleted.
    pub households_attempted: i64,
    /// Households with a conclusive visit.
    pub households_reached: i64,
    /// Sum of smartphone users.
    pub smartphone_users: i64,
    /// Sum of app users.
    pub app_users: i64,
    /// Latest `visited_at` text.
    pub last_visit_at: Option<String>,
    /// Latest `visited_at`, Unix µs.
    pub last_visit_at_us: Option<i64>,
}

/// Adds `delta` to a ward's household total.
pub fn add_households(conn: &mut DbConn, ward_id: &str, delta: i64) -> QueryResult<()> {
    on_backend!(conn, |c| diesel::insert_into(ward_totals::table)
        .values((
            ward_totals::ward_id.eq(ward_id),
            ward_totals::households_total.eq(delta)
        ))
        .on_conflict(ward_totals::ward_id)
        .do_update()
        .set(
            ward_totals::households_total
                .eq(ward_totals::households_total + excluded(ward_totals::households_total))
        )
        .execute(c))
    .map(|_| ())
}

/// Adds deltas to a campaign's ward counters (`last_visit_at` is set separately).
pub fn add_coverage(conn: &mut DbConn, delta: &WardCoverageRow) -> QueryResult<()> {
    on_backend!(conn, |c| {
        diesel::insert_into(ward_coverage::table)
            .values(delta)
            .on_conflict((ward_coverage::campaign_id, ward_coverage::ward_id))
            .do_update()
            .set(
                (
                    ward_coverage::households_attempted.eq(ward_coverage::households_attempted
                        + excluded(ward_coverage::households_attempted)),
                    ward_coverage::households_reached.eq(ward_coverage::households_reached
                        + excluded(ward_coverage::households_reached)),
                    ward_coverage::smartphone_users
                        .eq(ward_coverage::smartphone_users
                            + excluded(ward_coverage::smartphone_users)),
                    ward_coverage::app_users
                        .eq(ward_coverage::app_users + excluded(ward_coverage::app_users)),
                ),
            )
            .execute(c)
    })
    .map(|_| ())
}

/// Sets a ward's `last_visit_at`.
pub fn set_last_visit(
    conn: &mut DbConn,
    campaign_id: &str,
    ward_id: &str,
    last: Option<(String, i64)>,
) -> QueryResult<()> {
    let (text, us) = match last {
        Some((text, us)) => (Some(text), Some(us)),
        None => (None, None),
    };
    diesel::update(ward_coverage::table.find((campaign_id, ward_id)))
        .set((
            ward_coverage::last_visit_at.eq(text),
            ward_coverage::last_visit_at_us.eq(us),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Household totals of some wards.
pub fn households_of(conn: &mut DbConn, ward_ids: &[String]) -> QueryResult<Vec<(String, i64)>> {
    let mut all = Vec::new();
    for chunk in ward_ids.chunks(1000) {
        let rows: Vec<(String, i64)> = ward_totals::table
            .filter(ward_totals::ward_id.eq_any(chunk))
            .select((ward_totals::ward_id, ward_totals::households_total))
            .load(conn)?;
        all.extend(rows);
    }
    Ok(all)
}

/// A campaign's counters for some wards.
pub fn coverage_of(
    conn: &mut DbConn,
    campaign_id: &str,
    ward_ids: &[String],
) -> QueryResult<Vec<WardCoverageRow>> {
    let mut all = Vec::new();
    for chunk in ward_ids.chunks(1000) {
        let rows: Vec<WardCoverageRow> = ward_coverage::table
            .filter(ward_coverage::campaign_id.eq(campaign_id))
            .filter(ward_coverage::ward_id.eq_any(chunk))
            .select(WardCoverageRow::as_select())
            .load(conn)?;
        all.extend(rows);
    }
    Ok(all)
}

/// Every counter of a campaign.
pub fn all_coverage(conn: &mut DbConn, campaign_id: &str) -> QueryResult<Vec<WardCoverageRow>> {
    ward_coverage::table
        .filter(ward_coverage::campaign_id.eq(campaign_id))
        .select(WardCoverageRow::as_select())
        .load(conn)
}

/// Every ward's household total.
pub fn all_households(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    ward_totals::table
        .select((ward_totals::ward_id, ward_totals::households_total))
        .load(conn)
}

/// A campaign's counters for one ward.
pub fn find_coverage(
    conn: &mut DbConn,
    campaign_id: &str,
    ward_id: &str,
) -> QueryResult<Option<WardCoverageRow>> {
    ward_coverage::table
        .find((campaign_id, ward_id))
        .select(WardCoverageRow::as_select())
        .first(conn)
        .optional()
}
