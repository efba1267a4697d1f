//! What every request handler shares: the pool, the token keys, the node's snapshot and ledger
//! writer, and whether storage takes writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::web;

use super::error::ApiError;
use crate::auth::AuthKeys;
use crate::config::Config;
use crate::db::{self, DbConn, Pool, Target};
use crate::decision::batch::{Idempotency, Made};
use crate::decision::snapshot::Snapshot;
use crate::decision::writer::{Signing, Writer};
use crate::decision::{engine, loading};
use crate::error::DomainError;
use crate::ledger::signing::LedgerKeys;
use crate::metrics::Metrics;

/// A documented method of a path, with the query parameters it takes.
pub(super) type Operation = (Method, Vec<String>);

pub struct AppState {
    pub pool: Pool,
    pub keys: AuthKeys,
    /// The key that signs checkpoints, and the keys trusted to have signed older ones.
    pub ledger_keys: Arc<LedgerKeys>,
    pub target: Target,
    pub openapi_json: String,
    /// The register as decisions read it; replaced when the register revision moves.
    pub snapshot: Arc<RwLock<Arc<Snapshot>>>,
    /// Where SQLite keeps its files, and the free space below which the node is not ready.
    disk_guard: Option<(std::path::PathBuf, u64)>,
    pub metrics: Arc<Metrics>,
    /// The node's ledger writer, which group-commits decisions.
    writer: Writer,
    /// Taken around every write transaction of this process and handed over fairly, so a
    /// register change is not starved by a stream of decision batches (SQLite's own lock is
    /// polled, not queued).
    write_gate: Arc<parking_lot::Mutex<()>>,
    /// False after a write failed for want of storage, until a write succeeds again.
    pub writable: AtomicBool,
    /// Sign a checkpoint in any write that leaves this many entries unsigned.
    checkpoint_every: i64,
    /// Whether transfer checks decide (`enforce`) or only advise (`report`).
    pub enforcement: crate::transfers::Enforcement,
    /// PIPL Art. 57's notice deadline after becoming aware of an incident, in hours.
    pub pipl_notice_hours: i64,
    /// How webhooks are accepted and delivered.
    pub webhooks: crate::webhooks::Settings,
    /// The console's sessions and its OpenID Connect provider.
    pub console: super::console::Sessions,
    /// Every documented path with its methods and each method's query parameters: to tell 405
    /// from 404, and to refuse a query parameter an operation does not take.
    pub(super) routes: Vec<(ResourceDef, Vec<Operation>)>,
}

impl AppState {
    /// Opens storage (creating and migrating it), seeds the taxonomy, and loads the keys.
    pub fn open(config: &Config) -> Result<AppState, String> {
        let pool = crate::open_storage(config, config.pool_size)?;
        let keys = AuthKeys::load(&config.jwt, &config.data_dir)?;
        let ledger_keys = Arc::new(
            LedgerKeys::load(
                config.ledger_key.as_ref(),
                &config.data_dir,
                &config.ledger_trusted_keys,
            )?
            .with_origin(config.log_origin.clone()),
        );
        let spec = super::openapi();
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ]
                .into_iter()
                .filter_map(|(m, op)| {
                    let op = op.as_ref()?;
                    let query = op
                        .parameters
                        .iter()
                        .flatten()
                        .filter(|p| {
                            matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
                        })
                        .map(|p| p.name.clone())
                        .collect();
                    Some((m, query))
                })
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        let openapi_json = super::openapi_json(&spec);
        let snapshot = {
            let mut conn = pool
                .get()
                .map_err(|e| format!("cannot open the database: {e}"))?;
            loading::load_current(&mut conn, &Default::default())
                .map_err(|e| format!("cannot load the register: {e}"))?
        };
        let snapshot = Arc::new(RwLock::new(Arc::new(snapshot)));
        let metrics = Arc::new(Metrics::default());
        let write_gate = Arc::new(parking_lot::Mutex::new(()));
        let writer = Writer::start(
            pool.clone(),
            snapshot.clone(),
            metrics.clone(),
            config.decision_batch,
            write_gate.clone(),
            Signing {
                keys: ledger_keys.clone(),
                every: config.checkpoint_every_entries,
                enforcement: config.transfer_enforcement,
            },
        );
        Ok(AppState {
            pool,
            keys,
            ledger_keys,
            target: config.target(),
            openapi_json,
            snapshot,
            writable: AtomicBool::new(true),
            metrics,
            writer,
            write_gate,
            checkpoint_every: config.checkpoint_every_entries,
            enforcement: config.transfer_enforcement,
            pipl_notice_hours: config.pipl_notice_hours,
            webhooks: config.webhooks.clone(),
            console: super::console::Sessions::load(&config.console, &config.data_dir)?,
            disk_guard: (!config.target().is_postgres())
                .then(|| (config.data_dir.clone(), config.min_free_bytes)),
            routes,
        })
    }

    /// Runs a read on a pooled connection, off the async workers.
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn).map_err(Into::into)
        })
        .await?
    }

    /// Runs the domain command `f` in one write transaction on a pooled connection, off the
    /// async workers. Refused while this node's checks find the ledger altered.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DomainError> + Send + 'static,
    {
        self.refuse_on_broken_ledger()?;
        let (keys, every) = (self.ledger_keys.clone(), self.checkpoint_every);
        self.write_checking_ledger(move |conn| {
            let value = f(conn)?;
            crate::ledger::checkpoints::sign_if_due(conn, &keys, every)?;
            Ok(value)
        })
        .await
    }

    fn refuse_on_broken_ledger(&self) -> Result<(), ApiError> {
        if self.ledger_keys.integrity.is_broken() {
            return Err(ApiError::LedgerIntegrity(
                "writes refused: the ledger failed verification".into(),
            ));
        }
        Ok(())
    }

    /// [`AppState::write`] without the refusal, for what checks the ledger itself (signing a
    /// checkpoint, a proof): the way a node finds its ledger restored.
    pub async fn write_checking_ledger<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DomainError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let gate = self.write_gate.clone();
        let result = web::block(move || {
            // The gate first, then a connection: the ledger writer takes them in that order too.
            let _turn = gate.lock();
            let mut conn = pool.get()?;
            // Every write appends to the ledger, so every write takes the ledger head's lock
            // first: writers are serialised before they read what they will change, and a
            // check-then-update (If-Match, status transitions) cannot lose a race on PostgreSQL
            // either (SQLite's immediate transactions already serialise them).
            db::write_tx(&mut conn, |conn| {
                crate::ledger::store::lock_head(conn)?;
                f(conn)
            })
        })
        .await
        .map_err(ApiError::from)?;
        self.track(&result);
        result.map_err(ApiError::from)
    }

    fn track<T>(&self, result: &Result<T, DomainError>) {
        match result {
            Ok(_) => self.writable.store(true, Ordering::Relaxed),
            Err(e) if e.is_unavailable() => self.writable.store(false, Ordering::Relaxed),
            Err(DomainError::LedgerIntegrity(problem)) => self.ledger_keys.integrity.fail(problem),
            Err(_) => {}
        }
    }

    /// Decides in the next group commit, tracking whether storage takes writes.
    pub async fn decide(
        &self,
        actor: serde_json::Value,
        request: engine::Request,
        idempotency: Option<Idempotency>,
    ) -> Result<Made, ApiError> {
        self.refuse_on_broken_ledger()?;
        let result = self.writer.decide(actor, request, idempotency).await;
        let unavailable = matches!(&result, Err(e) if e.is_unavailable());
        self.writable.store(!unavailable, Ordering::Relaxed);
        if let Err(DomainError::LedgerIntegrity(problem)) = &result {
            self.ledger_keys.integrity.fail(problem);
        }
        result.map_err(ApiError::from)
    }

    /// The documented resources that `path` names: a literal path (`/v1/sharing-requests/evaluate`)
    /// wins over a pattern it also matches (`/v1/sharing-requests/{id}`), as the router decides.
    pub(super) fn resources_of(&self, path: &str) -> Vec<&(ResourceDef, Vec<Operation>)> {
        let matching: Vec<_> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .collect();
        let literal: Vec<_> = matching
            .iter()
            .copied()
            .filter(|(def, _)| !def.pattern().is_some_and(|p| p.contains('{')))
            .collect();
        if literal.is_empty() {
            matching
        } else {
            literal
        }
    }

    /// The query parameters of `query` that the operation `method path` does not take (none
    /// when no documented operation matches: that request is answered 404 or 405 anyway).
    pub(super) fn unknown_query_parameters(
        &self,
        method: &Method,
        path: &str,
        query: &str,
    ) -> Vec<String> {
        let resources = self.resources_of(path);
        let allowed: Vec<&String> = resources
            .iter()
            .flat_map(|(_, methods)| methods.iter())
            .filter(|(m, _)| m == method)
            .flat_map(|(_, names)| names.iter())
            .collect();
        if allowed.is_empty()
            && !resources
                .iter()
                .any(|(_, ms)| ms.iter().any(|(m, _)| m == method))
        {
            return Vec::new();
        }
        let mut unknown: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, _)| k.into_owned())
            .filter(|k| !allowed.contains(&k))
            .collect();
        unknown.dedup();
        unknown
    }

    /// Whether storage takes writes: known good unless a write failed, then probed again.
    pub async fn ready(&self) -> bool {
        if self.ledger_keys.integrity.is_broken() {
            return false;
        }
        if self.read(crate::ledger::head).await.is_err() {
            return false;
        }
        if let Some((dir, min)) = &self.disk_guard
            && rustix::fs::statvfs(dir).is_ok_and(|s| s.f_bavail.saturating_mul(s.f_frsize) < *min)
        {
            return false;
        }
        if self.writable.load(Ordering::Relaxed) {
            return true;
        }
        self.write(|conn| crate::ledger::store::probe_write(conn).map_err(DomainError::from))
            .await
            .is_ok()
    }
}
