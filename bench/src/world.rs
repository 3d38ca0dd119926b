//! A campaign set up through the API as an admin would: one province and ward, streets,
//! imported households, volunteers each holding their own streets.

use std::fmt::Write as _;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::Api;
use crate::server::ADMIN_PASSWORD;
use crate::BenchError;

/// The password of every volunteer the bench creates.
pub const VOLUNTEER_PASSWORD: &str = "bench-volunteer-password";

/// The campaign's first day; visits are dated on the days after it.
pub const STARTS_ON: &str = "2020-08-17";

/// How big a world to build.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Volunteers, one phone each.
    pub volunteers: usize,
    /// Streets per volunteer.
    pub streets_each: usize,
    /// Households per street.
    pub households_per_street: usize,
}

/// One volunteer and what it holds.
#[derive(Debug, Clone)]
pub struct Volunteer {
    /// Login name.
    pub username: String,
    /// Its streets, each with its households' ids.
    pub streets: Vec<(Uuid, Vec<Uuid>)>,
}

/// What was built.
#[derive(Clone)]
pub struct World {
    /// The campaign.
    pub campaign: Uuid,
    /// The volunteers.
    pub volunteers: Vec<Volunteer>,
}

fn id_of(value: &Value) -> Result<Uuid, BenchError> {
    value["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| BenchError::Setup(format!("no id in {value}")))
}

/// Builds the world on the server at `base`.
pub fn build(base: &str, plan: Plan) -> Result<World, BenchError> {
    let admin = Api::login(base, "admin", ADMIN_PASSWORD)?;
    admin.import(
        "/areas/import",
        "code,name,level,parent_code\n74,Tỉnh Bình Dương,province,\n25741,Phường Phú Cường,ward,74\n",
    )?;
    let roots = admin.get("/areas")?;
    let province = id_of(&roots["items"][0])?;
    let ward = admin.get(&format!("/areas?parent_id={province}"))?;
    let ward = id_of(&ward["items"][0])?;

    let streets = plan.volunteers * plan.streets_each;
    let mut csv = String::from("ward_code,code,name\n");
    for s in 0..streets {
        let _ = writeln!(csv, "25741,25741-S{s},Hẻm {s} Đường Cách Mạng Tháng Tám");
    }
    admin.import("/streets/import", &csv)?;
    let listed = admin.get(&format!("/areas/{ward}/streets"))?;
    let mut by_code = std::collections::HashMap::new();
    for street in listed["items"].as_array().into_iter().flatten() {
        by_code.insert(
            street["code"].as_str().unwrap_or("").to_owned(),
            id_of(street)?,
        );
    }

    let mut households = String::from("street_code,house_number\n");
    for s in 0..streets {
        for h in 0..plan.households_per_street {
            let _ = writeln!(households, "25741-S{s},{h}");
        }
    }
    admin.import("/households/import", &households)?;

    let campaign: Value = admin.post(
        "/campaigns",
        &json!({"name": "Cài đặt Bluezone", "area_id": province, "target_ratio": 0.6,
                "starts_on": STARTS_ON, "deadline": "2099-12-31",
                "timezone": "Asia/Ho_Chi_Minh"}),
    )?;
    let campaign = id_of(&campaign)?;

    let mut volunteers = Vec::with_capacity(plan.volunteers);
    for v in 0..plan.volunteers {
        let username = format!("tnv{v}");
        let user: Value = admin.post(
            "/users",
            &json!({"username": username, "password": VOLUNTEER_PASSWORD,
                    "role": "volunteer", "area_id": ward}),
        )?;
        let user = id_of(&user)?;
        let mut held = Vec::with_capacity(plan.streets_each);
        for s in v * plan.streets_each..(v + 1) * plan.streets_each {
            let street = *by_code
                .get(&format!("25741-S{s}"))
                .ok_or_else(|| BenchError::Setup(format!("street {s} was not imported")))?;
            let _: Value = admin.post(
                &format!("/campaigns/{campaign}/assignments"),
                &json!({"street_id": street, "volunteer_id": user}),
            )?;
            let houses = (0..plan.households_per_street)
                .map(|h| sync_protocol::household_id(street, &h.to_string()))
                .collect::<Option<Vec<Uuid>>>()
                .ok_or_else(|| BenchError::Setup("a house number without a digit".into()))?;
            held.push((street, houses));
        }
        volunteers.push(Volunteer {
            username,
            streets: held,
        });
    }
    Ok(World {
        campaign,
        volunteers,
    })
}
