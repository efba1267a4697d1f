//! The audit endpoints: events, verification, checkpoints, proofs, export.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::audit::Auditor;
use super::chain::VerifyReport;
use super::merkle::{self, Hash};
use super::signing::{Checkpoint, PublicKeys};
use super::{Entry, Row, checkpoints, list};
use crate::AppState;
use crate::auth::{AuditRead, Auth, DecisionRead, Role};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::pagination::{Page, PageRequest};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only entries with a greater `seq`.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// Only entries with this action, e.g. `party.created`.
    action: Option<String>,
    /// Only entries about this subject, e.g. `party:<id>`.
    subject: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List ledger entries, oldest first.
///
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(EventsQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor"]))),
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
            .map(|rows| page.finish(rows, |r| r.seq.to_string(), |r| r.entry()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Verify the whole ledger.
///
/// Recomputes every entry's hash, checks that each links to the one before it and that `seq`
/// has no gap, that the log reaches its recorded head, and that it matches every signed
/// checkpoint ever issued (which catches a truncated tail and a rewritten, re-hashed chain).
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor"]))),
    responses((status = 200, description = "The verification report.", body = VerifyReport))
)]
#[get("/v1/audit/verify")]
pub async fn verify(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let keys = state.ledger_keys.clone();
    let report = state
        .read(move |conn| verify_log(conn, keys.trusted()))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Checks the stored log page by page, so memory stays flat however long it is.
pub fn verify_log(
    conn: &mut DbConn,
    keys: &[ed25519_dalek::VerifyingKey],
) -> diesel::QueryResult<VerifyReport> {
    let (head_seq, head_hash, _) = super::head(conn)?;
    let mut auditor = Auditor::new(checkpoints::all(conn)?, keys);
    let mut after = 0;
    let mut last_hash = None;
    loop {
        let rows = list(conn, after, None, None, 1000)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        last_hash = Some(last.hash.clone());
        for row in &rows {
            auditor.push(row, Some(&row.leaf_hash));
        }
    }
    let mut report = auditor.finish(Some(head_seq));
    if report.ok && report.head_seq == head_seq && last_hash.is_some_and(|h| h != head_hash) {
        report.ok = false;
        report.first_bad_seq = Some(head_seq.max(1));
        report
            .problems
            .push("the last entry does not match the recorded head".into());
    }
    Ok(report)
}

/// The latest signed checkpoint.
///
/// Signs a new one first when the ledger has grown since the last. Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor"]))),
    responses((status = 200, description = "The latest signed tree head.", body = Checkpoint))
)]
#[get("/v1/audit/checkpoint")]
pub async fn checkpoint(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let keys = state.ledger_keys.clone();
    let cp = state
        .write(move |conn| checkpoints::issue(conn, &keys))
        .await?;
    Ok(HttpResponse::Ok().json(cp))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
    extensions(("x-roles" = json!(["admin", "auditor"]))),
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
            checkpoints::page(conn, after, page.fetch())
                .map(|rows| page.finish(rows, |c| c.size.to_string(), |c| c))
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
pub struct ProofQuery {
    /// The tree size to prove against; defaults to the latest checkpoint (signed first if needed).
    #[param(minimum = 1)]
    size: Option<i64>,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub seq: i64,
    /// `seq - 1`.
    pub leaf_index: i64,
    pub tree_size: i64,
    /// `SHA-256(0x00 || JCS(entry without hash))`, hex.
    pub leaf_hash: String,
    /// The sibling hashes from the leaf up, hex.
    pub audit_path: Vec<String>,
    pub root_hash: String,
    /// The signed checkpoint of `tree_size`, when one was issued.
    pub checkpoint: Option<Checkpoint>,
    /// The entry itself, to recompute its leaf hash.
    pub entry: Entry,
}

fn hexes(p: &[Hash]) -> Vec<String> {
    p.iter().map(hex::encode).collect()
}

/// Prove that an entry is in the ledger.
///
/// Returns the RFC 9162 inclusion proof of entry `seq` in the tree of `size` entries, by
/// default the latest checkpoint's. Roles: auditor, admin; a service for its own decisions.
#[utoipa::path(
    tag = "audit",
    params(("seq" = i64, Path, description = "The entry."), ProofQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor", "service"]))),
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
        .write(move |conn| {
            let (head, _, _) = super::head(conn)?;
            let row: Row = list(conn, seq - 1, None, None, 1)?
                .into_iter()
                .find(|r| r.seq == seq)
                .ok_or(ApiError::NotFound)?;
            let own = row.action == "decision.recorded"
                && serde_json::from_str::<serde_json::Value>(&row.actor)
                    .is_ok_and(|a| a["sub"] == principal.sub.as_str());
            if !(principal.has(Role::Admin) || principal.has(Role::Auditor) || own) {
                return Err(ApiError::NotFound);
            }
            let (size, signed) = match size {
                Some(n) => {
                    if n < seq || n > head {
                        return Err(ApiError::field(
                            "size",
                            "must be at least seq and at most the ledger's size",
                        ));
                    }
                    (n, checkpoints::at_size(conn, n)?)
                }
                None => {
                    let cp = checkpoints::issue(conn, &keys)?;
                    (cp.size, Some(cp))
                }
            };
            let leaves = checkpoints::leaf_hashes(conn, size)?;
            let index = (seq - 1) as usize;
            Ok(InclusionProof {
                seq,
                leaf_index: seq - 1,
                tree_size: size,
                leaf_hash: hex::encode(leaves[index]),
                audit_path: hexes(&merkle::inclusion_proof(index, &leaves)),
                root_hash: hex::encode(merkle::root(&leaves)),
                checkpoint: signed,
                entry: row.entry(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(proof))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The smaller tree size (≥ 1), e.g. an old checkpoint's.
    #[param(minimum = 1)]
    from: i64,
    /// The larger tree size (≤ the ledger's size).
    #[param(minimum = 1)]
    to: i64,
}

/// An RFC 9162 consistency proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: i64,
    pub to: i64,
    pub from_root: String,
    pub to_root: String,
    /// The proof hashes, hex.
    pub proof: Vec<String>,
}

/// Prove that the ledger only grew.
///
/// The RFC 9162 consistency proof between the trees of `from` and `to` entries: an auditor
/// holding an old checkpoint checks that the current log extends it. Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(ConsistencyQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "auditor"]))),
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
    let answer = state
        .read(move |conn| -> Result<ConsistencyProof, ApiError> {
            let (head, _, _) = super::head(conn)?;
            if to > head {
                return Err(ApiError::field("to", "must be at most the ledger's size"));
            }
            let leaves = checkpoints::leaf_hashes(conn, to)?;
            Ok(ConsistencyProof {
                from,
                to,
                from_root: hex::encode(merkle::root(&leaves[..from as usize])),
                to_root: hex::encode(merkle::root(&leaves)),
                proof: hexes(&merkle::consistency_proof(from as usize, &leaves)),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
    extensions(("x-roles" = json!(["admin", "auditor"]))),
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
        .streaming(crate::streaming::pages(
            state.pool.clone(),
            from - 1,
            move |conn, after| {
                let rows = list(conn, after, None, None, 500)?;
                let rows: Vec<Row> = rows.into_iter().filter(|r| r.seq <= to).collect();
                let next = rows.last().map(|r| r.seq);
                let mut text = String::new();
                for row in rows {
                    text.push_str(&serde_json::to_string(&row.entry()).unwrap_or_default());
                    text.push('\n');
                }
                Ok((text, next))
            },
        )))
}
