//! A serving process bounds glibc's allocator (one arena per core, large buffers returned
//! to the kernel) by starting itself again in place with `GLIBC_TUNABLES`; an operator's own
//! bound is kept (api/src/memory.rs).
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use crate::common::{fresh_db, Backend, Server, ADMIN_PASSWORD};

/// The `GLIBC_TUNABLES` the server process runs with, read from the kernel.
fn tunables_of(server: &Server) -> String {
    let environ = std::fs::read(format!("/proc/{}/environ", server.child.id())).unwrap();
    environ
        .split(|b| *b == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix("GLIBC_TUNABLES="))
        .unwrap_or_default()
        .to_owned()
}

fn answers_a_login(server: &Server) {
    let answer = ureq::post(&format!("{}/api/v1/auth/login", server.base))
        .send_json(serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}));
    assert_eq!(answer.map(|r| r.status()).ok(), Some(200));
}

#[test]
fn a_server_bounds_its_allocator_in_the_process_that_was_started() {
    let db = fresh_db(Backend::Sqlite).unwrap();
    let server = Server::start(&db, &[]);
    // glibc rewrites the variable as it reads it, and Debian's glibc 2.36 shows only the
    // first tunable afterwards (it applies both): the arena bound comes first.
    let tunables = tunables_of(&server);
    let cores = std::thread::available_parallelism().unwrap().get().max(2);
    assert!(
        tunables.contains(&format!("glibc.malloc.arena_max={cores}")),
        "{tunables:?}"
    );
    // The pid the test started is the one serving: the restart replaced the program in place.
    answers_a_login(&server);
}

/// Whether the operator's bound is kept rather than added to is `memory::tunables`' unit
/// test: glibc shows only the first tunable once it has read the variable, so from outside
/// an appended bound looks the same. This one checks that the server starts and serves
/// with an operator's variable, which it hands on untouched.
#[test]
fn a_server_started_with_an_operators_arena_bound_serves_with_it() {
    let db = fresh_db(Backend::Sqlite).unwrap();
    let server = Server::start(&db, &[("GLIBC_TUNABLES", "glibc.malloc.arena_max=3")]);
    assert_eq!(tunables_of(&server), "glibc.malloc.arena_max=3");
    answers_a_login(&server);
}
