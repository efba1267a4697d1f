//! The register imported from CSV or JSON: read into rows by [`read`], then matched and
//! applied by `imports::register`.

mod read;

use actix_web::{HttpRequest, HttpResponse, post, web};

use super::auth::Auth;
use super::error::ApiError;
use super::state::AppState;
use crate::auth::RegisterWrite;
use crate::imports::register::{ImportMode, REGISTER_LIMIT, RegisterImportReport, import_register};
pub use read::read_rows;

/// `?dry_run=&mode=`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Judge every row and report what would happen; write nothing.
    dry_run: Option<bool>,
    /// `all_or_nothing` (the default: any row rejected and nothing is written) or `row_by_row`
    /// (rejected rows reported, the others written).
    #[param(value_type = Option<ImportMode>)]
    mode: Option<String>,
}

/// Import parties and grants from a spreadsheet (CSV) or JSON.
///
/// One row per grant with its party's columns — what `GET /v1/exports/register.csv` writes,
/// which reads back as `unchanged` (server-owned columns such as `status` or `effective` are
/// ignored). A row names its party by `party_id` or `external_ref` (idempotent: an unknown
/// `external_ref` registers the party, in `pending_review`); its grant by `grant_id`, or it is
/// the party's active grant of the same scope, or a new one (waiting for approval). A row whose
/// grant differs from the `grant_id` it names amends that grant. Lists are `;`-separated; an
/// empty cell leaves a field as it is, except `contract_reference`, `next_review_due`,
/// `external_ref` and `dpf_certified_until`, which it clears. Every change goes through the
/// API's own rules and is in the ledger. `text/csv` or `application/json` (an array of objects
/// keyed by the columns), up to 64 MiB and 200,000 rows. Roles: admin, procurement.
#[utoipa::path(
    tag = "imports",
    params(ImportQuery),
    request_body(content = String, description = "The rows, as CSV with a header line (or a JSON array).", content_type = "text/csv",
        example = "external_ref,kind,legal_name,country,data_locations,privacy_policy_url,contact_email,service,categories,allowed_regions\nerp:V-1001,third_party,Acme Mail Ltd,US,US;DE,https://acme.example/privacy,dpo@acme.example,newsletter,user.contact.email,US\n"),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "What was done (or, on a dry run, would be), row by row.", body = RegisterImportReport),
        (status = 422, description = "A header defect, or (all_or_nothing) the rows rejected: nothing was written. Each error names `row N: column`.", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/imports/register")]
pub async fn import(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
    query: web::Query<ImportQuery>,
) -> Result<HttpResponse, ApiError> {
    let mode = super::validators::optional(
        "mode",
        query.mode.as_deref(),
        ImportMode::parse,
        "must be all_or_nothing or row_by_row",
    )?
    .unwrap_or(ImportMode::AllOrNothing);
    let dry_run = query.dry_run.unwrap_or(false);
    let csv = match super::extract::media_type(&req) {
        Some(m) if m.type_() == mime::TEXT && m.subtype() == mime::CSV => true,
        Some(m) if m.type_() == mime::APPLICATION && m.subtype() == mime::JSON => false,
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let body = super::extract::read_limited(&mut payload, REGISTER_LIMIT).await?;
    let rows = web::block(move || read_rows(&body, csv))
        .await
        .map_err(|_| ApiError::Internal("the import reader stopped".into()))??;
    let actor = auth.0;
    let report: RegisterImportReport = state
        .write(move |conn| import_register(conn, &actor, rows, mode, dry_run, |_, _| {}))
        .await?;
    if report.rejected > 0 && !dry_run && mode == ImportMode::AllOrNothing {
        return Err(ApiError::Validation(report.errors()));
    }
    Ok(HttpResponse::Ok().json(report))
}
