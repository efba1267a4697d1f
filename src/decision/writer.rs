//! Group commit: one ledger writer per node takes decisions from a queue and writes each batch
//! in one transaction — one fsync, one head lock, one revision check — then answers every
//! request in it. Nothing is answered before its batch is durable; a batch that cannot be
//! written answers 503 to all of its requests and approves nothing.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde_json::Value;
use tokio::sync::oneshot;

use super::batch::{self, Idempotency, Made};
use super::engine;
use super::snapshot::Snapshot;
use crate::db::{self, Pool};
use crate::error::DomainError;
use crate::metrics::Metrics;

/// Requests waiting beyond this many are refused with 503 rather than queued without bound.
const QUEUE: usize = 8192;

struct Job {
    actor: Value,
    request: engine::Request,
    idempotency: Option<Idempotency>,
    reply: oneshot::Sender<Result<Made, DomainError>>,
}

/// The handle handlers submit decisions to. Dropping it stops the writer.
pub struct Writer {
    jobs: SyncSender<Job>,
}

impl Writer {
    /// Starts the writer thread. `max_batch` 1 commits every decision on its own.
    pub fn start(
        pool: Pool,
        snapshot: Arc<RwLock<Arc<Snapshot>>>,
        metrics: Arc<Metrics>,
        max_batch: usize,
        gate: Arc<parking_lot::Mutex<()>>,
        signing: Signing,
    ) -> Writer {
        let (jobs, queue) = sync_channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || {
                run(
                    queue,
                    pool,
                    snapshot,
                    metrics,
                    max_batch.max(1),
                    gate,
                    signing,
                )
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the ledger writer");
        }
        Writer { jobs }
    }

    /// Decides `request` in the next batch and waits until that batch is durable.
    pub async fn decide(
        &self,
        actor: Value,
        request: engine::Request,
        idempotency: Option<Idempotency>,
    ) -> Result<Made, DomainError> {
        let (reply, answer) = oneshot::channel();
        match self.jobs.try_send(Job {
            actor,
            request,
            idempotency,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(DomainError::Unavailable(
                    "the decision queue is full".into(),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(DomainError::Unavailable("the ledger writer stopped".into()));
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(DomainError::Unavailable("the ledger writer stopped".into())))
    }
}

/// The key that signs checkpoints, and how many entries may stay unsigned.
pub struct Signing {
    pub keys: Arc<crate::ledger::signing::LedgerKeys>,
    pub every: i64,
    /// Whether transfer checks decide or only advise.
    pub enforcement: crate::transfers::Enforcement,
}

fn run(
    queue: Receiver<Job>,
    pool: Pool,
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
    metrics: Arc<Metrics>,
    max_batch: usize,
    gate: Arc<parking_lot::Mutex<()>>,
    signing: Signing,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let size = batch.len();
        let (replies, work): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|j| (j.reply, (j.actor, j.request, j.idempotency)))
            .unzip();
        let turn = gate.lock();
        // A bug that panics inside a batch must not stop the node deciding: the batch's
        // connection is discarded by the pool (its transaction rolled back), its requests are
        // answered 503 like any batch that could not be written, and the writer goes on.
        let attempt = std::panic::AssertUnwindSafe(|| {
            pool.get().map_err(DomainError::from).and_then(|mut conn| {
                db::write_tx(&mut conn, |conn| {
                    let mut writes = batch::Batch::begin(conn, signing.enforcement)?;
                    let snap = batch::current_snapshot(conn, &snapshot, writes.ledger.revision())?;
                    let mut results = Vec::with_capacity(work.len());
                    for (actor, request, idempotency) in work {
                        results.push(batch::decide_one(
                            conn,
                            &mut writes,
                            &snap,
                            &actor,
                            request,
                            idempotency,
                        )?);
                    }
                    let due = writes.ledger.checkpoint_due(signing.every);
                    writes.finish(conn)?;
                    if due {
                        crate::ledger::checkpoints::issue(conn, &signing.keys)?;
                    }
                    Ok::<_, DomainError>(results)
                })
            })
        });
        let outcome = std::panic::catch_unwind(attempt)
            .unwrap_or_else(|_| Err(DomainError::Unavailable("the decision batch failed".into())));
        // A register change waiting for its turn gets it before the next batch.
        parking_lot::MutexGuard::unlock_fair(turn);
        match outcome {
            Ok(results) => {
                metrics.ledger_commit(size, started.elapsed().as_secs_f64());
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, batch = size, "decision batch not written");
                for reply in replies {
                    let _ = reply.send(Err(match &e {
                        DomainError::LedgerIntegrity(problem) => {
                            DomainError::LedgerIntegrity(problem.clone())
                        }
                        _ => DomainError::Unavailable("the ledger cannot be written".into()),
                    }));
                }
            }
        }
    }
}
