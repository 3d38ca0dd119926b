//! The runs, and the table they print.

use std::path::Path;
use std::time::Duration;

use crate::backend::{Backend, Database};
use crate::fleet::{FleetPlan, PHONES_PER_VOLUNTEER};
use crate::limit::Keys;
use crate::phone::VisitIds;
use crate::server::{canvass_binary, verify, Server};
use crate::world::Plan;
use crate::{coverage, fleet, ingest, limit, peer, pull, world, BenchError};

/// A group of rows of the table, to run alone while working on what it measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The peer, the limit, ingest and edits.
    Ingest,
    /// Pull cost at two sizes, and memory.
    Pull,
    /// Coverage reads against a recount.
    Coverage,
}

/// The sizes of one run.
struct Sizes {
    ingest: Plan,
    edits_each: usize,
    pull_small: (Plan, u32),
    pull_large: (Plan, u32),
    coverage: (usize, usize, usize),
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            return Sizes {
                ingest: Plan {
                    volunteers: 4,
                    streets_each: 2,
                    households_per_street: 250,
                },
                edits_each: 500,
                pull_small: (
                    Plan {
                        volunteers: 2,
                        streets_each: 2,
                        households_per_street: 600,
                    },
                    1,
                ),
                pull_large: (
                    Plan {
                        volunteers: 2,
                        streets_each: 2,
                        households_per_street: 600,
                    },
                    4,
                ),
                coverage: (1, 1, 10),
            };
        }
        Sizes {
            // 40,000 households, one new visit each, from 4 phones.
            ingest: Plan {
                volunteers: 4,
                streets_each: 10,
                households_per_street: 1_000,
            },
            edits_each: 10_000,
            // 10,000 visits, and 1,000,000 visits (100,000 households visited ten times).
            pull_small: (
                Plan {
                    volunteers: 4,
                    streets_each: 5,
                    households_per_street: 500,
                },
                1,
            ),
            pull_large: (
                Plan {
                    volunteers: 4,
                    streets_each: 25,
                    households_per_street: 1_000,
                },
                10,
            ),
            // 106,140 streets, 2,122,800 households (200 a ward, where real wards have
            // about 2,500), a visit to one in three.
            coverage: (10, 20, 3),
        }
    }

    fn visits(&self) -> usize {
        let p = self.ingest;
        p.volunteers * p.streets_each * p.households_per_street
    }
}

fn per_second(rate: f64) -> String {
    format!("{rate:>12.0}")
}

fn ms(d: Duration) -> String {
    format!("{:>9.1} ms", d.as_secs_f64() * 1000.0)
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}

/// Runs every measurement on `backends` and prints the table.
pub fn run(backends: &[Backend], quick: bool, only: &[Part]) -> Result<(), BenchError> {
    let wanted = |part: Part| only.is_empty() || only.contains(&part);
    let sizes = Sizes::new(quick);
    let binary = canvass_binary()?;
    println!(
        "canvass-bench on {}{}",
        machine(),
        if quick {
            " (quick: figures mean nothing)"
        } else {
            ""
        }
    );
    let peer_rate = match peer::find().filter(|_| wanted(Part::Ingest)) {
        Some(path) => {
            let per_client = sizes.visits() / 4;
            let rate = peer::measure(&path, 4, per_client, ingest::PUSH_BATCH)?;
            println!("peer       pouchdb-server _bulk_docs, 4 clients × {per_client} docs in batches of 500: {rate:.0} docs/s");
            Some(rate)
        }
        None if wanted(Part::Ingest) => {
            println!("peer       pouchdb-server is not installed (npm install --prefix target/peer pouchdb-server): no peer figures");
            None
        }
        None => None,
    };
    for backend in backends {
        println!();
        println!("== {} ==", backend.name());
        if wanted(Part::Ingest) {
            ingest_rows(&binary, *backend, &sizes, peer_rate)?;
        }
        if wanted(Part::Pull) {
            pull_rows(&binary, *backend, &sizes)?;
        }
        if wanted(Part::Coverage) {
            coverage_row(&binary, *backend, &sizes)?;
        }
    }
    Ok(())
}

/// The limit, ingest and edits.
fn ingest_rows(
    binary: &Path,
    backend: Backend,
    sizes: &Sizes,
    peer_rate: Option<f64>,
) -> Result<(), BenchError> {
    let limits = Database::create(backend)?;
    let v7 = limit::measure(&limits, sizes.visits(), Keys::TimeOrdered)?;
    let v4 = limit::measure(&limits, sizes.visits(), Keys::Random)?;
    drop(limits);
    let (limit_v7, limit_v4) = (v7.rate, v4.rate);
    println!(
        "limit      raw upsert, UUIDv7 keys  {} rows/s{}{}",
        per_second(limit_v7),
        cpu_per_row(v7.cpu_per_row, backend),
        log_copier(&v7)
    );
    println!(
        "limit      raw upsert, random keys  {} rows/s{}{}   (v7/random {:.2})",
        per_second(limit_v4),
        cpu_per_row(v4.cpu_per_row, backend),
        log_copier(&v4),
        limit_v7 / limit_v4
    );

    let (database, server, built, phones) =
        pushing_world(binary, backend, sizes.ingest, VisitIds::TimeOrdered)?;
    let cpu_before = CpuReading::take(&server, backend);
    let (phones, ingest_rate) = ingest::push_new_visits(phones, &built, 1)?;
    let cpu_ingest = CpuReading::take(&server, backend);
    let peer_ratio = peer_rate.map_or(String::new(), |p| {
        format!("   canvass/peer {:.2}", ingest_rate / p)
    });
    println!(
        "ingest     {} new visits, {} phones, batches of 500 {} changes/s   ingest/limit {:.2}{}{}",
        sizes.visits(),
        phones.len(),
        per_second(ingest_rate),
        ingest_rate / limit_v7,
        peer_ratio,
        cpu_before.per_change(&cpu_ingest, sizes.visits())
    );
    let edits = sizes.edits_each * phones.len();
    let (_, edit_rate) = ingest::push_edits(phones, built.campaign, sizes.edits_each, 1)?;
    println!(
        "edits      2–3 fields of existing visits  {} changes/s   edits/limit {:.2}{}",
        per_second(edit_rate),
        edit_rate / limit_v7,
        cpu_ingest.per_change(&CpuReading::take(&server, backend), edits)
    );
    drop(server);
    check(binary, &database)?;

    // The same push with the random visit ids of an app that draws its own (UUIDv4), on
    // a fresh database: what the Replica's time-ordered ids save the server.
    let (database, server, built, phones) =
        pushing_world(binary, backend, sizes.ingest, VisitIds::Random)?;
    let cpu_before = CpuReading::take(&server, backend);
    let (_, random_rate) = ingest::push_new_visits(phones, &built, 1)?;
    println!(
        "ingest     the same, random visit ids (UUIDv4) {} changes/s   ingest/limit {:.2}   v7/random {:.2}{}",
        per_second(random_rate),
        random_rate / limit_v7,
        ingest_rate / random_rate,
        cpu_before.per_change(&CpuReading::take(&server, backend), sizes.visits())
    );
    drop(server);
    check(binary, &database)
}

/// A server on a fresh database with the world of `plan`, and one signed-in phone per
/// volunteer that picks visit ids as `ids` says.
fn pushing_world(
    binary: &Path,
    backend: Backend,
    plan: Plan,
    ids: VisitIds,
) -> Result<(Database, Server, world::World, Vec<crate::phone::Phone>), BenchError> {
    let database = Database::create(backend)?;
    let server = Server::start(binary, &database)?;
    let built = world::build(&server.base, plan)?;
    let mut phones = ingest::phones(&server.base, &built)?;
    for phone in &mut phones {
        phone.visit_ids = ids;
    }
    Ok((database, server, built, phones))
}

/// The limit's CPU time per row, where it was measured.
/// Which way of copying SQLite's log was the faster, when it was a thread of its own.
fn log_copier(limit: &limit::Limit) -> &'static str {
    if limit.log_copied_by_thread {
        ", log copied by a thread"
    } else {
        ""
    }
}

fn cpu_per_row(cpu: Option<Duration>, backend: Backend) -> String {
    let whose = match backend {
        Backend::Sqlite => "CPU",
        Backend::Postgres => "PostgreSQL CPU",
    };
    cpu.map_or(String::new(), |cpu| {
        format!("   {whose} {:.0} µs/row", cpu.as_secs_f64() * 1e6)
    })
}

/// The CPU time so far of the server, of the bench's own process (its phones), and of
/// PostgreSQL's processes when it runs here.
struct CpuReading {
    server: Option<Duration>,
    phones: Option<Duration>,
    postgres: Option<Duration>,
}

impl CpuReading {
    fn take(server: &Server, backend: Backend) -> CpuReading {
        CpuReading {
            server: server.cpu_time(),
            phones: crate::cpu::of_process(std::process::id()),
            postgres: match backend {
                Backend::Postgres => crate::cpu::of_postgres(),
                Backend::Sqlite => None,
            },
        }
    }

    /// The CPU time per change of each between this reading and `after`, where both read.
    fn per_change(&self, after: &CpuReading, changes: usize) -> String {
        let each = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
            (Some(before), Some(after)) if changes > 0 => {
                Some(after.saturating_sub(before).as_secs_f64() * 1e6 / changes as f64)
            }
            _ => None,
        };
        let mut text = String::new();
        if let Some(server) = each(self.server, after.server) {
            text.push_str(&format!("   server CPU {server:.0} µs/change"));
        }
        if let Some(phones) = each(self.phones, after.phones) {
            text.push_str(&format!(", phones {phones:.0}"));
        }
        if let Some(postgres) = each(self.postgres, after.postgres) {
            text.push_str(&format!(", PostgreSQL {postgres:.0}"));
        }
        text
    }
}

/// Pull cost at 10k and 1M visits, and the server's memory at 1M.
fn pull_rows(binary: &Path, backend: Backend, sizes: &Sizes) -> Result<(), BenchError> {
    let (small, small_full, _) = pull_run(binary, backend, sizes.pull_small)?;
    let (large, large_full, rss) = pull_run(binary, backend, sizes.pull_large)?;
    let count =
        |(p, v): (Plan, u32)| p.volunteers * p.streets_each * p.households_per_street * v as usize;
    println!(
        "pull       {} changed of {} visits {}   of {} visits {}   ratio {:.2}",
        pull::CHANGED,
        count(sizes.pull_small),
        ms(small),
        count(sizes.pull_large),
        ms(large),
        large.as_secs_f64() / small.as_secs_f64()
    );
    println!(
        "pull       a new phone's first pull of its share: {} and {}",
        ms(small_full),
        ms(large_full)
    );
    println!(
        "memory     server peak RSS with {} visits: {:.0} MiB",
        count(sizes.pull_large),
        rss as f64 / 1024.0 / 1024.0
    );
    Ok(())
}

/// National coverage reads against a full recount.
fn coverage_row(binary: &Path, backend: Backend, sizes: &Sizes) -> Result<(), BenchError> {
    let database = Database::create(backend)?;
    let server = Server::start(binary, &database)?;
    let (streets, houses, every) = sizes.coverage;
    let figures = coverage::measure(binary, &database, &server, streets, houses, every)?;
    println!(
        "coverage   63 provinces, 10,614 wards, {} visits: one province p50 {} p99 {}; national {}   recount {}   national/recount {:.4}",
        figures.visits,
        ms(figures.read_p50),
        ms(figures.read_p99),
        ms(figures.national),
        ms(figures.recount),
        figures.national.as_secs_f64() / figures.recount.as_secs_f64()
    );
    Ok(())
}

/// A database of `plan` with `visits_each` visits per household: the pull cost of 1,000
/// changed records, a full first pull, and the server's peak RSS.
fn pull_run(
    binary: &Path,
    backend: Backend,
    (plan, visits_each): (Plan, u32),
) -> Result<(Duration, Duration, u64), BenchError> {
    let database = Database::create(backend)?;
    let server = Server::start(binary, &database)?;
    let built = world::build(&server.base, plan)?;
    let phones = ingest::phones(&server.base, &built)?;
    let (mut phones, _) = ingest::push_new_visits(phones, &built, visits_each)?;
    let (cost, full) = pull::measure(&server.base, &built, &mut phones[0])?;
    let rss = server.peak_rss().unwrap_or(0);
    drop(server);
    check(binary, &database)?;
    Ok((cost, full, rss))
}

fn check(binary: &Path, database: &Database) -> Result<(), BenchError> {
    let (clean, _) = verify(binary, database)?;
    if clean {
        Ok(())
    } else {
        Err(BenchError::Setup(
            "canvass verify found counters off a recount".into(),
        ))
    }
}

/// Runs the fleet simulator on each backend.
pub fn fleet(
    backends: &[Backend],
    phones: usize,
    rounds: u32,
    seed: u64,
) -> Result<(), BenchError> {
    let binary = canvass_binary()?;
    for backend in backends {
        let database = Database::create(*backend)?;
        let server = Server::start(&binary, &database)?;
        let plan = Plan {
            volunteers: phones.div_ceil(PHONES_PER_VOLUNTEER).max(1),
            streets_each: 2,
            households_per_street: 25,
        };
        let built = world::build(&server.base, plan)?;
        let report = fleet::run(
            &server.base,
            &built,
            FleetPlan {
                rounds,
                threads: 8,
                seed,
            },
        )?;
        drop(server);
        let (clean, _) = verify(&binary, &database)?;
        let [p50, p90, p99, max] = report.latency;
        println!(
            "fleet {}: {} phones, {} rounds, {} syncs in {:.1} s; sync latency p50 {} p90 {} p99 {} max {}; {} answers lost, {} stale pushes delivered late; replicas converged; canvass verify {}",
            backend.name(),
            report.phones,
            rounds,
            report.syncs,
            report.wall.as_secs_f64(),
            ms(p50).trim(),
            ms(p90).trim(),
            ms(p99).trim(),
            ms(max).trim(),
            report.lost_answers,
            report.stale_redeliveries,
            if clean { "clean" } else { "FOUND MISMATCHES" }
        );
        if !clean {
            return Err(BenchError::Setup(
                "canvass verify found counters off a recount".into(),
            ));
        }
    }
    Ok(())
}
