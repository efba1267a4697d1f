//! In-process integration tests. Every test runs on SQLite, and also on PostgreSQL when
//! `TEST_DATABASE_URL` is set; each run gets a database of its own.

mod helpers;

mod audit_trust;
mod auth;
mod decisions;
mod errors;
mod exports;
mod grants;
mod imports;
mod ledger;
mod matrix;
mod nodes;
mod openapi;
mod parties;
mod races;
mod services;
mod taxonomy;
mod tokens;
