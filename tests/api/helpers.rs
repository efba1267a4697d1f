//! The test harness: a freshly migrated app per test, on SQLite or on PostgreSQL (a database of
//! its own), and [`on_each_backend!`], which makes one test into two named ones.

use actix_service::boxed::{self, BoxService};
use actix_web::body::{BoxBody, to_bytes};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, init_service};
use actix_web::web;
use serde_json::{Value, json};
use vendor_registry::api::{AppState, app};
use vendor_registry::config::Config;
use vendor_registry_test_support::{Database, test_database_url, via_port};

type AppService = BoxService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>;

pub struct TestApp {
    pub backend: &'static str,
    pub config: Config,
    pub state: web::Data<AppState>,
    svc: Option<AppService>,
    pub dir: tempfile::TempDir,
    /// The test's own PostgreSQL database, dropped with the app.
    pg: Option<Database>,
    /// The administrative URL it was made from.
    pg_base: Option<String>,
}

/// Runs one test body as two named tests, `NAME::sqlite` and `NAME::postgres`, so a failure on
/// one backend never hides the other. The PostgreSQL half needs `TEST_DATABASE_URL` when the
/// tests are built; without it, it is reported as ignored.
macro_rules! on_each_backend {
    ($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        $(#[$meta])*
        mod $name {
            use super::*;

            async fn run($app: TestApp) $body

            #[actix_web::test]
            async fn sqlite() {
                run(TestApp::sqlite().await).await
            }

            #[actix_web::test]
            #[cfg_attr(
                not(test_postgres),
                ignore = "set TEST_DATABASE_URL to run on PostgreSQL too"
            )]
            async fn postgres() {
                run(TestApp::postgres().await).await
            }
        }
    };
}
pub(crate) use on_each_backend;

/// A response, with its body parsed when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as it came (for binary bodies, such as tiles).
    pub bytes: Vec<u8>,
    /// False when the body stream broke off (a streamed export cut by an error).
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("an ETag")
    }

    /// The field names of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_problem(&self) -> bool {
        self.header("content-type").as_deref() == Some("application/problem+json")
            && self.body["status"].as_u64() == Some(self.status.as_u16() as u64)
            && self.body["title"].is_string()
            && self.body["type"].is_string()
            && self.body["detail"].is_string()
    }
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        TestApp::spawn(None).await
    }

    /// An app on a PostgreSQL database of its own; fails loudly without `TEST_DATABASE_URL`.
    pub async fn postgres() -> TestApp {
        let base = test_database_url()
            .expect("TEST_DATABASE_URL must name a PostgreSQL the tests may create databases on");
        TestApp::spawn(Some(base)).await
    }

    /// The administrative PostgreSQL URL this app's database was made from (None on SQLite).
    pub fn pg_base(&self) -> Option<String> {
        self.pg_base.clone()
    }

    /// A fresh app on the same backend as this one.
    pub async fn fresh(&self) -> TestApp {
        TestApp::spawn(self.pg_base.clone()).await
    }

    pub async fn spawn(pg_base: Option<String>) -> TestApp {
        TestApp::spawn_custom(tempfile::tempdir().expect("temp dir"), pg_base, None).await
    }

    /// An app with its data in `dir`, reaching PostgreSQL through 127.0.0.1:`pg_port` when given.
    pub async fn spawn_custom(
        dir: tempfile::TempDir,
        pg_base: Option<String>,
        pg_port: Option<u16>,
    ) -> TestApp {
        TestApp::spawn_configured(dir, pg_base, pg_port, |_| {}).await
    }

    /// The same, with `configure` applied to the configuration last.
    pub async fn spawn_configured(
        dir: tempfile::TempDir,
        pg_base: Option<String>,
        pg_port: Option<u16>,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config::local(dir.path());
        config.pool_size = 4;
        config.min_free_bytes = 1024 * 1024;
        let mut pg = None;
        if let Some(base) = &pg_base {
            let db = Database::create(base, "vr_test");
            let mut url = db.url.clone();
            if let Some(port) = pg_port {
                url = via_port(&url, port);
            }
            config.database_url = Some(url);
            pg = Some(db);
        }
        let backend = if pg.is_some() { "postgres" } else { "sqlite" };
        configure(&mut config);
        let state = web::Data::new(AppState::open(&config).expect("app opens"));
        let svc = init_service(app(state.clone())).await;
        TestApp {
            backend,
            config,
            state,
            svc: Some(boxed::service(svc)),
            dir,
            pg,
            pg_base,
        }
    }

    /// Another node of the same deployment: same database, same keys, its own pool and snapshot.
    pub async fn node(&self) -> TestApp {
        let state = web::Data::new(AppState::open(&self.config).expect("node opens"));
        let svc = init_service(app(state.clone())).await;
        TestApp {
            backend: self.backend,
            config: self.config.clone(),
            state,
            svc: Some(boxed::service(svc)),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: None,
            pg_base: self.pg_base.clone(),
        }
    }

    pub fn token(&self, role: &str, sub: &str) -> String {
        self.state
            .keys
            .mint(sub, &[role.to_owned()], 3600)
            .expect("mint")
    }

    pub async fn send(&self, req: TestRequest) -> Resp {
        let svc = self.svc.as_ref().expect("service");
        let res = svc.call(req.to_request()).await.expect("the app answers");
        let status = res.status();
        let headers = res.headers().clone();
        let read = to_bytes(res.into_body()).await;
        let complete = read.is_ok();
        let bytes = read.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
            bytes: bytes.to_vec(),
            complete,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Resp {
        let mut req = TestRequest::default().method(method).uri(path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(b) = body {
            req = req
                .insert_header(("Content-Type", "application/json"))
                .set_payload(b.to_string());
        }
        if let Some(e) = if_match {
            req = req.insert_header(("If-Match", e));
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), None, None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body), None)
            .await
    }

    pub async fn post_if(&self, path: &str, token: &str, body: &Value, etag: &str) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body), Some(etag))
            .await
    }

    pub async fn patch_if(&self, path: &str, token: &str, body: &Value, etag: &str) -> Resp {
        self.request(Method::PATCH, path, Some(token), Some(body), Some(etag))
            .await
    }

    pub fn admin(&self) -> String {
        self.token("admin", "root")
    }

    pub fn alice(&self) -> String {
        self.token("procurement", "alice")
    }

    /// A third procurement officer, neither registrant nor reviewer.
    pub fn carol(&self) -> String {
        self.token("procurement", "carol")
    }

    pub fn bob(&self) -> String {
        self.token("procurement", "bob")
    }

    pub fn auditor(&self) -> String {
        self.token("auditor", "audrey")
    }

    /// Registers a service (as admin).
    pub async fn service(&self, key: &str, purposes: &[&str]) -> Value {
        let r = self
            .post(
                "/v1/services",
                &self.admin(),
                &json!({"key": key, "name": key, "purposes": purposes}),
            )
            .await;
        assert_eq!(
            r.status, 201,
            "[{}] create service: {}",
            self.backend, r.text
        );
        r.body
    }

    /// Registers one of the company's entities as admin.
    pub async fn entity(&self, key: &str, country: &str) -> Value {
        let r = self
            .post(
                "/v1/entities",
                &self.admin(),
                &json!({"key": key, "legal_name": key, "country": country}),
            )
            .await;
        assert_eq!(
            r.status, 201,
            "[{}] create entity: {}",
            self.backend, r.text
        );
        r.body
    }

    /// Registers a service operating for `entities` (already registered).
    pub async fn service_for(&self, key: &str, purposes: &[&str], entities: &[&str]) -> Value {
        let r = self
            .post(
                "/v1/services",
                &self.admin(),
                &json!({"key": key, "name": key, "purposes": purposes, "entities": entities}),
            )
            .await;
        assert_eq!(
            r.status, 201,
            "[{}] create service: {}",
            self.backend, r.text
        );
        r.body
    }

    /// Registers a party as alice, merging `overrides` into a valid body.
    pub async fn party(&self, overrides: Value) -> Value {
        let mut body = valid_party();
        for (k, v) in overrides.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let r = self.post("/v1/parties", &self.alice(), &body).await;
        assert_eq!(r.status, 201, "[{}] create party: {}", self.backend, r.text);
        r.body
    }

    /// Moves a party to `status` as bob (not its registrant).
    pub async fn set_status(&self, party: &Value, status: &str) -> Value {
        self.set_status_as(party, status, &self.bob()).await
    }

    /// Moves a party to `status` as the principal of `token`.
    pub async fn set_status_as(&self, party: &Value, status: &str, token: &str) -> Value {
        let id = party["id"].as_str().expect("id");
        let current = self.get(&format!("/v1/parties/{id}"), token).await;
        let r = self
            .post_if(
                &format!("/v1/parties/{id}/status"),
                token,
                &json!({"status": status, "reason": "test"}),
                &current.etag(),
            )
            .await;
        assert_eq!(
            r.status, 200,
            "[{}] status {status}: {}",
            self.backend, r.text
        );
        r.body
    }

    /// Grants `party` a scope as carol, a procurement officer who did not register it (once a
    /// party is trusted its registrant cannot grant it alone), and has bob approve it (a grant
    /// is relied on only once a second person approves it; four eyes, tests/api/answers.rs).
    pub async fn grant(&self, party: &Value, body: Value) -> Value {
        let id = party["id"].as_str().expect("id");
        let r = self
            .post(&format!("/v1/parties/{id}/grants"), &self.carol(), &body)
            .await;
        assert_eq!(r.status, 201, "[{}] create grant: {}", self.backend, r.text);
        self.approve(&r.body).await
    }

    /// Approves a grant as bob; answers the approved grant.
    pub async fn approve(&self, grant: &Value) -> Value {
        self.approve_as(grant, &self.bob()).await
    }

    /// Approves a grant as the principal of `token`; answers the approved grant.
    pub async fn approve_as(&self, grant: &Value, token: &str) -> Value {
        let id = grant["id"].as_str().expect("id");
        let r = self
            .post_if(
                &format!("/v1/grants/{id}/approve"),
                token,
                &json!({}),
                &format!("\"{}\"", grant["version"]),
            )
            .await;
        assert_eq!(
            r.status, 200,
            "[{}] approve grant: {}",
            self.backend, r.text
        );
        r.body
    }

    /// Files a sharing request as `service`.
    pub async fn share(&self, service: &str, body: Value) -> Resp {
        self.post(
            "/v1/sharing-requests",
            &self.token("service", service),
            &body,
        )
        .await
    }
}

pub fn valid_party() -> Value {
    json!({
        "kind": "third_party",
        "legal_name": "Acme Mail Ltd",
        "country": "CN",
        "data_locations": ["CN", "US"],
        "privacy_policy_url": "https://acme.example/privacy",
        "contact_email": "dpo@acme.example"
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The service (and its pool) first, then its database.
        self.svc.take();
        self.pg.take();
    }
}
