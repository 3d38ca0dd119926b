//! Synced records (households and visits): their merged state and the columns derived
//! from it for filtering, counting and pulling.

use std::collections::{BTreeMap, HashSet};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use sync_protocol::{Kind, Outcome, RecordState, Review, VisitFacts};

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::multi_row::{bind_cells, BindRow, MultiRow};
use super::schema::records;
use super::DbConn;
use crate::model::{AreaId, CampaignId, RecordId, StreetId, UserId};

/// A stored record, decoded. A visit always has its household, campaign and creator, a
/// state with its outcome and `visited_at`, and its `visited_at` columns; a household has
/// its house number.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    /// Id.
    pub id: RecordId,
    /// Household or visit.
    pub kind: Kind,
    /// Bucket.
    pub street_id: StreetId,
    /// The street's ward (for counters).
    pub ward_id: AreaId,
    /// A visit's household.
    pub household_id: Option<RecordId>,
    /// A visit's campaign (households belong to every campaign).
    pub campaign_id: Option<CampaignId>,
    /// A visit's creator.
    pub volunteer_id: Option<UserId>,
    /// Position in the street's bucket of the latest version.
    pub seq: i64,
    /// The merged state.
    pub state: RecordState,
    /// Derived: tombstoned.
    pub deleted: bool,
    /// Derived: a household's number.
    pub house_number: Option<String>,
    /// Derived: a visit's outcome.
    pub outcome: Option<Outcome>,
    /// Derived: a visit's `visited_at` text.
    pub visited_at: Option<String>,
    /// Derived: `visited_at` as Unix microseconds, for ordering.
    pub visited_at_us: Option<i64>,
    /// Derived: a visit's review (`pending` when never reviewed).
    pub review: Option<Review>,
    /// The first device that wrote a non-review field.
    pub first_device: Option<String>,
    /// Two or more devices wrote non-review fields.
    pub conflict: bool,
    /// Unix ms of the last change.
    pub updated_at: i64,
}

impl RecordRow {
    /// What coverage needs of a visit; `None` for a household.
    pub fn visit_facts(&self) -> Option<VisitFacts> {
        match self.kind {
            Kind::Visit => VisitFacts::from_state(self.id.uuid(), &self.state),
            Kind::Household => None,
        }
    }
}

/// A `records` row as stored (the visit list selects it too).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = records)]
pub(super) struct Stored {
    id: String,
    kind: String,
    street_id: String,
    ward_id: String,
    household_id: Option<String>,
    campaign_id: Option<String>,
    volunteer_id: Option<String>,
    seq: i64,
    state: String,
    deleted: bool,
    house_number: Option<String>,
    outcome: Option<String>,
    visited_at: Option<String>,
    visited_at_us: Option<i64>,
    review: Option<String>,
    first_device: Option<String>,
    conflict: bool,
    updated_at: i64,
}

/// Decodes a record's state: JSON that parses, and for a visit the two fields every stored
/// visit was created with (so coverage can never skip one).
fn decode_state(cells: &Cells<'_>, kind: Kind, text: &str) -> Result<RecordState, CorruptRow> {
    let state: RecordState = cells.json("state", text)?;
    match kind {
        Kind::Visit if state.outcome().is_none() => {
            Err(cells.corrupt("state", "a visit without a valid outcome"))
        }
        Kind::Visit if state.visited_at().is_none() => {
            Err(cells.corrupt("state", "a visit without a valid visited_at"))
        }
        Kind::Household if state.house_number().is_none() => {
            Err(cells.corrupt("state", "a household without a house_number"))
        }
        _ => Ok(state),
    }
}

impl Stored {
    fn decode(self) -> Result<RecordRow, CorruptRow> {
        let core = StoredForMerge {
            id: self.id.clone(),
            kind: self.kind,
            street_id: self.street_id,
            ward_id: self.ward_id,
            household_id: self.household_id,
            campaign_id: self.campaign_id,
            volunteer_id: self.volunteer_id,
            seq: self.seq,
            state: self.state,
            first_device: self.first_device,
            conflict: self.conflict,
        }
        .decode()?;
        let cells = Cells::new("records", &self.id);
        if core.kind == Kind::Visit {
            cells.required("visited_at_us", self.visited_at_us)?;
        }
        Ok(RecordRow {
            outcome: cells.exact_opt("outcome", self.outcome.as_deref(), "outcome")?,
            review: cells.exact_opt("review", self.review.as_deref(), "review")?,
            id: core.id,
            kind: core.kind,
            street_id: core.street_id,
            ward_id: core.ward_id,
            household_id: core.household_id,
            campaign_id: core.campaign_id,
            volunteer_id: core.volunteer_id,
            seq: core.seq,
            state: core.state,
            deleted: self.deleted,
            house_number: self.house_number,
            visited_at: self.visited_at,
            visited_at_us: self.visited_at_us,
            first_device: core.first_device,
            conflict: core.conflict,
            updated_at: self.updated_at,
        })
    }
}

fn encode(row: &RecordRow) -> Result<Stored, serde_json::Error> {
    Ok(Stored {
        id: row.id.to_string(),
        kind: row.kind.as_str().to_owned(),
        street_id: row.street_id.to_string(),
        ward_id: row.ward_id.to_string(),
        household_id: row.household_id.map(|id| id.to_string()),
        campaign_id: row.campaign_id.map(|id| id.to_string()),
        volunteer_id: row.volunteer_id.map(|id| id.to_string()),
        seq: row.seq,
        state: serde_json::to_string(&row.state)?,
        deleted: row.deleted,
        house_number: row.house_number.clone(),
        outcome: row.outcome.map(|o| o.as_str().to_owned()),
        visited_at: row.visited_at.clone(),
        visited_at_us: row.visited_at_us,
        review: row.review.map(|r| r.as_str().to_owned()),
        first_device: row.first_device.clone(),
        conflict: row.conflict,
        updated_at: row.updated_at,
    })
}

pub(super) fn decode_all(rows: Vec<Stored>) -> DbResult<Vec<RecordRow>> {
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

fn texts<T: ToString>(ids: &[T]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// One record by id.
pub fn find(conn: &mut DbConn, id: RecordId) -> DbResult<Option<RecordRow>> {
    let row: Option<Stored> = records::table
        .find(id.to_string())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// Which of these records exist.
pub fn existing(conn: &mut DbConn, ids: &[RecordId]) -> DbResult<HashSet<RecordId>> {
    let mut all = HashSet::with_capacity(ids.len());
    for chunk in texts(ids).chunks(500) {
        let found: Vec<String> = records::table
            .filter(records::id.eq_any(chunk))
            .select(records::id)
            .load(conn)?;
        for id in found {
            all.insert(Cells::new("records", &id).exact("id", &id, "UUID")?);
        }
    }
    Ok(all)
}

/// What merging a change into a stored record needs of it: everything but the columns
/// derived from its state, which are written anew with it.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRow {
    /// Id.
    pub id: RecordId,
    /// Household or visit.
    pub kind: Kind,
    /// Bucket.
    pub street_id: StreetId,
    /// The street's ward.
    pub ward_id: AreaId,
    /// A visit's household.
    pub household_id: Option<RecordId>,
    /// A visit's campaign.
    pub campaign_id: Option<CampaignId>,
    /// A visit's creator (a household's, when a push created it).
    pub volunteer_id: Option<UserId>,
    /// Position in the street's bucket.
    pub seq: i64,
    /// The merged state.
    pub state: RecordState,
    /// The first device that wrote a non-review field.
    pub first_device: Option<String>,
    /// Two or more devices wrote non-review fields.
    pub conflict: bool,
}

/// A `records` row as [`MergeRow`] reads it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = records)]
struct StoredForMerge {
    id: String,
    kind: String,
    street_id: String,
    ward_id: String,
    household_id: Option<String>,
    campaign_id: Option<String>,
    volunteer_id: Option<String>,
    seq: i64,
    state: String,
    first_device: Option<String>,
    conflict: bool,
}

impl StoredForMerge {
    fn decode(self) -> Result<MergeRow, CorruptRow> {
        let cells = Cells::new("records", &self.id);
        let kind: Kind = cells.exact("kind", &self.kind, "record kind")?;
        let household_id = cells.exact_opt("household_id", self.household_id.as_deref(), "UUID")?;
        let campaign_id = cells.exact_opt("campaign_id", self.campaign_id.as_deref(), "UUID")?;
        let volunteer_id = cells.exact_opt("volunteer_id", self.volunteer_id.as_deref(), "UUID")?;
        if kind == Kind::Visit {
            cells.required("household_id", household_id)?;
            cells.required("campaign_id", campaign_id)?;
            cells.required("volunteer_id", volunteer_id)?;
        }
        Ok(MergeRow {
            id: cells.exact("id", &self.id, "UUID")?,
            street_id: cells.exact("street_id", &self.street_id, "UUID")?,
            ward_id: cells.exact("ward_id", &self.ward_id, "UUID")?,
            state: decode_state(&cells, kind, &self.state)?,
            kind,
            household_id,
            campaign_id,
            volunteer_id,
            seq: self.seq,
            first_device: self.first_device,
            conflict: self.conflict,
        })
    }
}

fn decode_for_merge(rows: Vec<StoredForMerge>) -> DbResult<Vec<MergeRow>> {
    Ok(rows
        .into_iter()
        .map(StoredForMerge::decode)
        .collect::<Result<_, _>>()?)
}

/// `<column> IN` the ids in `array`, bound once as a JSON array that SQLite reads with
/// `json_each`: diesel prepares an `IN (?, ?, …)` list anew every time (a tenth of a
/// push's loads), and this statement stays prepared.
macro_rules! in_json_array {
    ($column:literal, $array:expr) => {
        sql::<Bool>(concat!($column, " IN (SELECT value FROM json_each("))
            .bind::<Text, _>($array)
            .sql("))")
    };
}

/// Loads `$query` filtered to rows whose `$column` is one of `$ids`: on SQLite through
/// [`in_json_array`] (`$name` is the column's SQL name), on PostgreSQL as `= ANY`. A macro,
/// not a function: each backend's branch needs its own query type.
macro_rules! load_where_in {
    ($conn:expr, $query:expr, $name:literal, $column:expr, $ids:expr) => {
        match $conn {
            DbConn::Sqlite(c) => $query
                .filter(in_json_array!($name, json_array($ids)?))
                .load(c)?,
            DbConn::Pg(c) => $query.filter($column.eq_any($ids)).load(c)?,
        }
    };
}

fn json_array(ids: &[String]) -> QueryResult<String> {
    serde_json::to_string(ids)
        .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))
}

/// The stored records among `ids`, as a merge needs them.
pub fn for_merge(conn: &mut DbConn, ids: &[RecordId]) -> DbResult<Vec<MergeRow>> {
    let mut all = Vec::with_capacity(ids.len());
    for chunk in texts(ids).chunks(1000) {
        let rows: Vec<StoredForMerge> = load_where_in!(
            conn,
            records::table.select(StoredForMerge::as_select()),
            "records.id",
            records::id,
            chunk
        );
        all.extend(decode_for_merge(rows)?);
    }
    Ok(all)
}

/// What a push needs of a household it only names (as the household of a visit it
/// carries): where it stands and whether it is deleted, without decoding its state.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedHousehold {
    /// Id.
    pub id: RecordId,
    /// Bucket.
    pub street_id: StreetId,
    /// The street's ward.
    pub ward_id: AreaId,
    /// Position in the street's bucket.
    pub seq: i64,
    /// Deleted (the column derived from its state).
    pub deleted: bool,
}

type NamedColumns = (String, String, String, i64, bool);

/// The stored households among `ids`; other records among them are left out, as unknown.
pub fn named_households(conn: &mut DbConn, ids: &[RecordId]) -> DbResult<Vec<NamedHousehold>> {
    let mut all = Vec::with_capacity(ids.len());
    for chunk in texts(ids).chunks(1000) {
        let rows: Vec<NamedColumns> = load_where_in!(
            conn,
            records::table
                .filter(records::kind.eq(Kind::Household.as_str()))
                .select((
                    records::id,
                    records::street_id,
                    records::ward_id,
                    records::seq,
                    records::deleted,
                )),
            "records.id",
            records::id,
            chunk
        );
        for (id, street_id, ward_id, seq, deleted) in rows {
            let cells = Cells::new("records", &id);
            all.push(NamedHousehold {
                id: cells.exact("id", &id, "UUID")?,
                street_id: cells.exact("street_id", &street_id, "UUID")?,
                ward_id: cells.exact("ward_id", &ward_id, "UUID")?,
                seq,
                deleted,
            });
        }
    }
    Ok(all)
}

/// Every visit (of any campaign) on these households, each given with its street, as a
/// merge needs them: a visit stands on its household's street, and the index is by street
/// first, so that the visits of one push's households are found (and added) on a few
/// pages.
pub fn visits_of_households(
    conn: &mut DbConn,
    households: &[(StreetId, RecordId)],
) -> DbResult<Vec<MergeRow>> {
    let mut by_street: BTreeMap<StreetId, Vec<String>> = BTreeMap::new();
    for (street, household) in households {
        by_street
            .entry(*street)
            .or_default()
            .push(household.to_string());
    }
    let mut all = Vec::new();
    for (street, ids) in by_street {
        for chunk in ids.chunks(1000) {
            let rows: Vec<StoredForMerge> = load_where_in!(
                conn,
                records::table
                    .filter(records::street_id.eq(street.to_string()))
                    .filter(records::household_id.is_not_null())
                    .filter(records::kind.eq(Kind::Visit.as_str()))
                    .select(StoredForMerge::as_select()),
                "records.household_id",
                records::household_id,
                chunk
            );
            all.extend(decode_for_merge(rows)?);
        }
    }
    Ok(all)
}

/// The stored columns, in the order [`upsert_many`] binds them.
const COLUMNS: [&str; 18] = [
    "id",
    "kind",
    "street_id",
    "ward_id",
    "household_id",
    "campaign_id",
    "volunteer_id",
    "seq",
    "state",
    "deleted",
    "house_number",
    "outcome",
    "visited_at",
    "visited_at_us",
    "review",
    "first_device",
    "conflict",
    "updated_at",
];

/// What a change may rewrite in a stored record: never its kind, street, ward, household,
/// campaign or creator, so the indexes on those stay untouched by an edit.
const REWRITTEN: [&str; 11] = [
    "seq",
    "state",
    "deleted",
    "house_number",
    "outcome",
    "visited_at",
    "visited_at_us",
    "review",
    "first_device",
    "conflict",
    "updated_at",
];

/// Rows per upsert statement: 18 × 500 binds stay under both backends' limits, and a push
/// of up to 1000 changes takes a few statements.
const UPSERT_ROWS: usize = 500;

macro_rules! bind_stored {
    ($($backend:ty),*) => {$(
        impl BindRow<$backend> for Stored {
            fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                bind_cells!(
                    out,
                    Text => &self.id,
                    Text => &self.kind,
                    Text => &self.street_id,
                    Text => &self.ward_id,
                    Nullable<Text> => &self.household_id,
                    Nullable<Text> => &self.campaign_id,
                    Nullable<Text> => &self.volunteer_id,
                    BigInt => &self.seq,
                    Text => &self.state,
                    Bool => &self.deleted,
                    Nullable<Text> => &self.house_number,
                    Nullable<Text> => &self.outcome,
                    Nullable<Text> => &self.visited_at,
                    Nullable<BigInt> => &self.visited_at_us,
                    Nullable<Text> => &self.review,
                    Nullable<Text> => &self.first_device,
                    Bool => &self.conflict,
                    BigInt => &self.updated_at,
                );
                Ok(())
            }
        }
    )*};
}
bind_stored!(diesel::sqlite::Sqlite, diesel::pg::Pg);

/// Inserts new records and rewrites changed ones: one multi-row
/// `INSERT … ON CONFLICT (id) DO UPDATE` per [`UPSERT_ROWS`] records, kept prepared.
pub fn upsert_many(conn: &mut DbConn, rows: &[RecordRow]) -> DbResult<()> {
    let rows: Vec<Stored> = rows
        .iter()
        .map(encode)
        .collect::<Result<_, _>>()
        .map_err(|err| diesel::result::Error::SerializationError(Box::new(err)))?;
    let head = format!("INSERT INTO records ({}) VALUES", COLUMNS.join(", "));
    let set: Vec<String> = REWRITTEN
        .iter()
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    let tail = format!(" ON CONFLICT (id) DO UPDATE SET {}", set.join(", "));
    for chunk in rows.chunks(UPSERT_ROWS) {
        let statement = MultiRow {
            head: &head,
            rows: chunk,
            tail: &tail,
        };
        on_backend!(&mut *conn, |c| statement.execute(c))?;
    }
    Ok(())
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL's `COALESCE` of a text column with a fallback.
    fn coalesce(
        value: diesel::sql_types::Nullable<diesel::sql_types::Text>,
        fallback: diesel::sql_types::Text,
    ) -> diesel::sql_types::Text;
}

// A pull's records are "households (no campaign) or this campaign's visits". Written as
// `campaign_id IS NULL OR campaign_id = $1`, PostgreSQL without fresh statistics (right
// after a bulk load, before autovacuum analyzes the table) ANDed the (street_id, seq)
// range with a bitmap OR over the campaign index, reading every record of the campaign:
// 34 ms per bucket at 1M records instead of 0.2. No index serves the COALESCE form, so
// the range on (street_id, seq) is the only plan.

/// The records of one bucket changed after `after_seq` that a campaign's pull shows
/// (households, and that campaign's visits), in seq order.
pub fn changed_since(
    conn: &mut DbConn,
    street_id: StreetId,
    campaign_id: CampaignId,
    after_seq: i64,
    limit: i64,
) -> DbResult<Vec<RecordRow>> {
    let rows: Vec<Stored> = records::table
        .filter(records::street_id.eq(street_id.to_string()))
        .filter(records::seq.gt(after_seq))
        .filter(coalesce(records::campaign_id, campaign_id.to_string()).eq(campaign_id.to_string()))
        .order(records::seq.asc())
        .limit(limit)
        .select(Stored::as_select())
        .load(conn)?;
    decode_all(rows)
}

/// How many records of one bucket a campaign's pull still has to bring after `after_seq`.
pub fn count_since(
    conn: &mut DbConn,
    street_id: StreetId,
    campaign_id: CampaignId,
    after_seq: i64,
) -> QueryResult<i64> {
    records::table
        .filter(records::street_id.eq(street_id.to_string()))
        .filter(records::seq.gt(after_seq))
        .filter(coalesce(records::campaign_id, campaign_id.to_string()).eq(campaign_id.to_string()))
        .count()
        .get_result(conn)
}

/// The latest `visited_at` (text, µs) of a campaign's visits in a ward that are not deleted
/// and whose household is not deleted: the recount of `last_visit_at` when its holder goes.
pub fn latest_live_visit(
    conn: &mut DbConn,
    campaign_id: CampaignId,
    ward_id: AreaId,
) -> DbResult<Option<(String, i64)>> {
    type Candidate = (String, Option<String>, Option<String>, Option<i64>);
    let page = 200;
    let mut offset = 0;
    loop {
        let visits: Vec<Candidate> = records::table
            .filter(records::campaign_id.eq(campaign_id.to_string()))
            .filter(records::ward_id.eq(ward_id.to_string()))
            .filter(records::kind.eq(Kind::Visit.as_str()))
            .filter(records::deleted.eq(false))
            .filter(records::visited_at_us.is_not_null())
            .order((records::visited_at_us.desc(), records::id.desc()))
            .offset(offset)
            .limit(page)
            .select((
                records::id,
                records::household_id,
                records::visited_at,
                records::visited_at_us,
            ))
            .load(conn)?;
        if visits.is_empty() {
            return Ok(None);
        }
        let mut candidates = Vec::with_capacity(visits.len());
        for (id, household, text, us) in visits {
            let cells = Cells::new("records", &id);
            candidates.push((
                cells.required("household_id", household)?,
                cells.required("visited_at", text)?,
                cells.required("visited_at_us", us)?,
            ));
        }
        let household_ids: Vec<&String> = candidates.iter().map(|c| &c.0).collect();
        let deleted: HashSet<String> = records::table
            .filter(records::id.eq_any(&household_ids))
            .filter(records::deleted.eq(true))
            .select(records::id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        if let Some((_, text, us)) = candidates.into_iter().find(|c| !deleted.contains(&c.0)) {
            return Ok(Some((text, us)));
        }
        offset += page;
    }
}

/// Reads every stored record, a page at a time in id order, handing each to `on_row`
/// decoded, or as the reason it does not decode (`canvass verify` recounts from them).
pub fn scan(
    conn: &mut DbConn,
    mut on_row: impl FnMut(Result<RecordRow, CorruptRow>),
) -> QueryResult<()> {
    let mut after = String::new();
    loop {
        let rows: Vec<Stored> = records::table
            .filter(records::id.gt(&after))
            .order(records::id.asc())
            .limit(1000)
            .select(Stored::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.id.clone();
        rows.into_iter().for_each(|row| on_row(row.decode()));
    }
}
