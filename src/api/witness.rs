//! What the auditors' own tools read and write: witnesses' cosignatures of checkpoints
//! (C2SP tlog-cosignature) and the tree as static tiles (C2SP tlog-tiles).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::auth::{AuditRead, AuditorOnly};
use crate::error::DomainError;
use crate::ledger::tiles::{TileId, store, to_bytes};
use crate::ledger::witness::{self, Cosignature};

/// A witness's cosignature of a checkpoint, as `vendor-registry audit witness` sends it.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"checkpoint_size": 1234,
    "witness_key": "auditor.example/w1+8a1b2c3d+BL0Lq5v6…",
    "signature_line": "— auditor.example/w1 ilsyOQAAAABrDVh…"}))]
pub struct NewCosignature {
    /// The size of the checkpoint cosigned (one the service signed).
    #[validate(range(min = 1))]
    pub checkpoint_size: i64,
    /// The witness's verifier key, `name+hash+base64(0x04 ‖ Ed25519 key)`.
    #[validate(length(min = 1, max = 600))]
    pub witness_key: String,
    /// The cosignature/v1 note signature line over the checkpoint's note text.
    #[validate(length(min = 1, max = 600))]
    pub signature_line: String,
}

/// Record a witness's cosignature.
///
/// The cosignature must verify, with the key sent, over the note of the checkpoint of that size
/// (origin, size, root as `GET /v1/audit/checkpoint` serves them with `Accept: text/plain`),
/// and be timestamped no more than five minutes ahead. It is then served with that checkpoint
/// (in its JSON, and as a further signature line of its note). A witness that cosigned that
/// checkpoint already gets its first cosignature back (200). The service does not choose whom
/// auditors trust: whoever verifies names the witness keys it trusts
/// (`audit verify --witness-key`). Roles: auditor.
#[utoipa::path(
    tag = "audit",
    request_body = NewCosignature,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditorOnly::NAMES))),
    responses(
        (status = 201, description = "Recorded.", body = Cosignature),
        (status = 200, description = "This witness had cosigned this checkpoint already.", body = Cosignature),
    )
)]
#[post("/v1/audit/cosignatures")]
pub async fn cosign(
    auth: Auth<AuditorOnly>,
    state: web::Data<AppState>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let new: NewCosignature = body.parse()?;
    let keys = state.ledger_keys.clone();
    let from = auth.0.sub.clone();
    let (cosignature, created) = state
        .write_checking_ledger(move |conn| {
            witness::record(
                conn,
                &keys,
                &from,
                new.checkpoint_size,
                &new.witness_key,
                &new.signature_line,
            )
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(cosignature))
}

/// A tile of the ledger's Merkle tree (C2SP tlog-tiles).
///
/// `path` is `<L>/<N>` for a full tile or `<L>/<N>.p/<W>` for the first `W` hashes of one, `N`
/// written in groups of three digits, each but the last prefixed with `x` (`x001/x234/067`).
/// The body is the tile's hashes, 32 bytes each: level 0 holds leaf hashes
/// (`SHA-256(0x00 ‖ JCS(entry without hash))`), level L the roots of subtrees of 256^L
/// leaves. Tiles are served up to the latest checkpoint. A full tile never changes and may be
/// cached forever. Entry bundles (`tile/entries/…`) are not served: the entries are
/// `GET /v1/audit/export`. Roles: auditor, admin.
#[utoipa::path(
    tag = "audit",
    params(("path" = String, Path, description = "The tile's path, e.g. `0/x001/234` or `1/000.p/17`.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses(
        (status = 200, description = "The tile's hashes.", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such tile (yet).", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/audit/tile/{path:.*}")]
pub async fn tile(
    _auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = TileId::parse(&path.into_inner()).ok_or(ApiError::NotFound)?;
    let hashes = state
        .read(move |conn| {
            let stored = store::get(conn, id.level, id.index)?.ok_or(DomainError::NotFound)?;
            let width = id.width as usize;
            if stored.len() < width {
                return Err(DomainError::NotFound);
            }
            Ok(stored[..width].to_vec())
        })
        .await?;
    let cache = if id.width as usize == crate::ledger::tiles::WIDTH {
        "private, max-age=31536000, immutable"
    } else {
        "private, max-age=60"
    };
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Cache-Control", cache))
        .body(to_bytes(&hashes)))
}
