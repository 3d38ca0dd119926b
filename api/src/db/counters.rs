//! Coverage counters: households per ward (all campaigns share households) and, per
//! campaign and ward, the sums that coverage is served from.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::{ward_coverage, ward_totals};
use super::DbConn;
use crate::model::{AreaId, CampaignId};

/// The figures of one campaign in one ward (or a change to them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WardCounts {
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

/// A campaign's counters for one ward, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardCoverageRow {
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Ward.
    pub ward_id: AreaId,
    /// The figures.
    pub counts: WardCounts,
}

/// A `ward_coverage` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ward_coverage)]
struct Stored {
    campaign_id: String,
    ward_id: String,
    households_attempted: i64,
    households_reached: i64,
    smartphone_users: i64,
    app_users: i64,
    last_visit_at: Option<String>,
    last_visit_at_us: Option<i64>,
}

impl Stored {
    fn decode(self) -> Result<WardCoverageRow, CorruptRow> {
        let key = format!("{}/{}", self.campaign_id, self.ward_id);
        let cells = Cells::new("ward_coverage", &key);
        if self.last_visit_at.is_some() != self.last_visit_at_us.is_some() {
            return Err(cells.corrupt(
                "last_visit_at_us",
                "is null where last_visit_at is not, or the other way round",
            ));
        }
        Ok(WardCoverageRow {
            campaign_id: cells.exact("campaign_id", &self.campaign_id, "UUID")?,
            ward_id: cells.exact("ward_id", &self.ward_id, "UUID")?,
            counts: WardCounts {
                households_attempted: self.households_attempted,
                households_reached: self.households_reached,
                smartphone_users: self.smartphone_users,
                app_users: self.app_users,
                last_visit_at: self.last_visit_at,
                last_visit_at_us: self.last_visit_at_us,
            },
        })
    }
}

fn decode_all(rows: Vec<Stored>) -> DbResult<Vec<WardCoverageRow>> {
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

fn decode_totals(rows: Vec<(String, i64)>) -> DbResult<Vec<(AreaId, i64)>> {
    Ok(rows
        .into_iter()
        .map(|(ward, total)| {
            Cells::new("ward_totals", &ward)
                .exact("ward_id", &ward, "UUID")
                .map(|ward| (ward, total))
        })
        .collect::<Result<_, _>>()?)
}

fn texts<T: ToString>(ids: &[T]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// Adds `delta` to a ward's household total.
pub fn add_households(conn: &mut DbConn, ward_id: AreaId, delta: i64) -> QueryResult<()> {
    let ward_id = ward_id.to_string();
    on_backend!(conn, |c| diesel::insert_into(ward_totals::table)
        .values((
            ward_totals::ward_id.eq(&ward_id),
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
pub fn add_coverage(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    ward_id: AreaId,
    delta: &WardCounts,
) -> QueryResult<()> {
    let delta = Stored {
        campaign_id: campaign_id.to_string(),
        ward_id: ward_id.to_string(),
        households_attempted: delta.households_attempted,
        households_reached: delta.households_reached,
        smartphone_users: delta.smartphone_users,
        app_users: delta.app_users,
        last_visit_at: None,
        last_visit_at_us: None,
    };
    on_backend!(conn, |c| {
        diesel::insert_into(ward_coverage::table)
            .values(&delta)
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
    campaign_id: CampaignId,
    ward_id: AreaId,
    last: Option<(String, i64)>,
) -> QueryResult<()> {
    let (text, us) = match last {
        Some((text, us)) => (Some(text), Some(us)),
        None => (None, None),
    };
    diesel::update(ward_coverage::table.find((campaign_id.to_string(), ward_id.to_string())))
        .set((
            ward_coverage::last_visit_at.eq(text),
            ward_coverage::last_visit_at_us.eq(us),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Household totals of some wards.
pub fn households_of(conn: &mut DbConn, ward_ids: &[AreaId]) -> DbResult<Vec<(AreaId, i64)>> {
    let mut all = Vec::new();
    for chunk in texts(ward_ids).chunks(1000) {
        let rows: Vec<(String, i64)> = ward_totals::table
            .filter(ward_totals::ward_id.eq_any(chunk))
            .select((ward_totals::ward_id, ward_totals::households_total))
            .load(conn)?;
        all.extend(decode_totals(rows)?);
    }
    Ok(all)
}

/// A campaign's counters for some wards.
pub fn coverage_of(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    ward_ids: &[AreaId],
) -> DbResult<Vec<WardCoverageRow>> {
    let mut all = Vec::new();
    for chunk in texts(ward_ids).chunks(1000) {
        let rows: Vec<Stored> = ward_coverage::table
            .filter(ward_coverage::campaign_id.eq(campaign_id.to_string()))
            .filter(ward_coverage::ward_id.eq_any(chunk))
            .select(Stored::as_select())
            .load(conn)?;
        all.extend(decode_all(rows)?);
    }
    Ok(all)
}

/// Every counter of a campaign.
pub fn all_coverage(conn: &mut DbConn, campaign_id: CampaignId) -> DbResult<Vec<WardCoverageRow>> {
    decode_all(
        ward_coverage::table
            .filter(ward_coverage::campaign_id.eq(campaign_id.to_string()))
            .select(Stored::as_select())
            .load(conn)?,
    )
}

/// Every ward's household total.
pub fn all_households(conn: &mut DbConn) -> DbResult<Vec<(AreaId, i64)>> {
    decode_totals(
        ward_totals::table
            .select((ward_totals::ward_id, ward_totals::households_total))
            .load(conn)?,
    )
}

/// A campaign's counters for one ward.
pub fn find_coverage(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    ward_id: AreaId,
) -> DbResult<Option<WardCoverageRow>> {
    let row: Option<Stored> = ward_coverage::table
        .find((campaign_id.to_string(), ward_id.to_string()))
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// Decodes every stored counter row, returning the rows that do not decode
/// (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = ward_coverage::table
        .select(Stored::as_select())
        .load(conn)?;
    let mut bad: Vec<CorruptRow> = rows.into_iter().filter_map(|r| r.decode().err()).collect();
    let totals: Vec<(String, i64)> = ward_totals::table
        .select((ward_totals::ward_id, ward_totals::households_total))
        .load(conn)?;
    bad.extend(totals.into_iter().filter_map(|(ward, _)| {
        Cells::new("ward_totals", &ward)
            .exact::<AreaId>("ward_id", &ward, "UUID")
            .err()
    }));
    Ok(bad)
}
