//! A small province to test in: two districts, three wards, four streets, people in every
//! role, one campaign and some assignments.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::TestApp;

/// The area CSV of the world (real GSO codes of Bình Dương).
pub const AREAS_CSV: &str = "code,name,level,parent_code\n\
74,Tỉnh Bình Dương,province,\n\
718,Thành phố Thủ Dầu Một,district,74\n\
25741,Phường Hiệp Thành,ward,718\n\
25744,Phường Phú Lợi,ward,718\n\
721,Thị xã Bến Cát,district,74\n\
25813,Phường Mỹ Phước,ward,721\n";

/// Password of every user the world creates.
pub const PASSWORD: &str = "mat-khau-123";

/// Ids and tokens of the world.
#[derive(Debug, Clone)]
pub struct World {
    pub province: String,
    pub district1: String,
    pub district2: String,
    /// Hiệp Thành (district 1).
    pub ward1: String,
    /// Phú Lợi (district 1).
    pub ward2: String,
    /// Mỹ Phước (district 2).
    pub ward3: String,
    /// Two streets in ward 1.
    pub street1: String,
    pub street2: String,
    /// One street in ward 2, one in ward 3.
    pub street3: String,
    pub street4: String,
    pub campaign: String,
    /// Volunteers 1 and 2 in ward 1 (both assigned to street 1), volunteer 3 in ward 2
    /// (assigned to street 3).
    pub volunteer1: (String, String),
    pub volunteer2: (String, String),
    pub volunteer3: (String, String),
    /// (id, token) of the ward leaders of wards 1 and 2.
    pub leader1: (String, String),
    pub leader2: (String, String),
    /// Supervisors of district 1, of district 2, and of the province.
    pub supervisor_d1: (String, String),
    pub supervisor_d2: (String, String),
    pub supervisor_p: (String, String),
    pub admin: String,
}

fn area_id(app: &TestApp, parent: Option<&str>, code: &str) -> String {
    let path = match parent {
        Some(p) => format!("/api/v1/areas?parent_id={p}"),
        None => "/api/v1/areas".to_owned(),
    };
    let list = app.get(&path, &app.admin).expect(200);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("area {code} missing"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

impl World {
    /// Builds the world through the API.
    pub fn build(app: &TestApp) -> World {
        let admin = app.admin.clone();
        app.post_csv("/api/v1/areas/import", &admin, AREAS_CSV)
            .expect(200);
        let province = area_id(app, None, "74");
        let district1 = area_id(app, Some(&province), "718");
        let district2 = area_id(app, Some(&province), "721");
        let ward1 = area_id(app, Some(&district1), "25741");
        let ward2 = area_id(app, Some(&district1), "25744");
        let ward3 = area_id(app, Some(&district2), "25813");
        let street = |ward: &str, code: &str| -> String {
            let resp = app
                .post(
                    "/api/v1/streets",
                    &admin,
                    &json!({"ward_id": ward, "code": code, "name": format!("Hẻm {code}")}),
                )
                .expect(201);
            resp.body["id"].as_str().unwrap().to_owned()
        };
        let street1 = street(&ward1, "25741-H12");
        let street2 = street(&ward1, "25741-H14");
        let street3 = street(&ward2, "25744-H1");
        let street4 = street(&ward3, "25813-H1");
        let user = |username: &str, role: &str, area: Option<&str>| -> (String, String) {
            let resp = app
                .post(
                    "/api/v1/users",
                    &admin,
                    &json!({"username": username, "password": PASSWORD, "display_name": username,
                            "role": role, "area_id": area}),
                )
                .expect(201);
            let id = resp.body["id"].as_str().unwrap().to_owned();
            (id, app.login(username, PASSWORD))
        };
        let volunteer1 = user("tnv.lan", "volunteer", Some(&ward1));
        let volunteer2 = user("tnv.minh", "volunteer", Some(&ward1));
        let volunteer3 = user("tnv.hoa", "volunteer", Some(&ward2));
        let leader1 = user("to.truong.1", "ward_leader", Some(&ward1));
        let leader2 = user("to.truong.2", "ward_leader", Some(&ward2));
        let supervisor_d1 = user("gs.tdm", "supervisor", Some(&district1));
        let supervisor_d2 = user("gs.bc", "supervisor", Some(&district2));
        let supervisor_p = user("gs.tinh", "supervisor", Some(&province));
        let campaign = app
            .post(
                "/api/v1/campaigns",
                &admin,
                &json!({"name": "Cài đặt Bluezone", "area_id": province, "target_ratio": 0.6,
                        "starts_on": "2020-08-17", "deadline": "2020-08-20",
                        "timezone": "Asia/Ho_Chi_Minh"}),
            )
            .expect(201)
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let world = World {
            province,
            district1,
            district2,
            ward1,
            ward2,
            ward3,
            street1,
            street2,
            street3,
            street4,
            campaign,
            volunteer1,
            volunteer2,
            volunteer3,
            leader1,
            leader2,
            supervisor_d1,
            supervisor_d2,
            supervisor_p,
            admin,
        };
        world.assign(app, &world.street1, &world.volunteer1.0);
        world.assign(app, &world.street1, &world.volunteer2.0);
        world.assign(app, &world.street3, &world.volunteer3.0);
        world
    }

    /// Assigns a volunteer to a street in the campaign, returning the assignment.
    pub fn assign(&self, app: &TestApp, street: &str, volunteer: &str) -> Value {
        app.post(
            &format!("/api/v1/campaigns/{}/assignments", self.campaign),
            &self.admin,
            &json!({"street_id": street, "volunteer_id": volunteer}),
        )
        .expect(201)
        .body
    }

    /// Ward 1's assignments in the campaign, as its ward leader reads them from the API.
    pub fn ward1_assignments(&self, app: &TestApp) -> Vec<Value> {
        app.get(
            &format!(
                "/api/v1/campaigns/{}/assignments?ward_id={}",
                self.campaign, self.ward1
            ),
            &self.leader1.1,
        )
        .expect(200)
        .body["items"]
            .as_array()
            .unwrap()
            .clone()
    }
}
