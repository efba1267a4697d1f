//! `GET /v1/exports/register.csv`: the register as the spreadsheet procurement keeps, which
//! `POST /v1/imports/register` reads back.

use actix_web::{HttpResponse, get, web};

use super::auth::Auth;
use super::exports::{PAGE, attachment, csv_line, opt};
use super::state::AppState;
use crate::auth::AuditRead;
use crate::registry::agreements::Agreement;
use crate::registry::export::page_with_grants;
use crate::registry::grants::Grant;
use crate::registry::parties::Party;

const REGISTER_HEADER: [&str; 52] = [
    "party_id",
    "kind",
    "legal_name",
    "country",
    "region",
    "data_locations",
    "privacy_policy_url",
    "contact_email",
    "contract_reference",
    "risk_tier",
    "next_review_due",
    "status",
    "status_reason",
    "external_ref",
    "party_version",
    "grant_id",
    "service",
    "categories",
    "allowed_regions",
    "transfer_mechanism",
    "legal_basis",
    "valid_from",
    "valid_until",
    "grant_status",
    "effective",
    "revoked_reason",
    "principal_place_of_business",
    "us_dsp_covered",
    "pipl_restricted",
    "dpf_certified_until",
    "grant_agreements",
    "grant_exemptions",
    "pipia_reference",
    "separate_consent",
    "status_changed_by",
    "status_changed_at",
    "grant_requested_by",
    "grant_approved_by",
    "grant_approved_at",
    "ownership",
    "agreement_id",
    "agreement_exporter",
    "agreement_kind",
    "agreement_reference",
    "agreement_signed_on",
    "agreement_valid_from",
    "agreement_valid_until",
    "agreement_filing_reference",
    "agreement_pipia_reference",
    "agreement_tia_reference",
    "agreement_document_sha256",
    "agreement_status",
];

fn register_lines(p: Party, gs: Vec<Grant>, agreements: Vec<Agreement>) -> String {
    let party = vec![
        p.id.clone(),
        p.kind.as_str().to_owned(),
        p.legal_name.clone(),
        opt(&p.country),
        p.region.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        p.data_locations.join(";"),
        p.privacy_policy_url.clone(),
        p.contact_email.clone(),
        opt(&p.contract_reference),
        p.risk_tier.as_str().to_owned(),
        opt(&p.next_review_due),
        p.status.as_str().to_owned(),
        opt(&p.status_reason),
        opt(&p.external_ref),
        p.version.to_string(),
    ];
    let facts = [
        opt(&p.principal_place_of_business),
        p.us_dsp_covered.to_string(),
        p.pipl_restricted.to_string(),
        opt(&p.dpf_certified_until),
    ];
    let status_by = [opt(&p.status_changed_by), opt(&p.status_changed_at)];
    let ownership = p
        .ownership
        .iter()
        .map(|o| format!("{}:{}", o.country, o.percent))
        .collect::<Vec<_>>()
        .join(";");
    // A row without a grant: the party's own, or one of its agreements.
    let bare = |agreement: Option<Agreement>| {
        let mut fields = party.clone();
        fields.extend(std::iter::repeat_n(String::new(), 11));
        fields.extend(facts.clone());
        fields.extend(std::iter::repeat_n(String::new(), 4));
        fields.extend(status_by.clone());
        fields.extend(std::iter::repeat_n(String::new(), 3));
        fields.push(ownership.clone());
        fields.extend(agreement_cells(agreement));
        csv_line(&fields)
    };
    let mut out = String::new();
    if gs.is_empty() && agreements.is_empty() {
        out.push_str(&bare(None));
    }
    for a in agreements {
        out.push_str(&bare(Some(a)));
    }
    let grants: String = gs
        .into_iter()
        .map(|g| {
            let mut fields = party.clone();
            fields.extend([
                g.id,
                g.service,
                g.categories.join(";"),
                g.allowed_regions
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
                g.transfer_mechanism.as_str().to_owned(),
                opt(&g.legal_basis),
                g.valid_from,
                opt(&g.valid_until),
                g.status.as_str().to_owned(),
                g.effective.as_str().to_owned(),
                opt(&g.revoked_reason),
            ]);
            fields.extend(facts.clone());
            fields.extend([
                g.agreements.join(";"),
                g.exemptions
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
                opt(&g.pipia_reference),
                g.separate_consent.to_string(),
            ]);
            fields.extend(status_by.clone());
            fields.extend([g.requested_by, opt(&g.approved_by), opt(&g.approved_at)]);
            fields.push(ownership.clone());
            fields.extend(agreement_cells(None));
            csv_line(&fields)
        })
        .collect();
    out.push_str(&grants);
    out
}

/// The agreement columns of a row (empty for a party's or a grant's row).
fn agreement_cells(a: Option<Agreement>) -> Vec<String> {
    let Some(a) = a else {
        return vec![String::new(); 12];
    };
    vec![
        a.id,
        a.exporter,
        a.kind.as_str().to_owned(),
        a.reference,
        opt(&a.signed_on),
        a.valid_from,
        opt(&a.valid_until),
        opt(&a.filing_reference),
        opt(&a.pipia_reference),
        opt(&a.tia_reference),
        opt(&a.document_sha256),
        a.status.as_str().to_owned(),
    ]
}

/// Export the register as CSV.
///
/// One row per grant, with its party's columns, and one per agreement (its `agreement_*`
/// columns, the grant's empty); a party with neither has one row of its own. `effective` is computed at export time. Roles: auditor, admin.
#[utoipa::path(
    tag = "exports",
    security(("bearer" = [])),
    extensions(("x-roles" = json!(AuditRead::NAMES))),
    responses((status = 200, description = "The register.", content_type = "text/csv", body = String,
        example = json!("party_id,kind,legal_name,country,region,data_locations,privacy_policy_url,contact_email,contract_reference,risk_tier,next_review_due,status,status_reason,external_ref,party_version,grant_id,service,categories,allowed_regions,transfer_mechanism,legal_basis,valid_from,valid_until,grant_status,effective,revoked_reason,principal_place_of_business,us_dsp_covered,pipl_restricted,dpf_certified_until,grant_agreements,grant_exemptions,pipia_reference,separate_consent,status_changed_by,status_changed_at,grant_requested_by,grant_approved_by,grant_approved_at,ownership,agreement_id,agreement_exporter,agreement_kind,agreement_reference,agreement_signed_on,agreement_valid_from,agreement_valid_until,agreement_filing_reference,agreement_pipia_reference,agreement_tia_reference,agreement_document_sha256,agreement_status\n01a23c20-5a85-774a-8e5b-63b5216897ad,third_party,Acme Mail Ltd,CN,PRC,CN;US,https://acme.example/privacy,dpo@acme.example,,medium,,trusted,due diligence DD-17 complete,,2,01a23c20-5aab-7317-8175-ddf62358548b,newsletter,user.contact.email,US;PRC,none,,2026-12-03T13:38:03.051191Z,,active,active,,CN,false,false,,,,,false,bob,2026-12-03T13:38:03.074580Z,alice,bob,2026-12-03T13:38:03.090106Z,CN:20,,,,,,,,,,,,\n")))
)]
#[get("/v1/exports/register.csv")]
pub async fn register_csv(_auth: Auth<AuditRead>, state: web::Data<AppState>) -> HttpResponse {
    register_csv_of(&state)
}

/// The register as CSV, streamed (the API's and the console's).
pub(crate) fn register_csv_of(state: &AppState) -> HttpResponse {
    let head = csv_line(&REGISTER_HEADER.map(str::to_owned));
    let now = crate::time::now();
    let body = super::streaming::pages(
        state.pool.clone(),
        String::new(),
        move |conn, after: String| {
            let page = page_with_grants(conn, &after, PAGE)?;
            let mut text = if after.is_empty() {
                head.clone()
            } else {
                String::new()
            };
            let next = (page.len() as i64 == PAGE)
                .then(|| page.last().map(|(p, _)| p.id.clone()))
                .flatten();
            let ids: Vec<&str> = page.iter().map(|(p, _)| p.id.as_str()).collect();
            let mut agreements = crate::registry::export::agreements_of(conn, &ids)?;
            for (p, gs) in page {
                let own = agreements.remove(&p.id).unwrap_or_default();
                text.push_str(&register_lines(
                    Party::from(p),
                    gs.into_iter().map(|g| g.view(now)).collect(),
                    own.into_iter().map(Agreement::from).collect(),
                ));
            }
            Ok((text, next))
        },
    );
    attachment("text/csv; charset=utf-8", "register.csv").set_body(actix_web::body::BoxBody::new(
        actix_web::body::BodyStream::new(body),
    ))
}
