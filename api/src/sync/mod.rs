//! Offline sync on the server: ingesting changes (push, review, household import) and
//! serving them back (pull), with `sync-protocol` deciding every rule and merge.

pub mod coverage_keeper;
pub mod derive;
pub mod figures;
pub mod ingest;
pub mod new_households;
pub mod progress;
