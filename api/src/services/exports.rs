//! Exports of the visit list (contract section 13): every visit matching the list's filters
//! in the caller's scope, newest `visited_at` first, fetched a chunk at a time by keyset so
//! that a province's export never has to fit in memory. The handler streams each chunk as
//! it comes; this module knows rows and formats, not HTTP.

use std::collections::HashMap;

use serde_json::{json, Value};
use sync_protocol::FieldName;

use crate::access::Endpoint;
use crate::db::records::RecordRow;
use crate::db::visit_list::{self, VisitFilter};
use crate::db::{areas, streets, users, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::http::csv_out::{self, Cell};
use crate::model::{AreaId, CampaignId, RecordId, StreetId, UserId};
use crate::services::visits::{cursor_of, resolve_filter, VisitCursor, VisitFilters};
use crate::services::{campaigns, Scope};

/// Visits fetched per chunk.
pub const CHUNK_ROWS: i64 = 500;

/// The columns of `visits.csv`.
pub const CSV_COLUMNS: [&str; 18] = [
    "id",
    "ward_code",
    "ward_name",
    "street_code",
    "street_name",
    "house_number",
    "volunteer_username",
    "outcome",
    "smartphone_users",
    "app_users",
    "visited_at",
    "lat",
    "lon",
    "review",
    "review_note",
    "note",
    "deleted",
    "conflict",
];

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `visits.csv`.
    Csv,
    /// `visits.geojson`: an RFC 7946 FeatureCollection of the visits with a position.
    GeoJson,
}

/// An export under way: the judged filter, where it stands, and the names met so far
/// (bounded by the catalogue of wards, streets and volunteers, not by the export's size).
#[derive(Debug)]
pub struct Export {
    format: ExportFormat,
    filter: VisitFilter,
    after: Option<VisitCursor>,
    started: bool,
    done: bool,
    features: u64,
    wards: HashMap<AreaId, (String, String)>,
    streets: HashMap<StreetId, (String, String)>,
    usernames: HashMap<UserId, String>,
}

/// Judges an export request: the role (403), the campaign (404), the filters against the
/// scope (404, 403), exactly as the visit list does. Nothing is read from the visits yet.
pub fn start(
    conn: &mut DbConn,
    scope: &Scope,
    campaign_id: CampaignId,
    filters: &VisitFilters,
    format: ExportFormat,
) -> ApiResult<Export> {
    scope.permit(Endpoint::ReadVisits)?;
    let campaign = campaigns::load(conn, campaign_id)?;
    let filter = resolve_filter(conn, scope, &campaign, filters)?;
    Ok(Export {
        format,
        filter,
        after: None,
        started: false,
        done: false,
        features: 0,
        wards: HashMap::new(),
        streets: HashMap::new(),
        usernames: HashMap::new(),
    })
}

impl Export {
    /// Whether the last chunk has been given.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next piece of the answer: the opening and the first rows, then further rows,
    /// and the closing with the last; an empty string never comes before the end.
    pub fn next_chunk(&mut self, conn: &mut DbConn) -> ApiResult<String> {
        let mut out = String::new();
        if !self.started {
            self.started = true;
            match self.format {
                ExportFormat::Csv => {
                    out.push_str(csv_out::BOM);
                    csv_out::push_header(&mut out, &CSV_COLUMNS);
                }
                ExportFormat::GeoJson => {
                    out.push_str(r#"{"type":"FeatureCollection","features":["#);
                }
            }
        }
        let mut filter = self.filter.clone();
        filter.after = self.after.map(|c| (c.visited_at_us, c.id));
        let rows = visit_list::page(conn, &filter, CHUNK_ROWS)?;
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= CHUNK_ROWS;
        if let Some(last) = rows.last() {
            self.after = Some(cursor_of(last)?);
        }
        let households: Vec<RecordId> = rows.iter().filter_map(|r| r.household_id).collect();
        let numbers: HashMap<RecordId, Option<String>> =
            visit_list::house_numbers(conn, &households)?
                .into_iter()
                .collect();
        for row in &rows {
            let house_number = row
                .household_id
                .and_then(|h| numbers.get(&h).cloned().flatten());
            match self.format {
                ExportFormat::Csv => self.push_csv(conn, &mut out, row, house_number.as_deref())?,
                ExportFormat::GeoJson => self.push_feature(&mut out, row, house_number)?,
            }
        }
        if !full {
            self.done = true;
            if self.format == ExportFormat::GeoJson {
                out.push_str("]}");
            }
        }
        Ok(out)
    }

    fn ward_names(&mut self, conn: &mut DbConn, id: AreaId) -> ApiResult<(String, String)> {
        if let Some(names) = self.wards.get(&id) {
            return Ok(names.clone());
        }
        let ward = areas::find(conn, id)?
            .ok_or_else(|| ApiError::internal(format!("ward {id} of a visit is gone")))?;
        let names = (ward.code, ward.name);
        self.wards.insert(id, names.clone());
        Ok(names)
    }

    fn street_names(&mut self, conn: &mut DbConn, id: StreetId) -> ApiResult<(String, String)> {
        if let Some(names) = self.streets.get(&id) {
            return Ok(names.clone());
        }
        let street = streets::find(conn, id)?
            .ok_or_else(|| ApiError::internal(format!("street {id} of a visit is gone")))?;
        let names = (street.code, street.name);
        self.streets.insert(id, names.clone());
        Ok(names)
    }

    fn username(&mut self, conn: &mut DbConn, id: Option<UserId>) -> ApiResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        if let Some(name) = self.usernames.get(&id) {
            return Ok(Some(name.clone()));
        }
        let name = users::find(conn, id)?
            .map(|u| u.username)
            .ok_or_else(|| ApiError::internal(format!("volunteer {id} of a visit is gone")))?;
        self.usernames.insert(id, name.clone());
        Ok(Some(name))
    }

    fn push_csv(
        &mut self,
        conn: &mut DbConn,
        out: &mut String,
        row: &RecordRow,
        house_number: Option<&str>,
    ) -> ApiResult<()> {
        let (ward_code, ward_name) = self.ward_names(conn, row.ward_id)?;
        let (street_code, street_name) = self.street_names(conn, row.street_id)?;
        let volunteer = self.username(conn, row.volunteer_id)?;
        let state = &row.state;
        let id = row.id.to_string();
        let number = |field: FieldName| Cell::number(state.value(field).filter(|v| v.is_number()));
        csv_out::push_row(
            out,
            &[
                Cell::Text(&id),
                Cell::Text(&ward_code),
                Cell::Text(&ward_name),
                Cell::Text(&street_code),
                Cell::Text(&street_name),
                Cell::text(house_number),
                Cell::text(volunteer.as_deref()),
                Cell::text(state.outcome().map(|o| o.as_str())),
                number(FieldName::SmartphoneUsers),
                number(FieldName::AppUsers),
                Cell::text(state.visited_at_text()),
                number(FieldName::Lat),
                number(FieldName::Lon),
                Cell::Text(state.review().as_str()),
                Cell::text(state.review_note()),
                Cell::text(state.note()),
                Cell::Bool(state.deleted()),
                Cell::Bool(row.conflict),
            ],
        );
        Ok(())
    }

    fn push_feature(
        &mut self,
        out: &mut String,
        row: &RecordRow,
        house_number: Option<String>,
    ) -> ApiResult<()> {
        let state = &row.state;
        let position = |field: FieldName| state.value(field).filter(|v| v.is_number()).cloned();
        let (Some(lat), Some(lon)) = (position(FieldName::Lat), position(FieldName::Lon)) else {
            return Ok(());
        };
        let value = |field: FieldName| state.value(field).cloned().unwrap_or(Value::Null);
        let feature = json!({
            "type": "Feature",
            "id": row.id.to_string(),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "street_id": row.street_id.to_string(),
                "household_id": row.household_id.map(|h| h.to_string()),
                "house_number": house_number,
                "outcome": state.outcome().map(|o| o.as_str()),
                "smartphone_users": value(FieldName::SmartphoneUsers),
                "app_users": value(FieldName::AppUsers),
                "visited_at": state.visited_at_text(),
                "review": state.review().as_str(),
                "accuracy_m": value(FieldName::AccuracyM),
                "deleted": state.deleted(),
            }
        });
        if self.features > 0 {
            out.push(',');
        }
        self.features += 1;
        out.push_str(&feature.to_string());
        Ok(())
    }
}
