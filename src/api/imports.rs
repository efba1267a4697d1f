//! Imports into the register.

use actix_web::{HttpResponse, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::auth::RegisterWrite;
use crate::imports::{IMPORT_LIMIT, ImportReport, import_gvl as import};

/// `?force=`: import a list even when it is older than the last one imported.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ForceQuery {
    /// Import the list even if it is older than the last one imported (the import entry records
    /// `forced: true`).
    force: Option<bool>,
    /// Report what the import would do, vendor by vendor, and write nothing.
    dry_run: Option<bool>,
}

/// Import an IAB TCF Global Vendor List.
///
/// Takes a `vendor-list.json` (GVL specification v2 or v3, up to 16 MiB). Each vendor becomes or
/// updates a party with `external_ref` `gvl:<id>`, in `pending_review`, with the purposes and
/// data categories it declares mapped to the taxonomy through the fideslang crosswalk and kept as
/// what it declares (they grant nothing). A GVL has no country, contact or data locations: such
/// parties stay incomplete until procurement sets them, and cannot be trusted before. A vendor
/// with a `deletedDate` can never be trusted; a trusted one is suspended. Re-importing the same
/// list changes nothing. A list older than the last one imported (a lower `vendorListVersion`
/// or an earlier `lastUpdated`) is a 409 unless `force=true`: it would undo newer data. Each
/// import is recorded in the ledger (`vendor_list.imported`). The answer counts what changed,
/// lists each vendor created or changed with its fields before and after, and every defect
/// found; with `dry_run=true` it says what would happen and writes nothing. Roles: admin,
/// procurement.
#[utoipa::path(
    tag = "imports",
    params(ForceQuery),
    request_body(content = Object, description = "The Global Vendor List JSON."),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The import report.", body = ImportReport),
        (status = 409, description = "The list is older than the last one imported.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/imports/gvl")]
pub async fn import_gvl(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    body: JsonBody<IMPORT_LIMIT>,
    query: web::Query<ForceQuery>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.0.actor();
    let sub = auth.0.sub.clone();
    let options = crate::imports::GvlOptions {
        force: query.force.unwrap_or(false),
        dry_run: query.dry_run.unwrap_or(false),
    };
    let report = state
        .write(move |conn| import(conn, &body.0, &actor, &sub, options, |_| {}, |_, _| {}))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
