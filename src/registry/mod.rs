//! The register: internal services, the company's exporting [`entities`], parties (vendors and
//! affiliates), their [`agreements`] and their grants. Each
//! part keeps its model in `mod.rs`, its table in `store.rs` and its changes in
//! `commands.rs`; the party lifecycle (trust, four eyes, suspension, offboarding, withdrawal
//! from an upstream list) has one home, [`lifecycle`]; [`export`] reads parties with their
//! grants for the exports, [`sub_processor_list`] a service's published sub-processors.

pub mod agreements;
pub mod checks;
pub mod entities;
pub mod export;
pub mod grants;
pub mod lifecycle;
pub mod parties;
pub mod reminders;
pub mod services;
pub mod sub_processor_list;
