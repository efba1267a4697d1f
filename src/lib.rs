//! vendor-registry: the register of trusted third parties and affiliates, and the service that
//! decides whether personal data may be shared with them.
//!
//! [`app`] builds the whole HTTP application around an [`AppState`], so tests run it in process;
//! `main.rs` adds the command line.

pub mod auth;
pub mod config;
pub mod db;
pub mod decision;
pub mod docs;
pub mod error;
pub mod exports;
pub mod extract;
pub mod health;
pub mod imports;
pub mod jcs;
pub mod keyfile;
pub mod ledger;
pub mod metrics;
pub mod middleware;
pub mod offline;
pub mod openapi;
pub mod pagination;
pub mod registry;
pub mod routes;
pub mod schema;
pub mod streaming;
pub mod taxonomy;
pub mod time;

use actix_web::body::BoxBody;
use actix_web::dev::{ResourceDef, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::error::ApiError;

/// What every request handler shares: the pool, the token keys, the spec.
pub struct AppState {
    pub pool: db::Pool,
    pub keys: auth::AuthKeys,
    /// The key that signs checkpoints, and the keys trusted to have signed older ones.
    pub ledger_keys: std::sync::Arc<ledger::signing::LedgerKeys>,
    pub target: db::Target,
    pub openapi_json: String,
    /// The register as decisions read it; replaced when the register revision moves.
    pub snapshot: std::sync::Arc<std::sync::RwLock<std::sync::Arc<decision::snapshot::Snapshot>>>,
    /// Where SQLite keeps its files, and the free space below which the node is not ready.
    disk_guard: Option<(std::path::PathBuf, u64)>,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// The node's ledger writer, which group-commits decisions.
    writer: decision::writer::Writer,
    /// Taken around every write transaction of this process and handed over fairly, so a
    /// register change is not starved by a stream of decision batches (SQLite's own lock is
    /// polled, not queued).
    write_gate: std::sync::Arc<parking_lot::Mutex<()>>,
    /// False after a write failed for want of storage, until a write succeeds again.
    pub writable: std::sync::atomic::AtomicBool,
    /// Every documented path with its methods, to tell 405 from 404.
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl AppState {
    /// Opens storage (creating and migrating it), seeds the taxonomy, and loads the keys.
    pub fn open(config: &config::Config) -> Result<AppState, String> {
        let target = config.target();
        let pool = db::pool(&target, config.pool_size)
            .map_err(|e| format!("cannot open the database: {e}"))?;
        {
            let mut conn = pool
                .get()
                .map_err(|e| format!("cannot open the database: {e}"))?;
            db::migrate(&mut conn).map_err(|e| format!("cannot migrate the database: {e}"))?;
            db::write_tx(&mut conn, taxonomy::seed::ensure)
                .map_err(|e| format!("cannot seed the taxonomy: {e}"))?;
        }
        let keys = auth::AuthKeys::load(&config.jwt, &config.data_dir)?;
        let ledger_keys = std::sync::Arc::new(ledger::signing::LedgerKeys::load(
            config.ledger_key.as_deref(),
            &config.data_dir,
            &config.ledger_trusted_keys,
        )?);
        let spec = openapi();
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        let openapi_json = openapi_json(&spec);
        let snapshot = {
            let mut conn = pool
                .get()
                .map_err(|e| format!("cannot open the database: {e}"))?;
            decision::snapshot::load_current(&mut conn, &Default::default())
                .map_err(|e| format!("cannot load the register: {e}"))?
        };
        let snapshot = std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(snapshot)));
        let metrics = std::sync::Arc::new(metrics::Metrics::default());
        let write_gate = std::sync::Arc::new(parking_lot::Mutex::new(()));
        let writer = decision::writer::Writer::start(
            pool.clone(),
            snapshot.clone(),
            metrics.clone(),
            config.decision_batch,
            write_gate.clone(),
        );
        Ok(AppState {
            pool,
            keys,
            ledger_keys,
            target,
            openapi_json,
            snapshot,
            writable: std::sync::atomic::AtomicBool::new(true),
            metrics,
            writer,
            write_gate,
            disk_guard: (!config.target().is_postgres())
                .then(|| (config.data_dir.clone(), config.min_free_bytes)),
            routes,
        })
    }

    /// Runs a read on a pooled connection, off the async workers.
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&mut db::DbConn) -> Result<T, E> + Send + 'static,
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

    /// Runs `f` in one write transaction on a pooled connection, off the async workers.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut db::DbConn) -> Result<T, ApiError> + Send + 'static,
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
                db::lock_ledger_head(conn)?;
                f(conn)
            })
        })
        .await?;
        match &result {
            Ok(_) => self
                .writable
                .store(true, std::sync::atomic::Ordering::Relaxed),
            Err(ApiError::Unavailable(_)) => self
                .writable
                .store(false, std::sync::atomic::Ordering::Relaxed),
            Err(_) => {}
        }
        result
    }

    /// Decides in the next group commit, tracking whether storage takes writes.
    pub async fn decide(
        &self,
        actor: serde_json::Value,
        request: decision::engine::Request,
        idempotency: Option<decision::store::Idempotency>,
    ) -> Result<decision::store::Made, ApiError> {
        let result = self.writer.decide(actor, request, idempotency).await;
        match &result {
            Err(ApiError::Unavailable(_)) => self
                .writable
                .store(false, std::sync::atomic::Ordering::Relaxed),
            _ => self
                .writable
                .store(true, std::sync::atomic::Ordering::Relaxed),
        }
        result
    }

    /// Whether storage takes writes: known good unless a write failed, then probed again.
    pub async fn ready(&self) -> bool {
        if self.read(ledger::head).await.is_err() {
            return false;
        }
        if let Some((dir, min)) = &self.disk_guard
            && rustix::fs::statvfs(dir).is_ok_and(|s| s.f_bavail.saturating_mul(s.f_frsize) < *min)
        {
            return false;
        }
        if self.writable.load(std::sync::atomic::Ordering::Relaxed) {
            return true;
        }
        self.write(|conn| db::probe_write(conn).map_err(ApiError::from))
            .await
            .is_ok()
    }
}

/// The OpenAPI document, collected from the registered handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    openapi::add_standard_errors(&mut api);
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api
}

/// The document as served and committed (`openapi/openapi.json`).
pub fn openapi_json(api: &utoipa::openapi::OpenApi) -> String {
    let mut text = api.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// The whole application.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(routes::configure)
        .split_for_parts();
    app.app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::BadRequest(format!("A query parameter is malformed: {err}.")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .configure(docs::configure)
        .default_service(web::to(fallback))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
}

/// No route matched: 405 when the path exists with other methods, else 404.
async fn fallback(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<String, ApiError> {
    let allowed: Vec<Method> = state
        .routes
        .iter()
        .filter(|(def, _)| def.is_match(req.path()))
        .flat_map(|(_, methods)| methods.iter().cloned())
        .collect();
    if allowed.is_empty() {
        Err(ApiError::NotFound)
    } else {
        Err(ApiError::MethodNotAllowed(allowed))
    }
}
