//! The demo's users: a province supervisor, one per district, a leader and volunteers per
//! ward, all with the one demo password.

use std::collections::HashMap;

use sync_protocol::Role;

use super::names;
use super::world::World;
use crate::auth::password;
use crate::db::areas::AreaRow;
use crate::db::users::{self, UserRow};
use crate::db::DbConn;
use crate::model::UserId;
use crate::state::now_ms_i64;

/// A demo login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The stored user.
    pub user: UserRow,
    /// The area's name, for the printed list.
    pub area_name: String,
}

/// Who the demo created, by ward code where it applies.
#[derive(Debug, Default)]
pub struct People {
    /// Province and district supervisors, in that order.
    pub supervisors: Vec<Login>,
    /// The leader of each ward.
    pub leaders: HashMap<String, Login>,
    /// The volunteers of each ward, `tnv.<code>.1` first.
    pub volunteers: HashMap<String, Vec<Login>>,
}

fn login(role: Role, username: String, display: String, area: &AreaRow, hash: &str) -> Login {
    Login {
        user: UserRow {
            id: UserId::new_v4(),
            username,
            display_name: display,
            role,
            area_id: Some(area.id),
            password_hash: hash.to_owned(),
            disabled: false,
            created_at: now_ms_i64(),
        },
        area_name: area.name.clone(),
    }
}

/// Creates every demo user in one transaction. One hash serves them all: they share the
/// password, and hundreds of Argon2 hashes would take most of the demo's minute.
pub fn create(
    conn: &mut DbConn,
    world: &World,
    areas: &HashMap<String, AreaRow>,
    password: &str,
) -> Result<People, String> {
    let hash = password::hash(password).map_err(|e| e.to_string())?;
    let area = |code: &str| {
        areas
            .get(code)
            .ok_or_else(|| format!("area {code} was not imported"))
    };
    let mut people = People::default();
    for line in &world.areas {
        let row = area(&line.code)?;
        match line.level.as_str() {
            "province" => people.supervisors.insert(
                0,
                login(
                    Role::Supervisor,
                    "tinh".into(),
                    format!("Giám sát {}", line.name),
                    row,
                    &hash,
                ),
            ),
            "district" => people.supervisors.push(login(
                Role::Supervisor,
                format!("huyen.{}", names::slug(&line.name)),
                format!("Giám sát {}", line.name),
                row,
                &hash,
            )),
            _ => {}
        }
    }
    for ward in &world.wards {
        let row = area(&ward.area.code)?;
        let code = &ward.area.code;
        people.leaders.insert(
            code.clone(),
            login(
                Role::WardLeader,
                format!("phuong.{code}"),
                format!("Tổ trưởng {}", ward.area.name),
                row,
                &hash,
            ),
        );
        let volunteers = (1..=ward.volunteers)
            .map(|n| {
                login(
                    Role::Volunteer,
                    format!("tnv.{code}.{n}"),
                    format!("Tình nguyện viên {n}, {}", ward.area.name),
                    row,
                    &hash,
                )
            })
            .collect();
        people.volunteers.insert(code.clone(), volunteers);
    }
    let everyone: Vec<&UserRow> = people
        .supervisors
        .iter()
        .chain(people.leaders.values())
        .chain(people.volunteers.values().flatten())
        .map(|l| &l.user)
        .collect();
    conn.write_transaction(|conn| {
        for user in &everyone {
            users::insert(conn, user)?;
        }
        Ok::<(), diesel::result::Error>(())
    })
    .map_err(|e| format!("cannot create the demo users: {e}"))?;
    Ok(people)
}
