//! `GET /v1/grants`: the scopes granted, across parties — for procurement (what expires, what
//! covers a category) and for a service owner (what my service may share, with whom).

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Auth;
use super::error::ApiError;
use super::pagination::{Page, PageRequest};
use super::state::AppState;
use super::validators::optional;
use crate::auth::{Principal, RegisterRead, ScopeRead};
use crate::error::DomainError;
use crate::registry::grants::{Effective, Grant, store};
use crate::registry::parties::{self, PartyStatus};
use crate::types::Region;

/// The filters of `GET /v1/grants`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Only this service's grants. A service token reads only its own (the default for it).
    service: Option<String>,
    /// Only this party's grants.
    party_id: Option<String>,
    /// Only grants that cover this category key: a granted key equal to it or an ancestor of it
    /// (`user.contact` covers `user.contact.email`).
    category: Option<String>,
    /// Only grants in this state now: `active`, `pending_approval` (the approval queue),
    /// `not_yet_valid`, `expired` or `revoked`.
    #[param(inline, value_type = Option<Effective>)]
    effective: Option<String>,
    /// Only grants whose `valid_until` is before this instant (RFC 3339) or date (`YYYY-MM-DD`:
    /// before that day begins, UTC).
    expires_before: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The party a grant is to, as a service owner needs to know it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartySummary {
    /// The party's id.
    pub id: String,
    /// The party's registered legal name.
    pub legal_name: String,
    /// Only a `trusted` party is shared with.
    pub status: PartyStatus,
    pub region: Option<Region>,
    /// The countries the party processes data in.
    pub data_locations: Vec<String>,
}

/// A grant with the party it is to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
    "service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["US"],
    "transfer_mechanism": "none", "agreements": [], "exemptions": [], "pipia_reference": null, "separate_consent": false,
    "legal_basis": null, "valid_from": "2026-12-01T00:00:00.000000Z", "valid_until": "2027-12-01T00:00:00.000000Z",
    "status": "active", "effective": "active", "revoked_reason": null, "revoked_at": null,
    "created_by": "alice", "created_at": "2026-11-29T10:00:00.000000Z", "version": 1,
    "party": {"id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "legal_name": "Acme Mail Ltd", "status": "trusted",
        "region": "US", "data_locations": ["US"]}}))]
pub struct GrantListing {
    #[serde(flatten)]
    pub grant: Grant,
    pub party: Option<PartySummary>,
}

fn search_of(principal: &Principal, q: &SearchQuery) -> Result<store::Search, ApiError> {
    let service = match (&q.service, principal.may::<RegisterRead>()) {
        (s, true) => s.clone(),
        (Some(s), false) if *s != principal.sub => {
            return Err(ApiError::Forbidden(
                "A service may read only its own grants.".into(),
            ));
        }
        (_, false) => Some(principal.sub.clone()),
    };
    let effective = optional(
        "effective",
        q.effective.as_deref(),
        Effective::parse,
        "must be active, pending_approval, not_yet_valid, expired or revoked",
    )?;
    let expires_before = super::validators::day_or_instant(
        "expires_before",
        q.expires_before.as_deref(),
        "T00:00:00.000000Z",
        "must be an RFC 3339 timestamp or a date as YYYY-MM-DD",
    )?;
    Ok(store::Search {
        service,
        party_id: q.party_id.clone(),
        category: q.category.clone(),
        effective,
        expires_before,
    })
}

/// List grants across parties, by id.
///
/// Filters combine: `service`, `party_id`, `category` (grants that cover it), `effective` (the
/// state now) and `expires_before`. Each grant carries its party's name, status, region and
/// processing countries, so a service owner can see what the service may share and with whom.
/// Roles: admin, procurement, auditor, legal; a service reads its own grants (`service` defaults
/// to it; another service's is a 403).
#[utoipa::path(
    operation_id = "search_grants",
    tag = "grants",
    params(SearchQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ScopeRead::NAMES))),
    responses((status = 200, description = "A page of grants.", body = Page<GrantListing>))
)]
#[get("/v1/grants")]
pub async fn list(
    auth: Auth<ScopeRead>,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let search = search_of(&auth.0, &q)?;
    let result = state
        .read(move |conn| -> Result<Page<GrantListing>, DomainError> {
            let now = crate::time::now();
            let rows = store::search(
                conn,
                &search,
                &crate::time::format(now),
                page.after.as_deref(),
                page.fetch(),
            )?;
            let ids: Vec<String> = rows.iter().map(|r| r.party_id.clone()).collect();
            let owners: HashMap<String, PartySummary> = parties::store::find_many(conn, &ids)?
                .into_iter()
                .map(|p| {
                    let summary = PartySummary {
                        id: p.id.clone(),
                        legal_name: p.legal_name,
                        status: p.status,
                        region: p.region,
                        data_locations: p.data_locations.iter().map(|c| c.to_string()).collect(),
                    };
                    (p.id, summary)
                })
                .collect();
            Ok(page.finish(
                rows,
                |r| r.id.clone(),
                |r| {
                    let party = owners.get(&r.party_id).cloned();
                    GrantListing {
                        grant: r.view(now),
                        party,
                    }
                },
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
