//! Imports into the register: the IAB TCF Global Vendor List.

pub mod gvl;

use std::collections::HashSet;

use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Auth, RegisterWrite};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::registry::parties::{self, PartyRow, PartyStatus};
use crate::registry::{list_to_text, text_to_list};

/// The largest import accepted.
pub const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"gvl_specification_version": 3, "vendor_list_version": 7, "vendors": 376,
    "created": 376, "updated": 0, "unchanged": 0, "suspended": 0,
    "warnings": [{"vendor_id": 12, "field": "cookieMaxAgeSeconds", "value": "null", "message": "cookie lifetime not declared"}]}))]
pub struct ImportReport {
    pub gvl_specification_version: i64,
    pub vendor_list_version: i64,
    /// Vendors read from the list.
    pub vendors: usize,
    /// Parties registered (`pending_review`, `external_ref` `gvl:<id>`).
    pub created: usize,
    /// Parties whose imported fields changed.
    pub updated: usize,
    /// Parties already as the list says.
    pub unchanged: usize,
    /// Trusted parties suspended because the list withdrew them (`deletedDate`).
    pub suspended: usize,
    /// One per defect found in the list.
    pub warnings: Vec<gvl::Warning>,
}

/// Reads `doc` against the taxonomy held in storage.
pub fn read_gvl(conn: &mut DbConn, doc: &Value) -> Result<gvl::List, ApiError> {
    let purposes: HashSet<String> = crate::taxonomy::routes::all_purposes(conn)?
        .into_iter()
        .map(|p| p.key)
        .collect();
    let categories: HashSet<String> = crate::taxonomy::routes::all_categories(conn)?
        .into_iter()
        .map(|c| c.key)
        .collect();
    gvl::read(doc, &purposes, &categories).map_err(|e| ApiError::field("body", e))
}

/// Creates or updates one party per vendor, in the caller's transaction, one ledger entry per
/// party changed. `progress(done, total)` is called as it goes.
pub fn apply(
    conn: &mut DbConn,
    list: gvl::List,
    actor: &Value,
    created_by: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, ApiError> {
    let total = list.vendors.len();
    let mut report = ImportReport {
        gvl_specification_version: list.specification_version,
        vendor_list_version: list.vendor_list_version,
        vendors: total,
        created: 0,
        updated: 0,
        unchanged: 0,
        suspended: 0,
        warnings: list.warnings,
    };
    for (i, v) in list.vendors.into_iter().enumerate() {
        let external_ref = format!("gvl:{}", v.id);
        let now = crate::time::format(crate::time::now());
        match parties::find_by_external_ref(conn, &external_ref)? {
            None => {
                let row = PartyRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    kind: "third_party".into(),
                    legal_name: v.name,
                    country: None,
                    region: None,
                    data_locations: "[]".into(),
                    privacy_policy_url: v.privacy_policy_url,
                    contact_email: String::new(),
                    contract_reference: None,
                    risk_tier: "medium".into(),
                    next_review_due: None,
                    status: PartyStatus::PendingReview.as_str().into(),
                    status_reason: None,
                    external_ref: Some(external_ref),
                    declared_purposes: list_to_text(&v.declared_purposes),
                    declared_categories: list_to_text(&v.declared_categories),
                    deleted_upstream: v.deleted_date.is_some(),
                    created_by: created_by.to_owned(),
                    created_at: now.clone(),
                    updated_at: now,
                    version: 1,
                };
                parties::insert(conn, &row)?;
                parties::record(conn, actor, "party.created", &row)?;
                report.created += 1;
            }
            Some(old) => {
                let mut row = old.clone();
                row.legal_name = v.name;
                if !v.privacy_policy_url.is_empty() {
                    row.privacy_policy_url = v.privacy_policy_url;
                }
                row.declared_purposes = list_to_text(&v.declared_purposes);
                row.declared_categories = list_to_text(&v.declared_categories);
                row.deleted_upstream = old.deleted_upstream || v.deleted_date.is_some();
                if row.deleted_upstream && row.status == PartyStatus::Trusted.as_str() {
                    row.status = PartyStatus::Suspended.as_str().into();
                    row.status_reason = Some(format!(
                        "withdrawn from the IAB Global Vendor List on {}",
                        v.deleted_date.as_deref().unwrap_or("an earlier version")
                    ));
                    report.suspended += 1;
                }
                let same = row.legal_name == old.legal_name
                    && row.privacy_policy_url == old.privacy_policy_url
                    && text_to_list(&row.declared_purposes) == text_to_list(&old.declared_purposes)
                    && text_to_list(&row.declared_categories)
                        == text_to_list(&old.declared_categories)
                    && row.deleted_upstream == old.deleted_upstream
                    && row.status == old.status;
                if same {
                    report.unchanged += 1;
                } else {
                    row.version += 1;
                    row.updated_at = now;
                    parties::save(conn, &row)?;
                    parties::record(conn, actor, "party.updated", &row)?;
                    report.updated += 1;
                }
            }
        }
        progress(i + 1, total);
    }
    Ok(report)
}

/// Import an IAB TCF Global Vendor List.
///
/// Takes a `vendor-list.json` (GVL specification v2 or v3, up to 16 MiB). Each vendor becomes or
/// updates a party with `external_ref` `gvl:<id>`, in `pending_review`, with the purposes and
/// data categories it declares mapped to the taxonomy through the fideslang crosswalk and kept as
/// what it declares (they grant nothing). A GVL has no country, contact or data locations: such
/// parties stay incomplete until procurement sets them, and cannot be trusted before. A vendor
/// with a `deletedDate` can never be trusted; a trusted one is suspended. Re-importing the same
/// list changes nothing. The answer counts what changed and lists every defect found.
/// Roles: admin, procurement.
#[utoipa::path(
    tag = "imports",
    request_body(content = Object, description = "The Global Vendor List JSON."),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(["admin", "procurement"]))),
    responses((status = 200, description = "The import report.", body = ImportReport))
)]
#[post("/v1/imports/gvl")]
pub async fn import_gvl(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    body: JsonBody<IMPORT_LIMIT>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.0.actor();
    let sub = auth.0.sub.clone();
    let report = state
        .write(move |conn| {
            let list = read_gvl(conn, &body.0)?;
            apply(conn, list, &actor, &sub, |_, _| {})
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
