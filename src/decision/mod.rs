//! Sharing decisions: "may service S share categories C with party P for purpose U, to
//! country D?" — judged by the pure [`engine`] on a [`snapshot`] of the register, recorded in
//! the ledger before the answer is sent. [`writer`] group-commits them, a [`batch`] at a time;
//! [`loading`] builds the snapshot from the domains' read functions and [`follow`] keeps it
//! current across nodes.

pub mod as_of;
pub mod batch;
pub mod engine;
pub mod evaluate;
pub mod explain;
pub mod exposure;
pub mod few;
mod fingerprint;
pub mod follow;
pub mod loading;
pub mod onward;
pub mod reasons;
pub mod record;
pub mod simulate;
pub mod snapshot;
pub mod store;
pub mod verdict;
pub mod writer;

#[cfg(test)]
mod tests;
