//! The audit endpoints: events, verification, checkpoints, proofs, export.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Auth;
use super::error::ApiError;
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use crate::auth::{AuditRead, DecisionRead};
use crate::ledger::chain::VerifyReport;
use crate::ledger::proofs::{self, ConsistencyProof, InclusionProof};
use crate::ledger::signing::{Checkpoint, PublicKeys};
use crate::ledger::store::{checkpoint_page, list};
use crate::ledger::{Entry, checkpoints, verify::verify_log, witness};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only entries with a greater `seq`.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// Only entries with this action, e.g. `party.created`.
    #[param(schema_with = action_schema)]
    action: Option<String>,
    /// Only entries about this subject, e.g. `party:<id>`.
    subject: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The actions the ledger records, as a closed set for the spec.
fn action_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(crate::ledger::action::ALL.iter().copied()))
        .build()
}

/// List ledger entries, oldest first.
///
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(EventsQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "A page of entries.", body = Page<Entry>))
)]
#[get("/v1/audit/events")]
pub async fn events(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    if q.after_seq.is_some_and(|s| s < 0) {
        return Err(ApiError::field("after_seq", "must be 0 or more"));
    }
    if let Some(a) = &q.action
        && !crate::ledger::action::ALL.contains(&a.as_str())
    {
        return Err(ApiError::field(
            "action",
            "is not an action the ledger records (the spec lists them)",
        ));
    }
    let after = match &page.after {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::field("cursor", "is not valid"))?,
        None => 0,
    };
    let after = after.max(q.after_seq.unwrap_or(0));
    let rows = state
        .read(move |conn| {
            list(
                conn,
                after,
                q.action.as_deref(),
                q.subject.as_deref(),
                page.fetch(),
            )
            .map_err(ApiError::from)
            .and_then(|rows| {
                let entries = rows
                    .into_iter()
                    .map(|r| r.entry())
                    .collect::<Result<Vec<Entry>, _>>()?;
                Ok(page.finish(entries, |e| e.seq.to_string(), |e| e))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Verify the whole ledger.
///
/// Recomputes every entry's hash, checks that each links to the one before it and that `seq`
/// has no gap, that the log reaches its recorded head, and that it matches every signed
/// checkpoint ever issued (which catches a truncated tail and a rewritten, re-hashed chain).
/// `witnessed` names the checkpoints that carry a valid witness cosignature and by whom, and
/// `witnessed_size` the largest of them; a stored cosignature that no longer verifies against
/// its checkpoint (which was then re-signed over another history) makes the report fail. The
/// service checks every witness key it holds: an auditor names the ones they trust offline,
/// with `vendor-registry audit verify --witness-key`.
/// `volumes` rebuilds the transfer-volume counters from the approved decisions and the
/// adjustments in the ledger and names the first counter whose stored count differs (the
/// counters are a cache of the ledger; a mismatch does not make the ledger `ok: false`).
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The verification report.", body = VerifyReport))
)]
#[get("/v1/audit/verify")]
pub async fn verify(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(verify_now(&state).await?))
}

/// Verifies ledger, checkpoints, witnesses and volume counters; a failure marks integrity broken.
pub(crate) async fn verify_now(state: &AppState) -> Result<serde_json::Value, ApiError> {
    let (keys, checked) = (state.ledger_keys.clone(), state.ledger_keys.clone());
    let ((mut report, problems), witnessed, volumes) = state
        .read(move |conn| {
            let report = verify_log(conn, checked.trusted())?;
            let signed = crate::ledger::store::all_checkpoints(conn)?;
            let (witnessed, problems) =
                witness::check(&witness::attach(conn, signed)?, checked.origin(), None, 1);
            let volumes = crate::transfers::audit::rebuild(conn)?;
            Ok::<_, ApiError>(((report, problems), witnessed, volumes))
        })
        .await?;
    report.fail_with(problems);
    match report.ok {
        true => keys.integrity.pass(),
        false => keys.integrity.fail(&format!(
            "verification failed at seq {:?}",
            report.first_bad_seq
        )),
    }
    let mut body = serde_json::to_value(&report)?;
    body["witnessed"] = serde_json::to_value(&witnessed)?;
    body["volumes"] = serde_json::to_value(&volumes)?;
    Ok(body)
}

/// The latest signed checkpoint.
///
/// Signs a new one first when the ledger has grown since the last. With `Accept: text/plain`
/// (and not `application/json`) the same tree head comes as a C2SP `tlog-checkpoint` signed
/// note — origin, size, base64 RFC 6962 root, signed under the origin — that independent tools
/// verify with the `note_verifier` of `GET /v1/audit/public-key`. Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The latest signed tree head.", content(
        (Checkpoint = "application/json"),
        (String = "text/plain", example = json!("vendor-registry/3f2a9c1e0b7d4a5e\n1234\nXcnaeacGWamtVZy3Ad7Zoqudgjqt8klgz+Nw7/RgQyg=\n\n— vendor-registry/3f2a9c1e0b7d4a5e <base64 key hash and signature>\n")),
    )))
)]
#[get("/v1/audit/checkpoint")]
pub async fn checkpoint(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let keys = state.ledger_keys.clone();
    let signer = keys.clone();
    let cp = state
        .write_checking_ledger(move |conn| {
            let cp = checkpoints::issue(conn, &keys)?;
            Ok(witness::attach(conn, vec![cp])?.remove(0))
        })
        .await?;
    if wants_note(&req) {
        let note = signer
            .note(&cp)
            .ok_or_else(|| ApiError::Internal("a stored root hash is not 32 bytes".into()))?;
        return Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(note));
    }
    Ok(HttpResponse::Ok().json(cp))
}

/// `Accept` names `text/plain` and not JSON.
fn wants_note(req: &actix_web::HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/plain") && !accept.contains("json")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CheckpointsQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List every checkpoint issued, smallest first.
///
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(CheckpointsQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "A page of checkpoints.", body = Page<Checkpoint>))
)]
#[get("/v1/audit/checkpoints")]
pub async fn list_checkpoints(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    query: web::Query<CheckpointsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let after = match &page.after {
        Some(c) => c
            .parse::<i64>()
            .map_err(|_| ApiError::field("cursor", "is not valid"))?,
        None => 0,
    };
    let result = state
        .read(move |conn| {
            let rows = checkpoint_page(conn, after, page.fetch())?;
            let rows = witness::attach(conn, rows)?;
            Ok::<_, ApiError>(page.finish(rows, |c| c.size.to_string(), |c| c))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The keys that sign checkpoints.
///
/// Public: anyone may fetch them to verify checkpoints and exports offline.
#[utoipa::path(
    tag = "audit",
    responses((status = 200, description = "The signing key first, then older keys still trusted.", body = PublicKeys))
)]
#[get("/v1/audit/public-key")]
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.ledger_keys.public_keys())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// The tree size to prove against; defaults to the latest checkpoint (signed first if needed).
    #[param(minimum = 1)]
    size: Option<i64>,
}

/// Prove that an entry is in the ledger.
///
/// Returns the RFC 9162 inclusion proof of entry `seq` in the tree of `size` entries, by
/// default the latest checkpoint's. Roles: auditor, admin; a service for its own decisions.
#[utoipa::path(
    tag = "audit",
    params(("seq" = i64, Path, description = "The entry."), ProofQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DecisionRead::NAMES))),
    responses((status = 200, description = "The proof.", body = InclusionProof))
)]
#[get("/v1/audit/proof/{seq}")]
pub async fn proof(
    auth: Auth<DecisionRead>,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    query: web::Query<ProofQuery>,
) -> Result<HttpResponse, ApiError> {
    let seq = path.into_inner();
    let size = query.size;
    if seq < 1 {
        return Err(ApiError::NotFound);
    }
    let principal = auth.0;
    let keys = state.ledger_keys.clone();
    let proof = state
        .write_checking_ledger(move |conn| proofs::inclusion(conn, &keys, &principal, seq, size))
        .await?;
    Ok(HttpResponse::Ok().json(proof))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The smaller tree size (≥ 1), e.g. an old checkpoint's.
    #[param(minimum = 1)]
    from: i64,
    /// The larger tree size (≤ the ledger's size).
    #[param(minimum = 1)]
    to: i64,
}

/// Prove that the ledger only grew.
///
/// The RFC 9162 consistency proof between the trees of `from` and `to` entries: an auditor
/// holding an old checkpoint checks that the current log extends it. Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(ConsistencyQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The proof.", body = ConsistencyProof))
)]
#[get("/v1/audit/consistency")]
pub async fn consistency(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = (query.from, query.to);
    if from < 1 || from > to {
        return Err(ApiError::field("from", "must be between 1 and `to`"));
    }
    let keys = state.ledger_keys.clone();
    let answer = state
        .write_checking_ledger(move |conn| proofs::consistency(conn, &keys, from, to))
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The first entry (default 1).
    #[param(minimum = 1)]
    from_seq: Option<i64>,
    /// The last entry (default: the head).
    #[param(minimum = 1)]
    to_seq: Option<i64>,
}

/// Export the ledger as JSON Lines.
///
/// One entry per line, oldest first, streamed. Verify it offline with
/// `vendor-registry audit verify --file FILE --public-key KEY --checkpoints FILE`.
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(ExportQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The entries, one JSON object per line.", content_type = "application/x-ndjson", body = Entry))
)]
#[get("/v1/audit/export")]
pub async fn export(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = query.from_seq.unwrap_or(1);
    let to = query.to_seq.unwrap_or(i64::MAX);
    if from < 1 {
        return Err(ApiError::field("from_seq", "must be at least 1"));
    }
    if to < from {
        return Err(ApiError::field("to_seq", "must be at least from_seq"));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(super::streaming::pages(
            state.pool.clone(),
            from - 1,
            move |conn, after| {
                let rows = list(conn, after, None, None, 500)?;
                let rows: Vec<_> = rows.into_iter().filter(|r| r.seq <= to).collect();
                let next = rows.last().map(|r| r.seq);
                let mut text = String::new();
                for row in rows {
                    // A stored entry that is not JSON cuts the export, visibly.
                    text.push_str(&serde_json::to_string(&row.entry()?)?);
                    text.push('\n');
                }
                Ok((text, next))
            },
        )))
}
