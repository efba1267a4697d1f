//! Imports into the register.

use actix_web::{HttpResponse, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::extract::JsonBody;
use super::state::AppState;
use crate::auth::RegisterWrite;
use crate::imports::{IMPORT_LIMIT, ImportReport, import_gvl as import};

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
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
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
        .write(move |conn| import(conn, &body.0, &actor, &sub, |_| {}, |_, _| {}))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
