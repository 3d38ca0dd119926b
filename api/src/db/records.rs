//! Synced records (households and visits): their merged state and the columns derived
//! from it for filtering, counting and pulling.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::records;
use super::DbConn;

/// A stored record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = records)]
pub struct RecordRow {
    /// Id.
    pub id: String,
    /// `household` or `visit`.
    pub kind: String,
    /// Bucket.
    pub street_id: String,
    /// The street's ward (for counters).
    pub ward_id: String,
    /// A visit's household.
    pub household_id: Option<String>,
    /// A visit's campaign (households belong to every campaign).
    pub campaign_id: Option<String>,
    /// A visit's creator.
    pub volunteer_id: Option<String>,
    /// Position in the street's bucket of the latest version.
    pub seq: i64,
    /// The merged `RecordState` as JSON.
    pub state: String,
    /// Derived: tombstoned.
    pub deleted: bool,
    /// Derived: a household's number.
    pub house_number: Option<String>,
    /// Derived: a visit's outcome.
    pub outcome: Option<String>,
    /// Derived: a visit's `visited_at` text.
    pub visited_at: Option<String>,
    /// Derived: `visited_at` as Unix microseconds, for ordering.
    pub visited_at_us: Option<i64>,
    /// Derived: a visit's review (`pending` when never reviewed).
    pub review: Option<String>,
    /// The first device that wrote a non-review field.
    pub first_device: Option<String>,
    /// Two or more devices wrote non-review fields.
    pub conflict: bool,
    /// Unix ms of the last change.
    pub updated_at: i64,
}

/// Records by id.
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<RecordRow>> {
    let mut all = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<RecordRow> = records::table
            .filter(records::id.eq_any(chunk))
            .select(RecordRow::as_select())
            .load(conn)?;
        all.extend(rows);
    }
    Ok(all)
}

/// One record by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<RecordRow>> {
    records::table
        .find(id)
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}

/// Every visit (of any campaign) on these households.
pub fn visits_of_households(
    conn: &mut DbConn,
    household_ids: &[String],
) -> QueryResult<Vec<RecordRow>> {
    let mut all = Vec::new();
    for chunk in household_ids.chunks(500) {
        let rows: Vec<RecordRow> = records::table
            .filter(records::household_id.eq_any(chunk))
            .filter(records::kind.eq("visit"))
            .select(RecordRow::as_select())
            .load(conn)?;
        all.extend(rows);
    }
    Ok(all)
}

/// Inserts new records and rewrites changed ones.
pub fn upsert_many(conn: &mut DbConn, rows: &[RecordRow]) -> QueryResult<()> {
    match conn {
        // Diesel cannot batch an ON CONFLICT upsert on SQLite, but it batches REPLACE, which
        // is the same here: a row is always written whole and nothing references records.
        // 18 columns × 50 rows stays under SQLite's bound-parameter limit.
        DbConn::Sqlite(c) => {
            for chunk in rows.chunks(50) {
                diesel::replace_into(records::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        // 18 columns × 100 rows stays under PostgreSQL's bound-parameter limit.
        DbConn::Pg(c) => {
            for chunk in rows.chunks(100) {
                diesel::insert_into(records::table)
                    .values(chunk)
                    .on_conflict(records::id)
                    .do_update()
                    .set((
                        records::seq.eq(excluded(records::seq)),
                        records::state.eq(excluded(records::state)),
                        records::deleted.eq(excluded(records::deleted)),
                        records::house_number.eq(excluded(records::house_number)),
                        records::outcome.eq(excluded(records::outcome)),
                        records::visited_at.eq(excluded(records::visited_at)),
                        records::visited_at_us.eq(excluded(records::visited_at_us)),
                        records::review.eq(excluded(records::review)),
                        records::first_device.eq(excluded(records::first_device)),
                        records::conflict.eq(excluded(records::conflict)),
                        records::updated_at.eq(excluded(records::updated_at)),
                    ))
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The records of one bucket changed after `after_seq` that a campaign's pull shows
/// (households, and that campaign's visits), in seq order.
pub fn changed_since(
    conn: &mut DbConn,
    street_id: &str,
    campaign_id: &str,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<RecordRow>> {
    records::table
        .filter(records::street_id.eq(street_id))
        .filter(records::seq.gt(after_seq))
        .filter(
            records::campaign_id
                .is_null()
                .or(records::campaign_id.eq(campaign_id)),
        )
        .order(records::seq.asc())
        .limit(limit)
        .select(RecordRow::as_select())
        .load(conn)
}

/// How many records of one bucket a campaign's pull still has to bring after `after_seq`.
pub fn count_since(
    conn: &mut DbConn,
    street_id: &str,
    campaign_id: &str,
    after_seq: i64,
) -> QueryResult<i64> {
    records::table
        .filter(records::street_id.eq(street_id))
        .filter(records::seq.gt(after_seq))
        .filter(
            records::campaign_id
                .is_null()
                .or(records::campaign_id.eq(campaign_id)),
        )
        .count()
        .get_result(conn)
}

/// The latest `visited_at` (text, µs) of a campaign's visits in a ward that are not deleted
/// and whose household is not deleted: the recount of `last_visit_at` when its holder goes.
pub fn latest_live_visit(
    conn: &mut DbConn,
    campaign_id: &str,
    ward_id: &str,
) -> QueryResult<Option<(String, i64)>> {
    let page = 200;
    let mut offset = 0;
    loop {
        let visits: Vec<(Option<String>, Option<String>, Option<i64>)> = records::table
            .filter(records::campaign_id.eq(campaign_id))
            .filter(records::ward_id.eq(ward_id))
            .filter(records::kind.eq("visit"))
            .filter(records::deleted.eq(false))
            .filter(records::visited_at_us.is_not_null())
            .order((records::visited_at_us.desc(), records::id.desc()))
            .offset(offset)
            .limit(page)
            .select((
                records::household_id,
                records::visited_at,
                records::visited_at_us,
            ))
            .load(conn)?;
        if visits.is_empty() {
            return Ok(None);
        }
        let household_ids: Vec<String> = visits.iter().filter_map(|v| v.0.clone()).collect();
        let deleted: std::collections::HashSet<String> = records::table
            .filter(records::id.eq_any(&household_ids))
            .filter(records::deleted.eq(true))
            .select(records::id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        for (household, text, us) in visits.iter() {
            if household.as_ref().is_some_and(|h| !deleted.contains(h)) {
                if let (Some(text), Some(us)) = (text, us) {
                    return Ok(Some((text.clone(), *us)));
                }
            }
        }
        offset += page;
    }
}
