//! The request and query types of the incident endpoints, and their conversion into the
//! domain's commands.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::legal::Format;
use crate::api::validators::{nullable, optional_stamp, stamp};
use crate::disclosures::incidents::exposure::Exposure;
use crate::disclosures::incidents::{Changes, Draft, DutyStatus, IncidentStatus, Severity};
use crate::error::{DomainError, FieldError};

/// A new incident at a party.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "title": "Credential stuffing at the mail vendor",
    "became_aware_at": "2026-12-01T08:00:00Z", "severity": "high", "categories": ["user.contact.email"],
    "description": "Vendor reports access to its mailing database."}))]
pub struct NewIncident {
    #[validate(custom(function = "crate::api::validators::uuid"))]
    #[schema(format = "uuid")]
    pub party_id: String,
    #[validate(length(min = 1, max = 200))]
    pub title: String,
    /// RFC 3339: when the company became aware; the duties' clocks run from here.
    pub became_aware_at: String,
    pub detected_at: Option<String>,
    pub occurred_from: Option<String>,
    pub occurred_until: Option<String>,
    pub severity: Severity,
    /// Category keys of the taxonomy, 1–100.
    #[validate(length(min = 1, max = 100))]
    pub categories: Vec<String>,
    #[validate(length(max = 5000))]
    pub description: Option<String>,
    /// Decisions from this instant count as exposed; absent: from the party's first decision.
    pub exposure_from: Option<String>,
    /// Suspend a trusted party (default true).
    #[serde(default = "yes")]
    pub suspend: bool,
    /// Required when `suspend` is false.
    #[validate(length(min = 1, max = 1000))]
    pub no_suspend_reason: Option<String>,
}

pub(super) fn yes() -> bool {
    true
}

/// An amendment; absent fields stay, null clears an optional one.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"occurred_until": "2026-12-01T06:00:00Z", "severity": "critical"}))]
pub struct IncidentPatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub occurred_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub occurred_until: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub exposure_from: Option<Option<String>>,
    pub severity: Option<Severity>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// `open → contained → closed`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"status": "contained"}))]
pub struct IncidentStatusChange {
    pub status: IncidentStatus,
}

/// What was done about a duty.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"status": "done", "at": "2026-12-02T09:00:00Z", "reference": "DPC-BN-2026-311"}))]
pub struct DutyUpdate {
    /// `done` or `not_required`.
    pub status: DutyStatus,
    /// RFC 3339; required for `done`.
    pub at: Option<String>,
    /// The notice's reference (for `done`).
    #[validate(length(min = 1, max = 200))]
    pub reference: Option<String>,
    /// Why it is not owed (for `not_required`).
    #[validate(length(min = 1, max = 2000))]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only incidents at this party.
    pub party_id: Option<String>,
    /// Only incidents in this status.
    #[param(inline)]
    pub status: Option<IncidentStatus>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExposureQuery {
    /// `json` (default) or `csv`.
    #[param(inline)]
    #[serde(default)]
    pub format: Format,
}

pub(super) fn gather(
    results: Vec<Result<Option<String>, FieldError>>,
) -> Result<Vec<Option<String>>, DomainError> {
    let errors: Vec<FieldError> = results.iter().filter_map(|r| r.clone().err()).collect();
    crate::error::collect(errors)?;
    Ok(results.into_iter().map(|r| r.unwrap_or_default()).collect())
}

pub(in crate::api) fn draft(n: NewIncident) -> Result<Draft, DomainError> {
    let aware = stamp("became_aware_at", &n.became_aware_at).map(Some);
    let times = gather(vec![
        aware,
        optional_stamp("detected_at", n.detected_at.as_deref()),
        optional_stamp("occurred_from", n.occurred_from.as_deref()),
        optional_stamp("occurred_until", n.occurred_until.as_deref()),
        optional_stamp("exposure_from", n.exposure_from.as_deref()),
    ])?;
    let mut t = times.into_iter();
    let mut next = || t.next().flatten();
    Ok(Draft {
        party_id: n.party_id,
        title: n.title,
        became_aware_at: next().unwrap_or_default(),
        detected_at: next(),
        occurred_from: next(),
        occurred_until: next(),
        severity: n.severity,
        categories: n.categories,
        description: n.description,
        exposure_from: next(),
        suspend: n.suspend,
        no_suspend_reason: n.no_suspend_reason,
    })
}

pub(super) fn changes(p: IncidentPatch) -> Result<Changes, DomainError> {
    let field =
        |name: &str, v: Option<Option<String>>| -> Result<Option<Option<String>>, FieldError> {
            match v {
                Some(Some(s)) => stamp(name, &s).map(|s| Some(Some(s))),
                other => Ok(other),
            }
        };
    let (from, until, exposure) = (
        field("occurred_from", p.occurred_from),
        field("occurred_until", p.occurred_until),
        field("exposure_from", p.exposure_from),
    );
    let errors: Vec<FieldError> = [&from, &until, &exposure]
        .iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    crate::error::collect(errors)?;
    Ok(Changes {
        occurred_from: from.unwrap_or_default(),
        occurred_until: until.unwrap_or_default(),
        exposure_from: exposure.unwrap_or_default(),
        severity: p.severity,
        description: p.description,
    })
}

pub(in crate::api) fn exposure_csv(e: &Exposure) -> String {
    let header = [
        "service",
        "category",
        "subject_country",
        "subject_region",
        "exporter",
        "decisions",
        "subject_count",
        "grants",
        "agreements",
        "ledger_seqs",
    ];
    let mut out = crate::api::exports::csv_line(&header.map(String::from));
    for g in &e.groups {
        out.push_str(&crate::api::exports::csv_line(&[
            g.service.clone(),
            g.category.clone(),
            g.subject_country.clone().unwrap_or_default(),
            g.subject_region.to_string(),
            g.exporter.clone().unwrap_or_default(),
            g.decisions.to_string(),
            g.subject_count.map(|n| n.to_string()).unwrap_or_default(),
            g.grants.join(" "),
            g.agreements.join(" "),
            g.ledger_seqs
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ]));
    }
    out
}
