//! Assignments of volunteers to streets within a campaign. A deleted assignment is kept
//! with `deleted_at`, because its volunteer may still push for a grace period.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::assignments;
use super::DbConn;
use crate::model::{rfc3339_ms, Assignment, AssignmentId, CampaignId, StreetId, UserId};

/// A stored assignment, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRow {
    /// Id.
    pub id: AssignmentId,
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Street.
    pub street_id: StreetId,
    /// Volunteer.
    pub volunteer_id: UserId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was ended; `None` while live.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl AssignmentRow {
    /// The wire form.
    pub fn to_api(&self) -> Assignment {
        Assignment {
            id: self.id.uuid(),
            campaign_id: self.campaign_id.uuid(),
            street_id: self.street_id.uuid(),
            volunteer_id: self.volunteer_id.uuid(),
            created_at: rfc3339_ms(self.created_at),
        }
    }
}

/// An `assignments` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignments)]
struct Stored {
    id: String,
    campaign_id: String,
    street_id: String,
    volunteer_id: String,
    created_at: i64,
    deleted_at: Option<i64>,
}

impl Stored {
    fn decode(self) -> Result<AssignmentRow, CorruptRow> {
        let cells = Cells::new("assignments", &self.id);
        Ok(AssignmentRow {
            id: cells.exact("id", &self.id, "UUID")?,
            campaign_id: cells.exact("campaign_id", &self.campaign_id, "UUID")?,
            street_id: cells.exact("street_id", &self.street_id, "UUID")?,
            volunteer_id: cells.exact("volunteer_id", &self.volunteer_id, "UUID")?,
            created_at: cells.millis("created_at", self.created_at)?,
            deleted_at: self
                .deleted_at
                .map(|ms| cells.millis("deleted_at", ms))
                .transpose()?,
        })
    }
}

impl From<&AssignmentRow> for Stored {
    fn from(row: &AssignmentRow) -> Stored {
        Stored {
            id: row.id.to_string(),
            campaign_id: row.campaign_id.to_string(),
            street_id: row.street_id.to_string(),
            volunteer_id: row.volunteer_id.to_string(),
            created_at: row.created_at.timestamp_millis(),
            deleted_at: row.deleted_at.map(|at| at.timestamp_millis()),
        }
    }
}

fn decode_all(rows: Vec<Stored>) -> DbResult<Vec<AssignmentRow>> {
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

/// Decodes the street ids of `(assignment id, street id)` pairs.
fn decode_street_ids(rows: Vec<(String, String)>) -> DbResult<Vec<StreetId>> {
    Ok(rows
        .iter()
        .map(|(id, street)| Cells::new("assignments", id).exact("street_id", street, "UUID"))
        .collect::<Result<_, _>>()?)
}

/// Stores an assignment.
pub fn insert(conn: &mut DbConn, row: &AssignmentRow) -> QueryResult<()> {
    diesel::insert_into(assignments::table)
        .values(Stored::from(row))
        .execute(conn)
        .map(|_| ())
}

/// A live assignment by id within a campaign.
pub fn find_live(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    id: AssignmentId,
) -> DbResult<Option<AssignmentRow>> {
    let row: Option<Stored> = assignments::table
        .find(id.to_string())
        .filter(assignments::campaign_id.eq(campaign_id.to_string()))
        .filter(assignments::deleted_at.is_null())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// Whether the same (campaign, street, volunteer) is already live.
pub fn live_exists(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    street_id: StreetId,
    volunteer_id: UserId,
) -> QueryResult<bool> {
    let count: i64 = assignments::table
        .filter(assignments::campaign_id.eq(campaign_id.to_string()))
        .filter(assignments::street_id.eq(street_id.to_string()))
        .filter(assignments::volunteer_id.eq(volunteer_id.to_string()))
        .filter(assignments::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Ends an assignment.
pub fn end(conn: &mut DbConn, id: AssignmentId, now_ms: i64) -> QueryResult<()> {
    diesel::update(assignments::table.find(id.to_string()))
        .set(assignments::deleted_at.eq(now_ms))
        .execute(conn)
        .map(|_| ())
}

/// Live assignments of a campaign, optionally for one volunteer and within some streets.
pub fn list_live(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    volunteer_id: Option<UserId>,
    street_ids: Option<&[StreetId]>,
) -> DbResult<Vec<AssignmentRow>> {
    let live = || {
        let mut query = assignments::table
            .filter(assignments::campaign_id.eq(campaign_id.to_string()))
            .filter(assignments::deleted_at.is_null())
            .select(Stored::as_select())
            .order((assignments::created_at.asc(), assignments::id.asc()))
            .into_boxed();
        if let Some(volunteer_id) = volunteer_id {
            query = query.filter(assignments::volunteer_id.eq(volunteer_id.to_string()));
        }
        query
    };
    let Some(ids) = street_ids else {
        return decode_all(live().load(conn)?);
    };
    let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut all = Vec::new();
    for chunk in texts.chunks(1000) {
        let rows: Vec<Stored> = live()
            .filter(assignments::street_id.eq_any(chunk.to_vec()))
            .load(conn)?;
        all.extend(rows);
    }
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    decode_all(all)
}

/// Streets a volunteer may push to: assigned now, or unassigned less than `grace_ms` ago.
pub fn pushable_streets(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    volunteer_id: UserId,
    now_ms: i64,
    grace_ms: i64,
) -> DbResult<Vec<StreetId>> {
    let rows: Vec<(String, String)> = assignments::table
        .filter(assignments::campaign_id.eq(campaign_id.to_string()))
        .filter(assignments::volunteer_id.eq(volunteer_id.to_string()))
        .filter(
            assignments::deleted_at
                .is_null()
                .or(assignments::deleted_at.ge(now_ms - grace_ms)),
        )
        .select((assignments::id, assignments::street_id))
        .load(conn)?;
    let mut streets = decode_street_ids(rows)?;
    streets.sort();
    streets.dedup();
    Ok(streets)
}

/// Streets with at least one live assignment in the campaign, among `street_ids`.
pub fn assigned_among(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    street_ids: &[StreetId],
) -> DbResult<Vec<StreetId>> {
    let texts: Vec<String> = street_ids.iter().map(ToString::to_string).collect();
    let mut all = Vec::new();
    for chunk in texts.chunks(1000) {
        let rows: Vec<(String, String)> = assignments::table
            .filter(assignments::campaign_id.eq(campaign_id.to_string()))
            .filter(assignments::deleted_at.is_null())
            .filter(assignments::street_id.eq_any(chunk))
            .select((assignments::id, assignments::street_id))
            .load(conn)?;
        all.extend(decode_street_ids(rows)?);
    }
    all.sort();
    all.dedup();
    Ok(all)
}

/// Decodes every stored assignment, returning the rows that do not decode
/// (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = assignments::table.select(Stored::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.decode().err()).collect())
}
