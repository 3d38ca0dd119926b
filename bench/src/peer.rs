//! The peer: pouchdb-server (a CouchDB-compatible document store in JavaScript) taking the
//! same visits as documents through `_bulk_docs`, from the same number of clients in the
//! same batches.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::free_port;
use crate::BenchError;

/// Where pouchdb-server is: `CANVASS_PEER_BIN`, `target/peer` (where the docs install it),
/// or the `PATH`.
pub fn find() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CANVASS_PEER_BIN") {
        return Some(PathBuf::from(path));
    }
    let local = PathBuf::from("target/peer/node_modules/.bin/pouchdb-server");
    if let Ok(local) = local.canonicalize() {
        return Some(local);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("pouchdb-server"))
        .find(|candidate| candidate.exists())
}

struct Peer {
    child: Child,
    folder: PathBuf,
    base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn start(binary: &PathBuf) -> Result<Peer, BenchError> {
    let port = free_port()?;
    let folder = std::env::temp_dir().join(format!("canvass-peer-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder)?;
    let child = Command::new(binary)
        .args([
            "--port",
            &port.to_string(),
            "--dir",
            &folder.display().to_string(),
        ])
        .current_dir(&folder)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let peer = Peer {
        child,
        folder,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&peer.base).call().is_err() {
        if Instant::now() > deadline {
            return Err(BenchError::Setup("pouchdb-server did not start".into()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    ureq::put(&format!("{}/visits", peer.base)).call()?;
    Ok(peer)
}

/// `clients` clients each store `docs_each` visit documents in batches of `batch`;
/// documents per second.
pub fn measure(
    binary: &PathBuf,
    clients: usize,
    docs_each: usize,
    batch: usize,
) -> Result<f64, BenchError> {
    let peer = start(binary)?;
    let url = format!("{}/visits/_bulk_docs", peer.base);
    let begin = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (url, begin) = (url.clone(), Arc::clone(&begin));
            std::thread::spawn(move || -> Result<usize, BenchError> {
                let street = uuid::Uuid::new_v4();
                let batches: Vec<Value> = (0..docs_each)
                    .collect::<Vec<_>>()
                    .chunks(batch)
                    .map(|chunk| {
                        let docs: Vec<Value> = chunk
                            .iter()
                            .map(|n| {
                                json!({"_id": uuid::Uuid::new_v4(), "kind": "visit",
                                       "street_id": street, "household_id": uuid::Uuid::new_v4(),
                                       "campaign_id": street, "outcome": "installed_now",
                                       "visited_at": "2020-08-18T09:30:00+07:00",
                                       "smartphone_users": 3, "app_users": n % 3,
                                       "device": format!("phone-{c}")})
                            })
                            .collect();
                        json!({"docs": docs})
                    })
                    .collect();
                begin.wait();
                let mut stored = 0;
                for body in batches {
                    let answer: Vec<Value> = ureq::post(&url).send_json(body)?.into_json()?;
                    stored += answer.iter().filter(|r| r["ok"] == json!(true)).count();
                }
                Ok(stored)
            })
        })
        .collect();
    begin.wait();
    let started = Instant::now();
    let mut stored = 0;
    for thread in threads {
        stored += thread
            .join()
            .map_err(|_| BenchError::Setup("a peer client panicked".into()))??;
    }
    let rate = stored as f64 / started.elapsed().as_secs_f64();
    if stored != clients * docs_each {
        return Err(BenchError::Setup(format!(
            "pouchdb-server stored {stored} of {} documents",
            clients * docs_each
        )));
    }
    drop(peer);
    Ok(rate)
}
