//! The contract's example session, start to end.

use serde_json::json;

use crate::common::{TestApp, World};

fn the_example_session_works_end_to_end(app: TestApp) {
    let world = World::build(&app);
    let me = app.get("/api/v1/me", &world.volunteer1.1).expect(200);
    assert_eq!(me.body["role"], "volunteer");
    assert_eq!(me.body["area_id"], json!(world.ward1));
    let campaign = app
        .get(
            &format!("/api/v1/campaigns/{}", world.campaign),
            &world.volunteer1.1,
        )
        .expect(200);
    assert_eq!(campaign.body["target_ratio"], json!(0.6));
    assert_eq!(campaign.body["timezone"], "Asia/Ho_Chi_Minh");
}

crate::both_backends!(the_example_session_works_end_to_end);
