//! Setting the campaign up over the API, then handing it to the field days.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use uuid::Uuid;

use super::client::{token_for, Api};
use super::field::{self, Cast, Stats};
use super::people::{self, People};
use super::world::World;
use super::{Plan, AREAS_CSV};
use crate::db::{areas, streets, users};
use crate::state::AppState;

/// The demo campaign's name.
pub const CAMPAIGN_NAME: &str = "Cài đặt Bluezone";

/// What the demo built, for the printed summary.
#[derive(Debug)]
pub struct Built {
    /// The shared demo password.
    pub password: String,
    /// The first admin's login name.
    pub admin: String,
    /// Everyone else.
    pub people: People,
    /// The campaign's id.
    pub campaign: Uuid,
    /// The generated world.
    pub world: World,
    /// What the field days did.
    pub stats: Stats,
    /// The temporary folder of the database, when the demo chose it.
    pub kept_in: Option<PathBuf>,
}

fn id_of(answer: &Value, what: &str) -> Result<Uuid, String> {
    answer["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| format!("{what}: the answer carries no id"))
}

/// Imports the world, creates the users and the campaign, assigns the streets and plays
/// the four days. Blocking: run it off the server's runtime.
pub fn build(
    state: &AppState,
    base: &str,
    plan: &Plan,
    admin_username: &str,
    password: &str,
) -> Result<Built, String> {
    let world = World::generate(plan.seed, plan.scale)?;
    let api = Api::new(base);
    // Connections are taken for one step at a time: with `sqlite::memory:` the pool holds
    // a single one, which the server needs while the demo talks to it.
    let conn = || state.db.get().map_err(|e| e.to_string());
    let admin = users::find_for_login(&mut *conn()?, admin_username)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the admin {admin_username:?} is missing"))?;
    let admin_token = token_for(state, &admin)?;
    let _: Value = api.post_csv("/api/v1/areas/import", &admin_token, AREAS_CSV)?;
    let _: Value = api.post_csv("/api/v1/streets/import", &admin_token, &world.streets_csv())?;
    let _: Value = api.post_csv(
        "/api/v1/households/import",
        &admin_token,
        &world.households_csv(),
    )?;
    let stored_areas = areas::all_by_code(&mut *conn()?).map_err(|e| e.to_string())?;
    let people = people::create(&mut *conn()?, &world, &stored_areas, password)?;
    let province = world
        .areas
        .iter()
        .find(|a| a.level == "province")
        .and_then(|a| stored_areas.get(&a.code))
        .ok_or("the area file has no province")?;
    let campaign: Value = api.post(
        "/api/v1/campaigns",
        &admin_token,
        &json!({"name": CAMPAIGN_NAME, "area_id": province.id.to_string(), "target_ratio": 0.6,
                "starts_on": "2020-08-17", "deadline": "2020-08-20",
                "timezone": "Asia/Ho_Chi_Minh"}),
    )?;
    let campaign = id_of(&campaign, "POST /api/v1/campaigns")?;
    let codes: Vec<String> = world
        .wards
        .iter()
        .flat_map(|w| w.streets.iter().map(|s| s.code.clone()))
        .collect();
    let street_ids: HashMap<String, Uuid> = streets::by_codes(&mut *conn()?, &codes)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(code, row)| (code, row.id.uuid()))
        .collect();
    let mut tokens = Vec::with_capacity(world.wards.len());
    for ward in &world.wards {
        let code = &ward.area.code;
        let leader = people
            .leaders
            .get(code)
            .ok_or_else(|| format!("ward {code} has no leader"))?;
        let leader_token = token_for(state, &leader.user)?;
        let volunteers = people.volunteers.get(code).map_or(&[][..], Vec::as_slice);
        // The leader assigns the ward's streets, as on the dashboard.
        let path = format!("/api/v1/campaigns/{campaign}/assignments");
        for street in &ward.streets {
            let street_id = street_ids
                .get(&street.code)
                .ok_or_else(|| format!("street {} was not imported", street.code))?;
            for index in &street.volunteers {
                let volunteer = volunteers
                    .get(*index)
                    .ok_or_else(|| format!("ward {code} has no volunteer {index}"))?;
                let _: Value = api.post(
                    &path,
                    &leader_token,
                    &json!({"street_id": street_id, "volunteer_id": volunteer.user.id.to_string()}),
                )?;
            }
        }
        let volunteer_tokens = volunteers
            .iter()
            .map(|v| token_for(state, &v.user))
            .collect::<Result<Vec<_>, _>>()?;
        tokens.push((leader_token, volunteer_tokens));
    }
    let cast = Cast {
        campaign,
        streets: street_ids,
        tokens,
    };
    let stats = field::play(&api, &world, &cast, plan.seed)?;
    Ok(Built {
        password: password.to_owned(),
        admin: admin_username.to_owned(),
        people,
        campaign,
        world,
        stats,
        kept_in: plan.kept_in.clone(),
    })
}
