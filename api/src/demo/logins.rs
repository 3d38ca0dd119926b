//! What the demo prints once it is ready: the URL, the logins and the password.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use super::campaign::{Built, CAMPAIGN_NAME};
use super::client::base_url;
use super::people::Login;
use crate::db::DbTarget;

fn row(out: &mut String, username: &str, role: &str, area: &str) {
    let _ = writeln!(out, "  {username:<28} {role:<12} {area}");
}

fn user_row(out: &mut String, login: &Login) {
    row(
        out,
        &login.user.username,
        login.user.role.as_str(),
        &login.area_name,
    );
}

/// Where the data is, without a PostgreSQL password.
fn database_text(database: &DbTarget) -> String {
    match database {
        DbTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DbTarget::SqliteMemory => "sqlite::memory: (gone when the demo stops)".into(),
        DbTarget::Postgres(url) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}://…@{}", &url[..scheme], &url[at + 1..])
            }
            _ => url.clone(),
        },
    }
}

/// The whole summary, as printed on stdout.
pub fn summary(built: &Built, database: &DbTarget, addr: SocketAddr, took: Duration) -> String {
    let s = &built.stats;
    let streets: usize = built.world.wards.iter().map(|w| w.streets.len()).sum();
    let houses: usize = built
        .world
        .wards
        .iter()
        .flat_map(|w| &w.streets)
        .map(|st| st.houses.iter().filter(|h| h.registered).count())
        .sum::<usize>()
        + s.houses_found;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ncanvass demo: campaign \"{CAMPAIGN_NAME}\" ({}), target 60%, 2020-08-17 to \
         2020-08-20, Asia/Ho_Chi_Minh",
        built.campaign
    );
    let _ = writeln!(
        out,
        "  {} wards, {streets} streets, {houses} households; {} visits synced by simulated \
         phones in {} pushes and {} pulls",
        built.world.wards.len(),
        s.visits,
        s.pushes,
        s.pulls
    );
    let _ = writeln!(
        out,
        "  {} phones offline for a day synced late, {} visits edited from two devices, {} \
         houses added from phones, {} visits verified and {} rejected by ward leaders, {} \
         changes refused",
        s.late_phones, s.conflicts, s.houses_found, s.verified, s.rejected, s.refused
    );
    let _ = writeln!(out, "  built in {:.1} s", took.as_secs_f64());
    let _ = writeln!(out, "  database: {}", database_text(database));
    if let Some(folder) = &built.kept_in {
        let _ = writeln!(
            out,
            "  (a temporary folder: {} ; delete it when done)",
            folder.display()
        );
    }
    let _ = writeln!(
        out,
        "\nLogins (every one with the password {:?}):",
        built.password
    );
    row(&mut out, "username", "role", "area");
    row(&mut out, &built.admin, "admin", "-");
    for login in &built.people.supervisors {
        user_row(&mut out, login);
    }
    for ward in &built.world.wards {
        let code = &ward.area.code;
        if let Some(leader) = built.people.leaders.get(code) {
            user_row(&mut out, leader);
        }
        let volunteers = built.people.volunteers.get(code).map_or(0, Vec::len);
        let names = match volunteers {
            0 => continue,
            1 => format!("tnv.{code}.1"),
            n => format!("tnv.{code}.1 … tnv.{code}.{n}"),
        };
        row(&mut out, &names, "volunteer", &ward.area.name);
    }
    let _ = writeln!(
        out,
        "\nThe campaign's dashboard: {}/campaigns/{} (sign in with any login above)",
        base_url(addr),
        built.campaign
    );
    let _ = writeln!(
        out,
        "canvass demo ready at {}  (Ctrl-C stops it)",
        base_url(addr)
    );
    out
}

/// Prints the summary on stdout.
pub fn print(built: &Built, database: &DbTarget, addr: SocketAddr, took: Duration) {
    print!("{}", summary(built, database, addr, took));
}
