//! The services under both faces of the server: the API's JSON handlers and the dashboard's
//! pages call these plain functions, never each other over HTTP, and never repeat their SQL.
//!
//! Each takes a connection (inside `Db::read` or `Db::write`), the caller's [`Scope`]
//! (resolved once per request) and typed parameters, and returns typed results or an
//! [`crate::error::ApiError`]. Each checks the role table itself (403), then the ids it is
//! given (404, then 403 outside the scope), so a page cannot forget a rule the API keeps.

pub mod assignments;
pub mod campaigns;
pub mod coverage;
pub mod exports;
pub mod history;
pub mod imports;
pub mod page_token;
pub mod progress;
pub mod scope;
pub mod visits;

pub use scope::Scope;
