//! Procurement's forms: register a vendor, move it through its lifecycle, record an agreement,
//! grant a scope, approve what waits for a second person. Each is the API operation of the same
//! name, on the same command with the same body type, under the same policy.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;

use super::forms::{Fields, Shape, Shown, csrf, input, json, select};
use super::layout::{Section, page};
use super::session::{Posted, Viewer};
use super::{ConsoleError, html as respond, redirect};
use crate::api::agreements::NewAgreement;
use crate::api::error::ApiError;
use crate::api::extract::parse_value;
use crate::api::grants::NewGrant;
use crate::api::parties::{NewParty, StatusChange};
use crate::api::state::AppState;
use crate::auth::Principal;
use crate::auth::RegisterWrite;
use crate::db::DbConn;
use crate::error::{DomainError, Expected};
use crate::registry::lifecycle;
use crate::registry::parties::{PartyKind, RiskTier, commands};
use crate::registry::{agreements, grants};
use serde_json::Value;

/// The vendor page's forms as they are shown again after one was refused.
#[derive(Default)]
pub struct Forms {
    pub status: Shown,
    pub grant: Shown,
    pub agreement: Shown,
    pub approve: Shown,
}

impl Forms {
    /// The page's status: the refused form's, else 200.
    pub fn status(&self) -> StatusCode {
        [&self.status, &self.grant, &self.agreement, &self.approve]
            .iter()
            .find_map(|s| s.problem.as_ref())
            .and_then(|p| StatusCode::from_u16(p.status).ok())
            .unwrap_or(StatusCode::OK)
    }
}

pub(super) const PARTY_FIELDS: &[(&str, Shape)] = &[
    ("kind", Shape::Text),
    ("legal_name", Shape::Text),
    ("country", Shape::Text),
    ("data_locations", Shape::Required),
    ("privacy_policy_url", Shape::Text),
    ("contact_email", Shape::Text),
    ("contract_reference", Shape::Text),
    ("risk_tier", Shape::Text),
    ("next_review_due", Shape::Text),
    ("principal_place_of_business", Shape::Text),
    ("dpf_certified_until", Shape::Text),
    ("us_dsp_covered", Shape::Check),
    ("pipl_restricted", Shape::Check),
];

/// The vendor form: empty to register one, filled with its record to edit it.
pub(super) fn party_form(v: &Viewer, shown: &Shown, edit: Option<(&str, i64)>) -> maud::Markup {
    let kinds: Vec<(&str, &str)> = PartyKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.as_str()))
        .collect();
    let tiers: Vec<(&str, &str)> = [RiskTier::Medium, RiskTier::Low, RiskTier::High]
        .iter()
        .map(|k| (k.as_str(), k.as_str()))
        .collect();
    html! {
        form method="post" action=(edit.map_or("/console/parties".to_owned(), |(id, _)| format!("/console/parties/{id}/edit"))) novalidate {
            (csrf(&v.csrf))
            @if let Some((_, version)) = edit { input type="hidden" name="version" value=(version); }
            (shown.summary())
            (select(shown, "Kind", "kind", &kinds))
            (input(shown, "Legal name", "legal_name", "text", None))
            (input(shown, "Country", "country", "text", Some("ISO 3166-1 alpha-2, e.g. CN, DE, US")))
            (input(shown, "Processing countries", "data_locations", "text", Some("Where it stores or processes data: codes separated by commas, e.g. CN, SG")))
            (input(shown, "Privacy policy URL", "privacy_policy_url", "url", Some("https only")))
            (input(shown, "Privacy contact email", "contact_email", "email", None))
            (input(shown, "Contract reference", "contract_reference", "text", None))
            (select(shown, "Risk tier", "risk_tier", &tiers))
            (input(shown, "Next review due", "next_review_due", "date", None))
            (input(shown, "Principal place of business", "principal_place_of_business", "text", Some("Defaults to the country")))
            (input(shown, "EU-US DPF certified until", "dpf_certified_until", "date", None))
            div.field {
                label.check { input type="checkbox" name="us_dsp_covered" value="true" checked[shown.fields.get("us_dsp_covered").is_some()]; " A covered person of the US Data Security Program (28 CFR 202.211)" }
                label.check { input type="checkbox" name="pipl_restricted" value="true" checked[shown.fields.get("pipl_restricted").is_some()]; " On the CAC's restricted or prohibited list (PIPL Art. 42)" }
            }
            button type="submit" { @if edit.is_some() { "Save changes" } @else { "Register" } }
        }
    }
}

fn new_page(v: &Viewer, shown: &Shown, status: StatusCode) -> HttpResponse {
    let content = html! {
        p { "The vendor starts " strong { "pending review" } ": it receives nothing until someone other than you trusts it." }
        (party_form(v, shown, None))
    };
    respond(
        status,
        page(v, Section::Vendors, "Register a vendor", content),
    )
}

/// `GET /console/parties/new`.
pub async fn new_party(v: Viewer) -> Result<HttpResponse, ConsoleError> {
    v.require::<RegisterWrite>()?;
    Ok(new_page(&v, &Shown::default(), StatusCode::OK))
}

/// `POST /console/parties`: `POST /v1/parties`.
pub async fn create(p: Posted, state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    p.viewer.require::<RegisterWrite>()?;
    let body = json(&p.fields, PARTY_FIELDS);
    let actor = p.viewer.principal.clone();
    let done = async {
        let draft = parse_value::<NewParty>(&body)?.into_draft()?;
        state
            .write(move |conn| commands::create(conn, &actor, draft))
            .await
    };
    match done.await {
        Ok(row) => Ok(redirect(&format!("/console/parties/{}", row.id))),
        Err(e) => Ok(new_page(
            &p.viewer,
            &Shown::new(p.fields, e.problem()),
            e_status(&e),
        )),
    }
}

pub(super) fn e_status(e: &ApiError) -> StatusCode {
    use actix_web::ResponseError;
    e.status_code()
}

/// The version a form was rendered with, for `If-Match`.
pub(super) fn expected(fields: &Fields) -> Expected {
    Expected(
        fields
            .get("version")
            .and_then(|v| v.parse().ok())
            .map(|v| vec![v]),
    )
}

/// Shows the vendor page again with a refused form, or goes back to it.
async fn back(
    p: Posted,
    state: &AppState,
    id: String,
    result: Result<(), ApiError>,
    place: impl FnOnce(&mut Forms) -> &mut Shown,
) -> Result<HttpResponse, ConsoleError> {
    match result {
        Ok(()) => Ok(redirect(&format!("/console/parties/{id}"))),
        Err(ApiError::NotFound) => Err(ApiError::NotFound.into()),
        Err(e) => {
            let mut forms = Forms::default();
            *place(&mut forms) = Shown::new(p.fields.clone(), e.problem());
            super::parties::page_of(&p.viewer, state, id, forms).await
        }
    }
}

/// Runs a vendor-page form's command — its fields as the API's body, the form's version as
/// `If-Match` — under the API's `RegisterWrite`, then back to the vendor page (the form shown
/// again with the API's problem when it was refused).
async fn submit<T, F>(
    p: Posted,
    state: &AppState,
    party: String,
    shape: &[(&str, Shape)],
    place: fn(&mut Forms) -> &mut Shown,
    command: F,
) -> Result<HttpResponse, ConsoleError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &Principal, &Value, &Expected) -> Result<T, DomainError>
        + Send
        + 'static,
{
    p.viewer.require::<RegisterWrite>()?;
    let body = json(&p.fields, shape);
    let (actor, version) = (p.viewer.principal.clone(), expected(&p.fields));
    let result = state
        .write(move |conn| command(conn, &actor, &body, &version))
        .await
        .map(drop);
    back(p, state, party, result, place).await
}

/// `POST /console/parties/{id}/status`: `POST /v1/parties/{id}/status`.
pub async fn status(
    p: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let party = id.clone();
    let shape = [("status", Shape::Text), ("reason", Shape::Text)];
    submit(
        p,
        &state,
        id,
        &shape,
        |f| &mut f.status,
        move |conn, actor, body, version| {
            lifecycle::change_status(conn, actor, &party, version, || {
                Ok(parse_value::<StatusChange>(body)?.into_change())
            })
        },
    )
    .await
}

const GRANT_FIELDS: &[(&str, Shape)] = &[
    ("service", Shape::Text),
    ("categories", Shape::Required),
    ("allowed_regions", Shape::Required),
    ("agreements", Shape::List),
    ("legal_basis", Shape::Text),
    ("pipia_reference", Shape::Text),
    ("separate_consent", Shape::Check),
    ("valid_from", Shape::Text),
    ("valid_until", Shape::Text),
];

/// `POST /console/parties/{id}/grants`: `POST /v1/parties/{id}/grants`.
pub async fn grant(
    p: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let party = id.clone();
    submit(
        p,
        &state,
        id,
        GRANT_FIELDS,
        |f| &mut f.grant,
        move |conn, actor, body, _| {
            grants::commands::create(conn, actor, &party, || {
                parse_value::<NewGrant>(body)?.into_draft()
            })
        },
    )
    .await
}

const AGREEMENT_FIELDS: &[(&str, Shape)] = &[
    ("exporter", Shape::Text),
    ("kind", Shape::Text),
    ("reference", Shape::Text),
    ("signed_on", Shape::Text),
    ("valid_from", Shape::Text),
    ("valid_until", Shape::Text),
    ("filing_reference", Shape::Text),
    ("pipia_reference", Shape::Text),
    ("tia_reference", Shape::Text),
];

/// `POST /console/parties/{id}/agreements`: `POST /v1/parties/{id}/agreements`.
pub async fn agreement(
    p: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let party = id.clone();
    submit(
        p,
        &state,
        id,
        AGREEMENT_FIELDS,
        |f| &mut f.agreement,
        move |conn, actor, body, _| {
            agreements::commands::create(conn, actor, &party, || {
                parse_value::<NewAgreement>(body)?.into_draft()
            })
        },
    )
    .await
}

/// `POST /console/grants/{id}/approve`: `POST /v1/grants/{id}/approve`. The button is not shown
/// to the person who asked for the grant; if they post anyway, the command refuses (four eyes).
pub async fn approve(
    p: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    p.viewer.require::<RegisterWrite>()?;
    let grant = path.into_inner();
    let id = grant.clone();
    let row = state
        .read(move |conn| grants::store::find(conn, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    submit(
        p,
        &state,
        row.party_id,
        &[],
        |f| &mut f.approve,
        move |conn, actor, _, version| grants::commands::approve(conn, actor, &grant, version),
    )
    .await
}

/// The regions a grant may allow, for its checkboxes.
pub fn regions() -> Vec<(&'static str, &'static str)> {
    crate::types::Region::ALL
        .iter()
        .map(|r| (r.as_str(), r.as_str()))
        .collect()
}
