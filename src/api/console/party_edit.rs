//! Editing a vendor's record: `PATCH /v1/parties/{id}` as a form, filled with the record.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;

use super::forms::{Fields, Shape, Shown, json};
use super::layout::{Section, page};
use super::party_forms::{PARTY_FIELDS, e_status, expected, party_form};
use super::session::{Posted, Viewer};
use super::{ConsoleError, html as respond, redirect};
use crate::api::error::ApiError;
use crate::api::extract::parse_value;
use crate::api::parties::PartyPatch;
use crate::api::state::AppState;
use crate::auth::RegisterWrite;
use crate::registry::parties::commands;

/// A vendor's record as the edit form shows it.
fn as_fields(p: &crate::registry::parties::Party) -> Fields {
    let text = |k: &str, v: Option<&str>| (k.to_owned(), v.unwrap_or_default().to_owned());
    let mut pairs = vec![
        text("kind", Some(p.kind.as_str())),
        text("legal_name", Some(&p.legal_name)),
        text("country", p.country.as_deref()),
        (
            "data_locations".to_owned(),
            p.data_locations
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        text("privacy_policy_url", Some(&p.privacy_policy_url)),
        text("contact_email", Some(&p.contact_email)),
        text("contract_reference", p.contract_reference.as_deref()),
        text("risk_tier", Some(p.risk_tier.as_str())),
        text("next_review_due", p.next_review_due.as_deref()),
        text(
            "principal_place_of_business",
            p.principal_place_of_business.as_deref(),
        ),
        text("dpf_certified_until", p.dpf_certified_until.as_deref()),
    ];
    for (name, on) in [
        ("us_dsp_covered", p.us_dsp_covered),
        ("pipl_restricted", p.pipl_restricted),
    ] {
        if on {
            pairs.push((name.to_owned(), "true".to_owned()));
        }
    }
    Fields::from_pairs(pairs)
}

async fn edit_page(
    v: &Viewer,
    state: &AppState,
    id: String,
    shown: Option<Shown>,
    status: StatusCode,
) -> Result<HttpResponse, ConsoleError> {
    let found = id.clone();
    let row = state
        .read(move |conn| crate::registry::parties::store::find(conn, &found))
        .await?
        .ok_or(ApiError::NotFound)?;
    let party = crate::registry::parties::Party::from(row);
    let shown = shown.unwrap_or_else(|| Shown {
        fields: as_fields(&party),
        problem: None,
    });
    let content = html! {
        p { a href={ "/console/parties/" (id) } { "Back to " (party.legal_name) } }
        (party_form(v, &shown, Some((&id, party.version))))
    };
    let title = format!("Edit {}", party.legal_name);
    Ok(respond(status, page(v, Section::Vendors, &title, content)))
}

/// `GET /console/parties/{id}/edit`.
pub async fn edit(
    v: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    v.require::<RegisterWrite>()?;
    edit_page(&v, &state, path.into_inner(), None, StatusCode::OK).await
}

/// `POST /console/parties/{id}/edit`: `PATCH /v1/parties/{id}`, every field of the form sent
/// (an emptied optional field is cleared).
pub async fn update(
    p: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    p.viewer.require::<RegisterWrite>()?;
    let id = path.into_inner();
    let mut shape: Vec<(&str, Shape)> = PARTY_FIELDS.to_vec();
    for (name, kind) in &mut shape {
        *kind = match *name {
            "contract_reference" | "next_review_due" | "dpf_certified_until" => Shape::Clearable,
            "us_dsp_covered" | "pipl_restricted" => Shape::Flag,
            "data_locations" => Shape::Required,
            _ => *kind,
        };
    }
    let body = json(&p.fields, &shape);
    let (actor, party, version) = (p.viewer.principal.clone(), id.clone(), expected(&p.fields));
    let result = state
        .write(move |conn| {
            commands::update(conn, &actor, &party, &version, || {
                parse_value::<PartyPatch>(&body)?.into_changes()
            })
        })
        .await;
    match result {
        Ok(_) => Ok(redirect(&format!("/console/parties/{id}"))),
        Err(ApiError::NotFound) => Err(ApiError::NotFound.into()),
        Err(e) => {
            let status = e_status(&e);
            let shown = Shown::new(p.fields, e.problem());
            edit_page(&p.viewer, &state, id, Some(shown), status).await
        }
    }
}
