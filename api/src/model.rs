//! The resources of the contract as they travel on the wire (sections 4 and 5), and the
//! typed ids that `db/` decodes stored rows into.

mod ids;
mod wire_enums;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sync_protocol::Role;
use utoipa::ToSchema;
use uuid::Uuid;

pub use ids::{AreaId, AssignmentId, CampaignId, RecordId, StreetId, UserId};
pub use wire_enums::{OutcomeName, ReviewName, RoleName, Verdict};

/// `User` of section 4.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Unique login name.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Role.
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// The user's scope; null for admins.
    pub area_id: Option<Uuid>,
    /// Disabled users can neither log in nor use their tokens.
    pub disabled: bool,
}

/// Level of an area in the administrative tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Tỉnh / thành phố trực thuộc trung ương.
    Province,
    /// Quận / huyện / thị xã / thành phố thuộc tỉnh.
    District,
    /// Any commune-level unit: phường, xã, thị trấn, đặc khu.
    Ward,
}

impl Level {
    /// The stored and wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::District => "district",
            Level::Ward => "ward",
        }
    }

    /// Parses the wire text.
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "province" => Some(Level::Province),
            "district" => Some(Level::District),
            "ward" => Some(Level::Ward),
            _ => None,
        }
    }

    /// Whether an area of this level may hang under a parent of `parent` level
    /// (`None`: a root). Provinces are roots; a ward may hang directly under a province
    /// (Vietnam since 2025).
    pub fn may_have_parent(self, parent: Option<Level>) -> bool {
        matches!(
            (self, parent),
            (Level::Province, None)
                | (Level::District, Some(Level::Province))
                | (Level::Ward, Some(Level::District | Level::Province))
        )
    }
}

/// The stored and wire text.
impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses the stored and wire text.
impl FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Level, String> {
        Level::parse(text).ok_or_else(|| format!("{text:?} is not a level"))
    }
}

/// `Area` of section 4.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Area {
    /// Id.
    pub id: Uuid,
    /// Official code (GSO), unique.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent area; null for a province.
    pub parent_id: Option<Uuid>,
}

/// `Street` of section 4: a street, alley, ngõ or hẻm.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Street {
    /// Id.
    pub id: Uuid,
    /// The ward it lies in.
    pub ward_id: Uuid,
    /// Code, unique across all wards.
    pub code: String,
    /// Name.
    pub name: String,
}

/// `Campaign` of section 5.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The area the campaign covers.
    pub area_id: Uuid,
    /// Target share of smartphone users with the app, in (0, 1].
    pub target_ratio: f64,
    /// First day, in the campaign's time zone.
    #[schema(value_type = String, format = Date)]
    pub starts_on: chrono::NaiveDate,
    /// Last day, in the campaign's time zone.
    #[schema(value_type = String, format = Date)]
    pub deadline: chrono::NaiveDate,
    /// IANA time zone name.
    pub timezone: String,
}

/// `Assignment` of section 5.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    /// Id.
    pub id: Uuid,
    /// Campaign.
    pub campaign_id: Uuid,
    /// Street.
    pub street_id: Uuid,
    /// Volunteer.
    pub volunteer_id: Uuid,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
}

/// The `{"items": [...]}` envelope of every list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    /// The items.
    pub items: Vec<T>,
}

/// Answer of the area and street imports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCounts {
    /// Rows that created a resource.
    pub created: u64,
    /// Rows that updated an existing one.
    pub updated: u64,
}

/// Answer of the household import.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdImportCounts {
    /// Households created.
    pub created: u64,
    /// Households that were already registered.
    pub existing: u64,
}

/// The years a date of the API may fall in (contract §12 for progress; campaigns too).
/// Beyond them chrono's date arithmetic can overflow, and no campaign needs them.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Whether `date` lies in [`DATE_YEARS`].
pub fn date_in_range(date: chrono::NaiveDate) -> bool {
    use chrono::Datelike;
    DATE_YEARS.contains(&date.year())
}

/// Formats a time as RFC 3339 UTC with milliseconds.
pub fn rfc3339_ms(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
