//! Replays the golden wire vectors of `tests/vectors/` (format in its README).

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;
use sync_protocol::{household_id, Change, PushResult, PushStatus, Role};
use uuid::Uuid;

use crate::support::{TestServer, LAN};

/// A server clock after every HLC of the vectors: 2100-01-01.
const VECTOR_NOW_MS: u64 = 4_102_444_800_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    description: String,
    street_id: Uuid,
    household_id: Option<Uuid>,
    changes: Vec<Change>,
    expected_results: Vec<String>,
    expected_state: Value,
}

fn result_text(result: &PushResult) -> String {
    match (result.status, result.code) {
        (PushStatus::Applied, _) => "applied".to_owned(),
        (PushStatus::Unchanged, _) => "unchanged".to_owned(),
        (PushStatus::Rejected, Some(code)) => format!("rejected:{code}"),
        (PushStatus::Rejected, None) => "rejected".to_owned(),
    }
}

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_golden_vector_replays_to_its_expected_results_and_state() {
    let files = vector_files();
    assert!(files.len() >= 8, "only {} vectors", files.len());
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let vector: Vector = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(!vector.description.is_empty(), "{name}");
        assert_eq!(
            vector.changes.len(),
            vector.expected_results.len(),
            "{name}"
        );
        if let Some(house) = vector.household_id {
            assert_eq!(
                household_id(vector.street_id, "12/5A"),
                Some(house),
                "{name}"
            );
        }

        let mut server = TestServer::new(VECTOR_NOW_MS, &[vector.street_id]);
        let results: Vec<String> = vector
            .changes
            .iter()
            .map(|change| result_text(&server.push(LAN, Role::Admin, change)))
            .collect();
        assert_eq!(results, vector.expected_results, "{name}");
        let state = serde_json::to_value(server.states()).unwrap();
        assert_eq!(state, vector.expected_state, "{name}");
    }
}

#[test]
fn replaying_a_vector_twice_changes_nothing_the_second_time() {
    for file in vector_files() {
        let vector: Vector =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut server = TestServer::new(VECTOR_NOW_MS, &[vector.street_id]);
        for change in &vector.changes {
            server.push(LAN, Role::Admin, change);
        }
        let before = server.states();
        for change in &vector.changes {
            let result = server.push(LAN, Role::Admin, change);
            assert_ne!(result.status, PushStatus::Applied, "{}", file.display());
        }
        assert_eq!(server.states(), before);
    }
}
