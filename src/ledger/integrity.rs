//! What a node knows of its own ledger's integrity. Once a check finds the stored log no longer
//! matches what was signed (or a write would reuse a signed `seq`), the node signs nothing more,
//! takes no writes and reports not ready, and `/metrics` raises the alarm, until a check passes
//! again (the operator restored the log).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Integrity {
    broken: AtomicBool,
    failures: AtomicU64,
}

impl Integrity {
    /// A check failed: `problem` is logged (it names seqs and checkpoints, never content).
    pub fn fail(&self, problem: &str) {
        if !self.broken.swap(true, Ordering::SeqCst) {
            tracing::error!(
                problem,
                "the ledger fails verification: no writes, no signing"
            );
        }
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A whole check passed.
    pub fn pass(&self) {
        if self.broken.swap(false, Ordering::SeqCst) {
            tracing::warn!("the ledger verifies again: writes and signing resume");
        }
    }

    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }

    /// How many checks have failed since the node started.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}
