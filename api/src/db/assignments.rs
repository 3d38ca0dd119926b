//! Assignments of volunteers to streets within a campaign. A deleted assignment is kept
//! with `deleted_at`, because its volunteer may still push for a grace period.

use diesel::prelude::*;

use super::schema::assignments;
use super::DbConn;
use crate::model::{rfc3339_ms, stored_uuid, Assignment};

/// A stored assignment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignments)]
pub struct AssignmentRow {
    /// Id.
    pub id: String,
    /// Campaign.
    pub campaign_id: String,
    /// Street.
    pub street_id: String,
    /// Volunteer.
    pub volunteer_id: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; `None` while live.
    pub deleted_at: Option<i64>,
}

impl AssignmentRow {
    /// The wire form.
    pub fn to_api(&self) -> Assignment {
        Assignment {
            id: stored_uuid(&self.id),
            campaign_id: stored_uuid(&self.campaign_id),
            street_id: stored_uuid(&self.street_id),
            volunteer_id: stored_uuid(&self.volunteer_id),
            created_at: rfc3339_ms(self.created_at),
        }
    }
}

/// Stores an assignment.
pub fn insert(conn: &mut DbConn, row: &AssignmentRow) -> QueryResult<()> {
    diesel::insert_into(assignments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A live assignment by id within a campaign.
pub fn find_live(
    conn: &mut DbConn,
    campaign_id: &str,
    id: &str,
) -> QueryResult<Option<AssignmentRow>> {
    assignments::table
        .find(id)
        .filter(assignments::campaign_id.eq(campaign_id))
        .filter(assignments::deleted_at.is_null())
        .select(AssignmentRow::as_select())
        .first(conn)
        .optional()
}

/// Whether the same (campaign, street, volunteer) is already live.
pub fn live_exists(
    conn: &mut DbConn,
    campaign_id: &str,
    street_id: &str,
    volunteer_id: &str,
) -> QueryResult<bool> {
    let count: i64 = assignments::table
        .filter(assignments::campaign_id.eq(campaign_id))
        .filter(assignments::street_id.eq(street_id))
        .filter(assignments::volunteer_id.eq(volunteer_id))
        .filter(assignments::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Ends an assignment.
pub fn end(conn: &mut DbConn, id: &str, now_ms: i64) -> QueryResult<()> {
    diesel::update(assignments::table.find(id))
        .set(assignments::deleted_at.eq(now_ms))
        .execute(conn)
        .map(|_| ())
}

/// Live assignments of a campaign, optionally for one volunteer and within some streets.
pub fn list_live(
    conn: &mut DbConn,
    campaign_id: &str,
    volunteer_id: Option<&str>,
    street_ids: Option<&[String]>,
) -> QueryResult<Vec<AssignmentRow>> {
    let live = || {
        let mut query = assignments::table
            .filter(assignments::campaign_id.eq(campaign_id.to_owned()))
            .filter(assignments::deleted_at.is_null())
            .select(AssignmentRow::as_select())
            .order((assignments::created_at.asc(), assignments::id.asc()))
            .into_boxed();
        if let Some(volunteer_id) = volunteer_id {
            query = query.filter(assignments::volunteer_id.eq(volunteer_id.to_owned()));
        }
        query
    };
    let Some(ids) = street_ids else {
        return live().load(conn);
    };
    let mut all = Vec::new();
    for chunk in ids.chunks(1000) {
        let rows: Vec<AssignmentRow> = live()
            .filter(assignments::street_id.eq_any(chunk.to_vec()))
            .load(conn)?;
        all.extend(rows);
    }
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(all)
}

/// Streets a volunteer may push to: assigned now, or unassigned less than `grace_ms` ago.
pub fn pushable_streets(
    conn: &mut DbConn,
    campaign_id: &str,
    volunteer_id: &str,
    now_ms: i64,
    grace_ms: i64,
) -> QueryResult<Vec<String>> {
    assignments::table
        .filter(assignments::campaign_id.eq(campaign_id))
        .filter(assignments::volunteer_id.eq(volunteer_id))
        .filter(
            assignments::deleted_at
                .is_null()
                .or(assignments::deleted_at.ge(now_ms - grace_ms)),
        )
        .select(assignments::street_id)
        .distinct()
        .load(conn)
}

/// Streets with at least one live assignment in the campaign, among `street_ids`.
pub fn assigned_among(
    conn: &mut DbConn,
    campaign_id: &str,
    street_ids: &[String],
) -> QueryResult<Vec<String>> {
    let mut all = Vec::new();
    for chunk in street_ids.chunks(1000) {
        let rows: Vec<String> = assignments::table
            .filter(assignments::campaign_id.eq(campaign_id))
            .filter(assignments::deleted_at.is_null())
            .filter(assignments::street_id.eq_any(chunk))
            .select(assignments::street_id)
            .distinct()
            .load(conn)?;
        all.extend(rows);
    }
    Ok(all)
}
