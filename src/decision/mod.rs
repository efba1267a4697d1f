//! Sharing decisions: "may service S share categories C with party P for purpose U, to
//! country D?" — judged by the pure [`engine`] on a [`snapshot`] of the register, recorded in
//! the ledger before the answer is sent.

pub mod engine;
pub mod few;
pub mod routes;
pub mod snapshot;
pub mod store;
pub mod writer;

#[cfg(test)]
mod tests;
