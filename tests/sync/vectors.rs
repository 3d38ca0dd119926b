//! The golden vectors of `sync-protocol/tests/vectors/` replayed over HTTP: the server
//! answers each change as the vector says and ends in its `expected_state`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::common::{TestApp, World};
use crate::support::*;

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sync-protocol/tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// Maps the vector's ids onto this server: its street to a real street, a household to the
/// deterministic id of its house number on that street (the server creates no other), every
/// other id to a UUIDv5 under that street, so vectors sharing ids do not collide.
struct Ids {
    vector_street: String,
    street: String,
    /// Vector household id → its id on the real street.
    houses: BTreeMap<String, String>,
}

impl Ids {
    fn map(&self, text: &str) -> String {
        if text == self.vector_street {
            return self.street.clone();
        }
        if let Some(house) = self.houses.get(text) {
            return house.clone();
        }
        match Uuid::parse_str(text) {
            Ok(id) => {
                Uuid::new_v5(&self.street.parse().unwrap(), id.to_string().as_bytes()).to_string()
            }
            Err(_) => text.to_owned(),
        }
    }

    fn change(&self, change: &Value) -> Value {
        let mut out: Map<String, Value> = change.as_object().unwrap().clone();
        for key in ["id", "street_id", "household_id"] {
            if let Some(Value::String(text)) = out.get(key) {
                let mapped = self.map(text);
                out.insert(key.to_owned(), json!(mapped));
            }
        }
        Value::Object(out)
    }
}

/// A vector laid onto a fresh street of ward 1 (so ward leader 1 can pull it).
struct Laid {
    name: String,
    street: String,
    changes: Vec<Value>,
    want: Vec<String>,
    expected: BTreeMap<String, Value>,
}

fn lay(app: &TestApp, world: &World, file: &Path, code: String) -> Laid {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let vector: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let street = app
        .post(
            "/api/v1/streets",
            &world.admin,
            &json!({"ward_id": world.ward1, "code": code, "name": name}),
        )
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vector_street = vector["street_id"].as_str().unwrap().to_owned();
    let houses = vector["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "household")
        .filter_map(|c| {
            let number = c["fields"]["house_number"]["value"].as_str()?;
            let id = c["id"].as_str()?.to_owned();
            (house_id(&vector_street, number) == id).then(|| (id, house_id(&street, number)))
        })
        .collect();
    let ids = Ids {
        vector_street,
        street: street.clone(),
        houses,
    };
    let changes = vector["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ids.change(c))
        .collect();
    let want = vector["expected_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    let expected = vector["expected_state"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, fields)| (ids.map(id), fields.clone()))
        .collect();
    Laid {
        name,
        street,
        changes,
        want,
        expected,
    }
}

fn every_golden_vector_replays_over_http(app: TestApp) {
    let world = World::build(&app);
    let files = vector_files();
    assert!(files.len() >= 10, "only {} vectors", files.len());
    for (index, file) in files.iter().enumerate() {
        let Laid {
            name,
            street,
            changes,
            want,
            expected,
        } = lay(&app, &world, file, format!("V{index}"));
        // One by one, as the vector lists them…
        let got: Vec<String> = changes
            .iter()
            .map(|change| {
                push(
                    &app,
                    &world.admin,
                    &world.campaign,
                    "vectors",
                    std::slice::from_ref(change),
                )
                .remove(0)
            })
            .collect();
        assert_eq!(got, want, "{name}");
        let pulled = pull_all(&app, &world.leader1.1, &world.campaign, "vectors", 500);
        assert_eq!(pulled.on_street(&street), expected, "{name}");
        // …and again as one push: nothing changes.
        let again = push(&app, &world.admin, &world.campaign, "vectors", &changes);
        assert!(again.iter().all(|r| r != "applied"), "{name}: {again:?}");
        let after = pull_all(&app, &world.leader1.1, &world.campaign, "vectors", 500);
        assert_eq!(after.on_street(&street), expected, "{name}");
    }
    // One push of all changes of each vector, on fresh streets: the same results.
    for (index, file) in files.iter().enumerate() {
        let Laid {
            name,
            street,
            changes,
            want,
            expected,
        } = lay(&app, &world, file, format!("W{index}"));
        assert_eq!(
            push(&app, &world.admin, &world.campaign, "vectors", &changes),
            want,
            "{name} in one push"
        );
        let pulled = pull_all(&app, &world.leader1.1, &world.campaign, "vectors", 500);
        assert_eq!(pulled.on_street(&street), expected, "{name} in one push");
    }
    assert_verified(&app);
}

crate::both_backends!(every_golden_vector_replays_over_http);
