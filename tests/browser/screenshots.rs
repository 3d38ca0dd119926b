//! Writes the README's screenshots to docs/screenshots/ (run on demand:
//! `cargo test -p canvass-api --test browser -- --ignored screenshots`).

use std::path::PathBuf;

use crate::common::world::PASSWORD;
use crate::common::{spawn_app, Backend, World};
use crate::driver::Browser;
use crate::seed::knock_all;

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}

#[test]
#[ignore = "writes docs/screenshots; run on demand"]
fn screenshots() {
    let Some(app) = spawn_app(Backend::Sqlite) else {
        return;
    };
    let Some(browser) = Browser::start(1100, 1500) else {
        return;
    };
    let world = World::build(&app);
    let days = ["2020-08-17", "2020-08-18", "2020-08-19", "2020-08-20"];
    // The first day goes slowly, the later ones better: coverage climbs past the target.
    let slow = [
        ("declined", 2, 0),
        ("already_installed", 3, 1),
        ("not_home", 0, 0),
        ("installed_now", 2, 1),
    ];
    let good = [
        ("installed_now", 2, 2),
        ("already_installed", 3, 3),
        ("declined", 1, 0),
        ("installed_now", 1, 1),
        ("no_smartphone", 0, 0),
        ("already_installed", 2, 2),
    ];
    for (street, token, device, count) in [
        (&world.street1, &world.volunteer1.1, "phone-lan", 18),
        (&world.street3, &world.volunteer3.1, "phone-hoa", 11),
        (&world.street4, &world.admin, "admin-tablet", 7),
    ] {
        let numbers: Vec<String> = (1..=count).map(|n| format!("{}", n * 2)).collect();
        let times: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    "{}T{:02}:{:02}:00+07:00",
                    days[i * days.len() / count],
                    8 + i % 9,
                    (i * 7) % 60
                )
            })
            .collect();
        let knocks: Vec<_> = (0..count)
            .map(|i| {
                let (outcome, phones, apps) = if i * days.len() < count {
                    slow[i % slow.len()]
                } else {
                    good[i % good.len()]
                };
                (
                    street.as_str(),
                    numbers[i].as_str(),
                    outcome,
                    phones,
                    apps,
                    times[i].as_str(),
                )
            })
            .collect();
        let ids = knock_all(&app, token, &world.campaign, device, &knocks);
        if device == "phone-lan" {
            // The leader has reviewed the latest two: one verified, one rejected.
            for (id, review, note) in [
                (&ids[count - 1], "verified", "Đã gọi lại xác nhận"),
                (&ids[count - 2], "rejected", "Nhà bỏ trống"),
            ] {
                app.post(
                    &format!("/api/v1/campaigns/{}/visits/{id}/review", world.campaign),
                    &world.leader1.1,
                    &serde_json::json!({"review": review, "note": note}),
                )
                .expect(200);
            }
        }
    }
    std::fs::create_dir_all(docs_dir()).unwrap();
    let save = |name: &str| {
        std::fs::write(docs_dir().join(name), browser.screenshot()).unwrap();
    };
    browser.sign_in(&app.base, "gs.tinh", PASSWORD);
    browser.goto(&format!("{}/campaigns/{}", app.base, world.campaign));
    save("coverage.png");
    browser.sign_in(&app.base, "to.truong.1", PASSWORD);
    browser.goto(&format!(
        "{}/campaigns/{}/visits?ward_id={}",
        app.base, world.campaign, world.ward1
    ));
    save("visits.png");
    browser.goto(&format!(
        "{}/campaigns/{}/assignments?ward_id={}",
        app.base, world.campaign, world.ward1
    ));
    save("assignments.png");
    browser.resize(412, 1100);
    browser.goto(&format!(
        "{}/campaigns/{}/areas/{}",
        app.base, world.campaign, world.ward1
    ));
    save("coverage-phone.png");
    browser.goto(&format!(
        "{}/campaigns/{}/visits?ward_id={}",
        app.base, world.campaign, world.ward1
    ));
    save("visits-phone.png");
}
