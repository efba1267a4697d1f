//! Disclosures outside the grants (docs/DISCLOSURES.md): [`legal`] process — a subpoena, a
//! court order, a demand from an authority anywhere — judged against the statutes that gate it
//! and recorded before the answer; and [`incidents`] — a breach at a party, which suspends it,
//! measures its exposure from the recorded decisions, and carries the notification duties that
//! follow. Both are ledger entries, not register changes; only an incident's suspension is one.
//!
//! No field here holds a data-subject identifier: the targets of a demand stay in counsel's
//! case file, named by `reference`.

pub mod incidents;
pub mod legal;

/// An idempotency key with the hash of the body it came with, scoped to the filing principal.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// What a filing produced: a new object, or the one an earlier filing with the same key made.
#[derive(Debug)]
pub enum Filed<T> {
    New(T),
    Replayed(T),
}
