//! A party's sub-processors, replaced as one list, and the public sub-processor list of a
//! service.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::api::auth::Auth;
use crate::api::error::ApiError;
use crate::api::extract::{IfMatch, JsonBody};
use crate::api::state::AppState;
use crate::auth::{RegisterWrite, ScopeRead};
use crate::error::{DomainError, FieldError};
use crate::registry::parties::{Party, SubProcessor, sub_processors};
use crate::types::CountryCode;

/// Every sub-processor of a party; what is not listed is no longer one.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"sub_processors": [{"party_id": "0193a0c4-8888-7cc0-9d2a-0c1b2a3d4e5f",
    "categories": ["user.contact"], "services": ["newsletter"], "countries": ["IE"],
    "authorised_on": "2026-11-01", "objection_deadline": "2026-10-31"}]}))]
pub struct SubProcessorList {
    /// At most 100.
    #[validate(length(max = 100))]
    pub sub_processors: Vec<SubProcessor>,
}

impl SubProcessorList {
    /// The list, with each item's fields checked (every error at once, named by index).
    fn checked(self) -> Result<Vec<SubProcessor>, DomainError> {
        let mut errors = Vec::new();
        for (i, s) in self.sub_processors.iter().enumerate() {
            let mut bad = |name: &str, message: &str| {
                errors.push(FieldError::new(
                    format!("sub_processors[{i}].{name}"),
                    message,
                ));
            };
            if s.party_id.is_empty() || s.party_id.len() > 64 {
                bad("party_id", "must be a party id");
            }
            if s.categories.is_empty() || s.categories.len() > 100 {
                bad("categories", "must list 1 to 100 categories");
            }
            if s.services.len() > 100 {
                bad("services", "must list at most 100 services");
            }
            if s.countries.is_empty() || s.countries.len() > 50 {
                bad("countries", "must list 1 to 50 countries");
            }
            for (j, c) in s.countries.iter().enumerate() {
                if CountryCode::parse(c).is_none() {
                    bad(
                        &format!("countries[{j}]"),
                        "must be an ISO 3166-1 alpha-2 code",
                    );
                }
            }
            for (name, value) in [
                ("authorised_on", &s.authorised_on),
                ("objection_deadline", &s.objection_deadline),
            ] {
                if value
                    .as_deref()
                    .is_some_and(|d| crate::time::parse_date(d).is_none())
                {
                    bad(name, "must be a date as YYYY-MM-DD");
                }
            }
        }
        crate::error::collect(errors)?;
        Ok(self.sub_processors)
    }
}

/// Replace a party's sub-processors.
///
/// The parties it passes data on to: each a registered party, with the categories and services
/// concerned, the countries where it processes them, the date it was authorised (null:
/// announced, not yet authorised) and the objection deadline of the change notice. A share to
/// the party is approved only if every sub-processor receiving its categories for its service is
/// trusted, authorised, declared where it processes them and passes the transfer checks of its
/// hop (reasons name it in `via`). Adding one, or widening what one receives, is not for the
/// registrant of a reviewed party alone (four eyes). Requires `If-Match`. Roles: admin,
/// procurement.
#[utoipa::path(
    operation_id = "replace_sub_processors",
    tag = "parties",
    params(("id" = String, Path, description = "The party id."),
        ("If-Match" = String, Header, description = "The current ETag.")),
    request_body = SubProcessorList,
    security(("bearer" = [])),
    extensions(("x-roles" = json!(RegisterWrite::NAMES))),
    responses(
        (status = 200, description = "The updated party.", body = Party,
            headers(("ETag" = String, description = "The new version."))),
        (status = 409, description = "The party is offboarded.", body = crate::api::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/parties/{id}/sub-processors")]
pub async fn replace(
    auth: Auth<RegisterWrite>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let actor = auth.0;
    let row = state
        .write(move |conn| {
            sub_processors::replace(conn, &actor, &id, &if_match.0, || {
                body.parse::<SubProcessorList>()?.checked()
            })
        })
        .await?;
    Ok(super::ok_party(row, StatusCode::OK, None))
}

/// The public sub-processor list of a service.
///
/// What a privacy notice publishes: every authorised sub-processor (authorised on or before
/// today, trusted) of every trusted party holding an approved, unrevoked grant for the service,
/// that receives the service's data, by legal name. Roles: admin, procurement, auditor, legal,
/// and the service itself (another's is a 403).
#[utoipa::path(
    operation_id = "list_service_sub_processors",
    tag = "services",
    params(("key" = String, Path, description = "The service key.")),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(ScopeRead::NAMES))),
    responses((status = 200, description = "The sub-processors, by legal name.", body = Vec<crate::registry::sub_processor_list::PublishedSubProcessor>))
)]
#[get("/v1/services/{key}/sub-processors")]
pub async fn public_list(
    auth: Auth<ScopeRead>,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    if !auth.0.may::<crate::auth::RegisterRead>() && key != auth.0.sub {
        return Err(ApiError::Forbidden(
            "A service may read only its own sub-processors.".into(),
        ));
    }
    let list = state
        .read(move |conn| {
            let today = crate::time::now().date_naive();
            crate::registry::sub_processor_list::published(conn, &key, today)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
