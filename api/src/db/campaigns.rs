//! Campaigns.

use chrono::NaiveDate;
use chrono_tz::Tz;
use diesel::prelude::*;

use super::decode::Cells;
use super::error::{CorruptRow, DbResult};
use super::schema::campaigns;
use super::DbConn;
use crate::model::{AreaId, Campaign, CampaignId};

/// A stored campaign, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRow {
    /// Id.
    pub id: CampaignId,
    /// Name.
    pub name: String,
    /// Area covered.
    pub area_id: AreaId,
    /// Target ratio, in (0, 1].
    pub target_ratio: f64,
    /// First day, in the campaign's time zone.
    pub starts_on: NaiveDate,
    /// Last day, in the campaign's time zone.
    pub deadline: NaiveDate,
    /// The IANA time zone.
    pub timezone: Tz,
    /// Unix ms.
    pub created_at: i64,
}

impl CampaignRow {
    /// The wire form.
    pub fn to_api(&self) -> Campaign {
        Campaign {
            id: self.id.uuid(),
            name: self.name.clone(),
            area_id: self.area_id.uuid(),
            target_ratio: self.target_ratio,
            starts_on: self.starts_on,
            deadline: self.deadline,
            timezone: self.timezone.name().to_owned(),
        }
    }
}

/// A `campaigns` row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
struct Stored {
    id: String,
    name: String,
    area_id: String,
    target_ratio: f64,
    starts_on: String,
    deadline: String,
    timezone: String,
    created_at: i64,
}

impl Stored {
    fn decode(self) -> Result<CampaignRow, CorruptRow> {
        let cells = Cells::new("campaigns", &self.id);
        if !(self.target_ratio > 0.0 && self.target_ratio <= 1.0) {
            return Err(cells.corrupt(
                "target_ratio",
                format!("{} is not in (0, 1]", self.target_ratio),
            ));
        }
        Ok(CampaignRow {
            id: cells.exact("id", &self.id, "UUID")?,
            area_id: cells.exact("area_id", &self.area_id, "UUID")?,
            starts_on: cells.exact("starts_on", &self.starts_on, "date")?,
            deadline: cells.exact("deadline", &self.deadline, "date")?,
            timezone: cells.exact("timezone", &self.timezone, "time zone")?,
            name: self.name,
            target_ratio: self.target_ratio,
            created_at: self.created_at,
        })
    }
}

impl From<&CampaignRow> for Stored {
    fn from(row: &CampaignRow) -> Stored {
        Stored {
            id: row.id.to_string(),
            name: row.name.clone(),
            area_id: row.area_id.to_string(),
            target_ratio: row.target_ratio,
            starts_on: row.starts_on.to_string(),
            deadline: row.deadline.to_string(),
            timezone: row.timezone.name().to_owned(),
            created_at: row.created_at,
        }
    }
}

/// Stores a campaign.
pub fn insert(conn: &mut DbConn, row: &CampaignRow) -> QueryResult<()> {
    diesel::insert_into(campaigns::table)
        .values(Stored::from(row))
        .execute(conn)
        .map(|_| ())
}

/// A campaign by id.
pub fn find(conn: &mut DbConn, id: CampaignId) -> DbResult<Option<CampaignRow>> {
    let row: Option<Stored> = campaigns::table
        .find(id.to_string())
        .select(Stored::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Stored::decode).transpose()?)
}

/// All campaigns, newest first.
pub fn all(conn: &mut DbConn) -> DbResult<Vec<CampaignRow>> {
    let rows: Vec<Stored> = campaigns::table
        .order((campaigns::created_at.desc(), campaigns::id.asc()))
        .select(Stored::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(Stored::decode)
        .collect::<Result<_, _>>()?)
}

/// Decodes every stored campaign, returning the rows that do not decode (`canvass verify`).
pub fn undecodable(conn: &mut DbConn) -> QueryResult<Vec<CorruptRow>> {
    let rows: Vec<Stored> = campaigns::table.select(Stored::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.decode().err()).collect())
}
