//! Small key-value settings the server keeps about itself (the generated JWT secret).

use diesel::prelude::*;

use super::schema::server_settings;
use super::DbConn;

/// Reads a setting.
pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    server_settings::table
        .find(key)
        .select(server_settings::value)
        .first(conn)
        .optional()
}

/// Stores a setting unless it is already set, then returns the stored value, so that two
/// processes starting at once agree on one value.
pub fn get_or_insert(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<String> {
    on_backend!(&mut *conn, |c| diesel::insert_into(server_settings::table)
        .values((
            server_settings::key.eq(key),
            server_settings::value.eq(value)
        ))
        .on_conflict(server_settings::key)
        .do_nothing()
        .execute(c))?;
    server_settings::table
        .find(key)
        .select(server_settings::value)
        .first(conn)
}
