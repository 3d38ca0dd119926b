//! Campaigns.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::campaigns;
use super::DbConn;
use crate::model::{stored_uuid, Campaign};

/// A stored campaign.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Area covered.
    pub area_id: String,
    /// Target ratio.
    pub target_ratio: f64,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    /// `YYYY-MM-DD`.
    pub deadline: String,
    /// IANA name.
    pub timezone: String,
    /// Unix ms.
    pub created_at: i64,
}

impl CampaignRow {
    /// The wire form.
    pub fn to_api(&self) -> Campaign {
        Campaign {
            id: stored_uuid(&self.id),
            name: self.name.clone(),
            area_id: stored_uuid(&self.area_id),
            target_ratio: self.target_ratio,
            starts_on: self.starts_on.parse().unwrap_or_default(),
            deadline: self.deadline.parse().unwrap_or_default(),
            timezone: self.timezone.clone(),
        }
    }

    /// The campaign's time zone (validated on creation).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }
}

/// Stores a campaign.
pub fn insert(conn: &mut DbConn, row: &CampaignRow) -> QueryResult<()> {
    diesel::insert_into(campaigns::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A campaign by id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<CampaignRow>> {
    campaigns::table
        .find(id.to_string())
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()
}

/// All campaigns, newest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .order((campaigns::created_at.desc(), campaigns::id.asc()))
        .select(CampaignRow::as_select())
        .load(conn)
}
