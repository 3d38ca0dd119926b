//! National coverage: Vietnam's 2020 area tree (63 provinces, 10,614 wards), streets and
//! households in every ward, one campaign per province (there is no level above a province
//! to put one national campaign on), visits in every province; then the national read (every
//! province's coverage, as a national dashboard shows it) against a full recount.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend::Database;
use crate::client::Api;
use crate::ingest::push_out;
use crate::phone::Phone;
use crate::server::{verify, Server, ADMIN_PASSWORD};
use crate::world::STARTS_ON;
use crate::BenchError;

const AREAS: &str = include_str!("../../data/vietnam-2020-areas.csv");

/// Households per import file (the server takes at most 1,000,000 rows in one).
const IMPORT_ROWS: usize = 500_000;

/// What the coverage measurement found.
pub struct CoverageFigures {
    /// One province's coverage read, median.
    pub read_p50: Duration,
    /// One province's coverage read, 99th percentile.
    pub read_p99: Duration,
    /// Every province read once, median over the sweeps.
    pub national: Duration,
    /// `canvass verify`: every ward of every campaign recounted.
    pub recount: Duration,
    /// Visits stored.
    pub visits: usize,
}

/// Builds the national world and measures. `streets_per_ward` and `households_per_street`
/// set the size; one household in `visit_every` gets a visit.
pub fn measure(
    binary: &Path,
    database: &Database,
    server: &Server,
    streets_per_ward: usize,
    households_per_street: usize,
    visit_every: usize,
) -> Result<CoverageFigures, BenchError> {
    let admin = Api::login(&server.base, "admin", ADMIN_PASSWORD)?;
    admin.import("/areas/import", AREAS)?;
    let wards: Vec<&str> = AREAS
        .lines()
        .filter(|l| l.split(',').nth(2) == Some("ward"))
        .filter_map(|l| l.split(',').next())
        .collect();
    let mut streets = String::from("ward_code,code,name\n");
    for ward in &wards {
        for s in 0..streets_per_ward {
            let _ = writeln!(streets, "{ward},{ward}-S{s},Đường số {s}");
        }
    }
    admin.import("/streets/import", &streets)?;
    // In imports of at most IMPORT_ROWS households, under the server's limit per file.
    let street_codes: Vec<String> = wards
        .iter()
        .flat_map(|ward| (0..streets_per_ward).map(move |s| format!("{ward}-S{s}")))
        .collect();
    for chunk in street_codes.chunks((IMPORT_ROWS / households_per_street.max(1)).max(1)) {
        let mut households = String::from("street_code,house_number\n");
        for street in chunk {
            for h in 1..=households_per_street {
                let _ = writeln!(households, "{street},{h}");
            }
        }
        admin.import("/households/import", &households)?;
    }

    let provinces = admin.get("/areas")?;
    let mut campaigns = Vec::new();
    let mut phone = Phone::new("bench-admin", admin.clone(), 0)?;
    let mut visits = 0;
    for province in provinces["items"].as_array().into_iter().flatten() {
        let id = province["id"].as_str().unwrap_or_default();
        let campaign: Value = admin.post(
            "/campaigns",
            &json!({"name": format!("Bluezone {}", province["name"].as_str().unwrap_or("")),
                    "area_id": id, "target_ratio": 0.6, "starts_on": STARTS_ON,
                    "deadline": "2099-12-31", "timezone": "Asia/Ho_Chi_Minh"}),
        )?;
        let campaign: Uuid = campaign["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| BenchError::Setup("no campaign id".into()))?;
        campaigns.push(campaign);
        let listed = admin.get(&format!("/areas/{id}/streets"))?;
        let mut n = 0usize;
        for street in listed["items"].as_array().into_iter().flatten() {
            let street: Uuid = street["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| BenchError::Setup("no street id".into()))?;
            for h in 1..=households_per_street {
                n += 1;
                if !n.is_multiple_of(visit_every) {
                    continue;
                }
                let house = sync_protocol::household_id(street, &h.to_string())
                    .ok_or_else(|| BenchError::Setup("bad house number".into()))?;
                phone.visit(campaign, street, house, (n % 4) as u32, (3, (n % 3) as u32))?;
                visits += 1;
                if phone.replica.outbox().len() >= 500 {
                    push_out(&mut phone, campaign)?;
                }
            }
        }
        push_out(&mut phone, campaign)?;
    }

    let mut reads = Vec::new();
    let mut sweeps = Vec::new();
    for _ in 0..5 {
        let sweep = Instant::now();
        for campaign in &campaigns {
            let started = Instant::now();
            admin.get(&format!("/campaigns/{campaign}/coverage"))?;
            reads.push(started.elapsed());
        }
        sweeps.push(sweep.elapsed());
    }
    reads.sort();
    sweeps.sort();
    let (clean, recount) = verify(binary, database)?;
    if !clean {
        return Err(BenchError::Setup(
            "canvass verify found counters off a recount".into(),
        ));
    }
    let at = |q: f64| reads[((reads.len() - 1) as f64 * q).round() as usize];
    Ok(CoverageFigures {
        read_p50: at(0.5),
        read_p99: at(0.99),
        national: sweeps[sweeps.len() / 2],
        recount,
        visits,
    })
}
