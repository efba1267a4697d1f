//! Streamed exports for auditors: decisions as CSV, the register as CSV and JSON.

use actix_web::{HttpResponse, get, http::header, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Auth;
use super::error::ApiError;
use super::state::AppState;
use crate::auth::AuditRead;
use crate::decision::record::Decision;
use crate::decision::store;
use crate::registry::export::page_with_grants;
use crate::registry::grants::Grant;
use crate::registry::parties::Party;

pub(super) const PAGE: i64 = 200;

/// One CSV field: quoted when needed (RFC 4180), and a leading `=`, `+`, `-`, `@` neutralised
/// so a spreadsheet never runs a cell as a formula.
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

pub(super) fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

pub(super) fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub(super) fn attachment(kind: &str, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .finish()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    /// Only decisions for this service.
    service: Option<String>,
    /// Only decisions about this party.
    party_id: Option<String>,
    /// `approved` or `denied`.
    outcome: Option<String>,
    /// Decided at or after this instant (RFC 3339).
    from: Option<String>,
    /// Decided before this instant (RFC 3339).
    to: Option<String>,
}

const DECISION_HEADER: [&str; 17] = [
    "id",
    "decided_at",
    "service",
    "party_id",
    "purpose",
    "categories",
    "destination_country",
    "subject_region",
    "outcome",
    "reasons",
    "grants",
    "ledger_seq",
    "subject_country",
    "data_origin_country",
    "exporter",
    "subject_count",
    "rules_version",
];

fn decision_line(d: &Decision) -> String {
    let reasons: Vec<String> = d
        .reasons
        .iter()
        .map(|r| match &r.category {
            Some(c) => format!("{}:{c}", r.code.as_str()),
            None => r.code.as_str().to_owned(),
        })
        .collect();
    let grants: Vec<String> = d
        .grants
        .iter()
        .map(|g| format!("{}:{}", g.category, g.grant_id))
        .collect();
    csv_line(&[
        d.id.clone(),
        d.decided_at.clone(),
        d.service.clone(),
        d.party_id.clone(),
        d.purpose.clone(),
        d.categories.join(";"),
        d.destination_country.clone(),
        d.subject_region.as_str().to_owned(),
        d.outcome.as_str().to_owned(),
        reasons.join(";"),
        grants.join(";"),
        d.ledger_seq.to_string(),
        d.subject_country.clone(),
        d.data_origin_country.clone(),
        d.exporter.clone().unwrap_or_default(),
        d.subject_count.to_string(),
        d.rules_version.clone(),
    ])
}

/// Export decisions as CSV.
///
/// One row per decision, oldest first, streamed; takes the filters of the decision list.
/// `reasons` are `code:category` pairs and `grants` `category:grant_id` pairs, `;`-separated;
/// the transfer columns (`subject_country` … `rules_version`) follow the first twelve.
/// Roles: auditor, admin.
#[utoipa::path(
    tag = "exports",
    params(DecisionsQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The decisions.", content_type = "text/csv", body = String,
        example = json!("id,decided_at,service,party_id,purpose,categories,destination_country,subject_region,outcome,reasons,grants,ledger_seq,subject_country,data_origin_country,exporter,subject_count,rules_version\n01a23c20-5ae3-73d9-9a1c-5795f84979b9,2026-12-03T13:38:03.107305Z,newsletter,01a23c20-5a85-774a-8e5b-63b5216897ad,marketing.communications.email,user.contact.email;user.contact.phone_number,US,US,denied,category_not_granted:user.contact.phone_number,,151,US,US,acme-us,1200,2026-01\n")))
)]
#[get("/v1/exports/decisions.csv")]
pub async fn decisions_csv(
    auth: Auth<AuditRead>,
    state: web::Data<AppState>,
    query: web::Query<DecisionsQuery>,
) -> Result<HttpResponse, ApiError> {
    decisions_csv_of(&auth.0, &state, query.into_inner())
}

/// The decisions `principal` may read that pass `q`, as CSV, streamed (the API's and the
/// console's).
pub(crate) fn decisions_csv_of(
    principal: &crate::auth::Principal,
    state: &AppState,
    q: DecisionsQuery,
) -> Result<HttpResponse, ApiError> {
    let filter = super::sharing::filter(
        principal,
        q.service,
        q.party_id,
        q.outcome,
        q.from.as_deref(),
        q.to.as_deref(),
    )?
    .unwrap_or_default();
    let head = csv_line(&DECISION_HEADER.map(str::to_owned));
    let mut res = attachment("text/csv; charset=utf-8", "decisions.csv");
    let body = super::streaming::pages(
        state.pool.clone(),
        String::new(),
        move |conn, after: String| {
            let rows = store::list(
                conn,
                &filter,
                (!after.is_empty()).then_some(after.as_str()),
                PAGE,
            )?;
            let mut text = if after.is_empty() {
                head.clone()
            } else {
                String::new()
            };
            let next = (rows.len() as i64 == PAGE)
                .then(|| rows.last().map(|r| r.id.clone()))
                .flatten();
            for row in rows {
                // A stored decision that does not parse cuts the export, visibly: a row is
                // never skipped.
                text.push_str(&decision_line(&serde_json::from_str::<Decision>(
                    &row.body,
                )?));
            }
            Ok((text, next))
        },
    );
    res = res.set_body(actix_web::body::BoxBody::new(
        actix_web::body::BodyStream::new(body),
    ));
    Ok(res)
}

/// Export the register as JSON.
///
/// An array of parties, each with its transfer-law facts, its `agreements` and its `grants`,
/// streamed. Roles: auditor, admin.
#[utoipa::path(
    tag = "exports",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The register: parties with their grants.", body = Vec<Party>))
)]
#[get("/v1/exports/register.json")]
pub async fn register_json(_auth: Auth<AuditRead>, state: web::Data<AppState>) -> HttpResponse {
    let now = crate::time::now();
    let body = super::streaming::pages(
        state.pool.clone(),
        (String::new(), true),
        move |conn, (after, first): (String, bool)| {
            let page = page_with_grants(conn, &after, PAGE)?;
            let ids: Vec<&str> = page.iter().map(|(p, _)| p.id.as_str()).collect();
            let mut agreements = crate::registry::export::agreements_of(conn, &ids)?;
            let last = (page.len() as i64) < PAGE;
            let mut text = if first { "[".to_owned() } else { String::new() };
            let next_after = page.last().map(|(p, _)| p.id.clone()).unwrap_or_default();
            for (i, (p, gs)) in page.into_iter().enumerate() {
                if !(first && i == 0) {
                    text.push(',');
                }
                let own = agreements.remove(&p.id).unwrap_or_default();
                let mut v = serde_json::to_value(Party::from(p))?;
                v["agreements"] = serde_json::to_value(
                    own.into_iter()
                        .map(crate::registry::agreements::Agreement::from)
                        .collect::<Vec<_>>(),
                )?;
                v["grants"] = serde_json::to_value(
                    gs.into_iter().map(|g| g.view(now)).collect::<Vec<Grant>>(),
                )?;
                text.push_str(&v.to_string());
            }
            if last {
                text.push(']');
            }
            Ok((text, (!last).then_some((next_after, false))))
        },
    );
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(body)
}
