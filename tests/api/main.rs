//! In-process integration tests. Most run twice, as `NAME::sqlite` and `NAME::postgres` (see
//! `helpers::on_each_backend!`); the PostgreSQL half runs when `TEST_DATABASE_URL` is set at
//! build time and is reported as ignored otherwise. Each run gets a database of its own.

mod helpers;

mod amendments;
mod answers;
mod approvals;
mod audit_trust;
mod auth;
mod checkpoint_note;
mod console;
mod corrupt;
mod decisions;
mod disclosures;
mod errors;
mod evaluate_as_of;
mod exports;
mod grants;
mod history;
mod imports;
mod incidents;
mod integrity;
mod ledger;
mod matrix;
mod nodes;
mod openapi;
mod parties;
mod races;
mod register_import;
mod services;
mod simulations;
mod sub_processors;
mod taxonomy;
mod tokens;
mod transfer_law;
mod transfers;
mod upgrade;
mod webhooks;
mod witness;
