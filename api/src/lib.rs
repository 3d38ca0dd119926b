//! The `canvass` server: actix-web over SQLite or PostgreSQL (diesel), implementing the
//! wire contract in `shared/contract/API.md`.

pub mod access;
pub mod auth;
pub mod backup;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod memory;
pub mod model;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;
pub mod sync;
pub mod verify;
