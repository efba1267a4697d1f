//! Exports of the disclosures for counsel and auditors: legal requests and incidents (one line
//! per duty) as CSV, each as it is now or as it was at `as_of`.

use actix_web::{HttpResponse, get, web};

use super::auth::Auth;
use super::error::ApiError;
use super::exports::csv_line;
use super::state::AppState;
use super::validators::{AsOfQuery, as_of};
use crate::auth::DisclosureRead;
use crate::db::DbConn;
use crate::disclosures::incidents::{self, Incident};
use crate::disclosures::legal::{self, LegalRequest};
use crate::error::DomainError;
use crate::ledger::Subject;

const LEGAL_HEADER: [&str; 23] = [
    "id",
    "received_at",
    "authority_name",
    "authority_country",
    "authority_kind",
    "instrument",
    "reference",
    "exporter",
    "data_stored_in",
    "categories",
    "subject_count",
    "outcome",
    "reasons",
    "status",
    "disclosed_at",
    "disclosed_categories",
    "notified_at",
    "delayed_until",
    "override_by",
    "override_confirmed_by",
    "closed_at",
    "created_by",
    "version",
];

const INCIDENT_HEADER: [&str; 20] = [
    "id",
    "party_id",
    "title",
    "severity",
    "status",
    "became_aware_at",
    "occurred_from",
    "occurred_until",
    "suspended",
    "created_by",
    "version",
    "duty_id",
    "duty_regime",
    "duty_rule",
    "duty_exporter",
    "duty_addressee",
    "duty_due_at",
    "duty_status",
    "duty_done_at",
    "duty_overdue",
];

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn legal_line(r: &LegalRequest) -> String {
    let o = r.override_.as_ref();
    csv_line(&[
        r.id.clone(),
        r.received_at.clone(),
        r.authority_name.clone(),
        r.authority_country.clone(),
        r.authority_kind.to_string(),
        r.instrument.to_string(),
        r.reference.clone(),
        opt(&r.exporter),
        r.data_stored_in.join(";"),
        r.categories.join(";"),
        r.subject_count.map(|n| n.to_string()).unwrap_or_default(),
        r.outcome.as_str().to_owned(),
        r.reasons
            .iter()
            .map(|x| x.code.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        r.status.to_string(),
        opt(&r.disclosed_at),
        r.disclosed_categories.join(";"),
        opt(&r.notified_at),
        opt(&r.delayed_until),
        o.map(|o| o.by.clone()).unwrap_or_default(),
        o.and_then(|o| o.confirmed_by.clone()).unwrap_or_default(),
        opt(&r.closed_at),
        r.created_by.clone(),
        r.version.to_string(),
    ])
}

fn incident_lines(i: &Incident) -> String {
    let head = [
        i.id.clone(),
        i.party_id.clone(),
        i.title.clone(),
        i.severity.to_string(),
        i.status.to_string(),
        i.became_aware_at.clone(),
        opt(&i.occurred_from),
        opt(&i.occurred_until),
        i.suspension.done.to_string(),
        i.created_by.clone(),
        i.version.to_string(),
    ];
    if i.duties.is_empty() {
        let mut fields = head.to_vec();
        fields.resize(INCIDENT_HEADER.len(), String::new());
        return csv_line(&fields);
    }
    i.duties
        .iter()
        .map(|d| {
            let mut fields = head.to_vec();
            fields.extend([
                d.id.clone(),
                d.regime.to_string(),
                d.rule.clone(),
                opt(&d.exporter),
                d.addressee.to_string(),
                opt(&d.due_at),
                d.status.to_string(),
                opt(&d.done_at),
                d.overdue.to_string(),
            ]);
            csv_line(&fields)
        })
        .collect()
}

/// Every object of a kind as it is now, or as its last ledger entry before `at` recorded it.
fn as_of_all<T: serde::de::DeserializeOwned>(
    conn: &mut DbConn,
    ids: Vec<String>,
    subject: for<'a> fn(&'a str) -> Subject<'a>,
    at: &str,
) -> Result<Vec<T>, DomainError> {
    let mut out = Vec::new();
    for id in ids {
        let key = subject(&id).to_string();
        if let Some((v, _)) = crate::ledger::store::state_at::<T>(conn, &key, at)? {
            out.push(v);
        }
    }
    Ok(out)
}

fn csv(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

/// Export the legal requests as CSV.
///
/// One line per request, oldest first, now or as recorded at `as_of` (requests filed after it
/// are absent). `reasons` are codes, lists `;`-separated. Exact counts of national-security
/// process appear here, for counsel and auditors only; the transparency report bands them.
/// Roles: legal, admin, auditor.
#[utoipa::path(
    tag = "exports",
    params(AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureRead::NAMES))),
    responses((status = 200, description = "The legal requests.", content_type = "text/csv", body = String,
        example = json!("id,received_at,authority_name,authority_country,authority_kind,instrument,reference,exporter,data_stored_in,categories,subject_count,outcome,reasons,status,disclosed_at,disclosed_categories,notified_at,delayed_until,override_by,override_confirmed_by,closed_at,created_by,version\r\n0193a0c8-4444-7cc0-9d2a-0c1b2a3d4e5f,2026-11-30T09:00:00.000000Z,\"U.S. District Court, N.D. Cal.\",US,court,subpoena,CASE-2026-117,acme-cn,CN,user.contact.email,3,denied,prc_approval_missing,denied,,,,,,,,counsel,1\r\n")))
)]
#[get("/v1/exports/legal-requests.csv")]
pub async fn legal_requests_csv(
    _auth: Auth<DisclosureRead>,
    state: web::Data<AppState>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let at = as_of(query.as_of())?;
    let requests = state
        .read(move |conn| -> Result<Vec<LegalRequest>, DomainError> {
            let rows = legal::store::list(conn, &Default::default(), None, None)?;
            match at {
                Some(at) => as_of_all(
                    conn,
                    rows.into_iter().map(|r| r.id).collect(),
                    |id| Subject::LegalRequest(id),
                    &at,
                ),
                None => rows.iter().map(legal::store::Row::request).collect(),
            }
        })
        .await?;
    let mut body = csv_line(&LEGAL_HEADER.map(str::to_owned));
    for r in &requests {
        body.push_str(&legal_line(r));
    }
    Ok(csv("legal-requests.csv", body))
}

/// Export the incidents with their duties as CSV.
///
/// One line per duty (an incident without duties has one line with the duty columns empty),
/// oldest incident first, now or as recorded at `as_of`; `duty_overdue` is judged at that
/// instant. Roles: legal, admin, auditor.
#[utoipa::path(
    tag = "exports",
    params(AsOfQuery),
    security(("bearer" = [])),
    extensions(("x-roles" = json!(DisclosureRead::NAMES))),
    responses((status = 200, description = "The incidents and their duties.", content_type = "text/csv", body = String,
        example = json!("id,party_id,title,severity,status,became_aware_at,occurred_from,occurred_until,suspended,created_by,version,duty_id,duty_regime,duty_rule,duty_exporter,duty_addressee,duty_due_at,duty_status,duty_done_at,duty_overdue\r\n0193a0c9-5555-7cc0-9d2a-0c1b2a3d4e5f,0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f,Credential stuffing,high,open,2026-12-01T08:00:00.000000Z,,,true,counsel,1,0193a0c9-6666-7cc0-9d2a-0c1b2a3d4e5f,gdpr,GDPR Art. 33,acme-de,supervisory_authority,2026-12-04T08:00:00.000000Z,pending,,false\r\n")))
)]
#[get("/v1/exports/incidents.csv")]
pub async fn incidents_csv(
    _auth: Auth<DisclosureRead>,
    state: web::Data<AppState>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let at = as_of(query.as_of())?;
    let when = at
        .clone()
        .unwrap_or_else(|| crate::time::format(crate::time::now()));
    let list = state
        .read(move |conn| -> Result<Vec<Incident>, DomainError> {
            let now = incidents::store::list(conn, &Default::default(), None, None)?;
            match at {
                Some(at) => as_of_all(
                    conn,
                    now.into_iter().map(|i| i.id).collect(),
                    |id| Subject::Incident(id),
                    &at,
                ),
                None => Ok(now),
            }
        })
        .await?;
    let mut body = csv_line(&INCIDENT_HEADER.map(str::to_owned));
    for i in list {
        body.push_str(&incident_lines(&i.judged_at(&when)));
    }
    Ok(csv("incidents.csv", body))
}
