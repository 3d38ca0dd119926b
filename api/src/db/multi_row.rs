//! Multi-row statements that stay prepared. Diesel never caches `sql_query`, nor a batch
//! insert of a `Vec`, so a push prepared its big inserts anew every time. A [`MultiRow`]
//! statement's SQL depends only on how many rows it carries: diesel's statement cache
//! keeps one prepared statement per row count, and pushes of 500 reuse the same one.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A row that binds its cells, in the statement's column order, between `(` and `)`.
pub(crate) trait BindRow<DB: Backend> {
    /// Pushes the cells as bind parameters separated by commas.
    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

/// `head` `(row), (row), …` `tail`: e.g. `INSERT INTO t (a, b) VALUES` and an
/// `ON CONFLICT` clause.
pub(crate) struct MultiRow<'a, R> {
    /// Everything before the first row.
    pub(crate) head: &'a str,
    /// The rows.
    pub(crate) rows: &'a [R],
    /// Everything after the last row.
    pub(crate) tail: &'a str,
}

impl<R> QueryId for MultiRow<'_, R> {
    type QueryId = ();
    // Keyed by its SQL text in the statement cache, which is what keeps it prepared.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<R, DB> QueryFragment<DB> for MultiRow<'_, R>
where
    DB: Backend,
    R: BindRow<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.head);
        for (n, row) in self.rows.iter().enumerate() {
            out.push_sql(if n == 0 { " (" } else { ", (" });
            row.bind(&mut out)?;
            out.push_sql(")");
        }
        out.push_sql(self.tail);
        Ok(())
    }
}

impl<R, Conn> RunQueryDsl<Conn> for MultiRow<'_, R> {}

/// Pushes `$value` as a bind of SQL type `$sql_type`, after a comma unless it is first.
macro_rules! bind_cells {
    ($out:expr, $first_type:ty => $first:expr $(, $sql_type:ty => $value:expr)* $(,)?) => {{
        $out.push_bind_param::<$first_type, _>($first)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<$sql_type, _>($value)?;
        )*
    }};
}
pub(crate) use bind_cells;
