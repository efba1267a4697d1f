//! The request and query types of the legal-request endpoints, and their conversion into the
//! domain's commands.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::validators::{gather, optional_stamp, stamp};
use crate::disclosures::legal::commands::{Draft, Move};
use crate::disclosures::legal::report::TransparencyReport;
use crate::disclosures::legal::{AuthorityKind, ChapterVGround, Instrument, LegalStatus};
use crate::error::DomainError;

/// A legal demand, as counsel files it. No field may hold a data subject's identifier: name
/// the targets by `reference` in the case file.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"authority_name": "U.S. District Court, N.D. Cal.", "authority_country": "US",
    "authority_kind": "court", "instrument": "subpoena", "reference": "CASE-2026-117",
    "received_at": "2026-11-30T09:00:00Z", "exporter": "acme-cn", "data_stored_in": ["CN"],
    "subject_country": "CN", "categories": ["user.contact.email"], "subject_count": 3}))]
pub struct NewLegalRequest {
    #[validate(length(min = 1, max = 200))]
    pub authority_name: String,
    /// ISO 3166-1 alpha-2.
    #[validate(custom(function = "crate::api::validators::country"))]
    pub authority_country: String,
    pub authority_kind: AuthorityKind,
    pub instrument: Instrument,
    /// Counsel's case reference.
    #[validate(length(min = 1, max = 200))]
    pub reference: String,
    /// RFC 3339.
    pub received_at: String,
    /// The company's entity the demand is addressed to (a registered entity).
    #[validate(length(min = 1, max = 100))]
    pub exporter: Option<String>,
    /// Where the demanded data is stored: 1–249 distinct ISO 3166-1 alpha-2 codes.
    #[validate(custom(function = "crate::api::validators::countries"))]
    pub data_stored_in: Vec<String>,
    #[validate(custom(function = "crate::api::validators::country"))]
    pub subject_country: Option<String>,
    #[validate(custom(function = "crate::api::validators::country"))]
    pub data_origin_country: Option<String>,
    /// Category keys of the taxonomy, 1–100.
    #[validate(length(min = 1, max = 100))]
    pub categories: Vec<String>,
    #[validate(range(min = 0, max = 1_000_000_000))]
    pub subject_count: Option<i64>,
    /// The PRC competent authority's approval (PIPL Art. 41).
    #[validate(length(min = 1, max = 200))]
    pub approval_reference: Option<String>,
    /// The international agreement (GDPR Art. 48), e.g. an MLAT's reference.
    #[validate(length(min = 1, max = 200))]
    pub agreement_reference: Option<String>,
    pub chapter_v_ground: Option<ChapterVGround>,
}

/// A move of a legal request, with what the target status needs: `disclosed` takes
/// `disclosed_at` and `disclosed_categories` (and `override_reason` from `denied`);
/// `subjects_notified` takes `notified_at`; `notification_delayed` takes `delayed_until` and
/// `order_reference`; `approved` from `contested` takes new evidence.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"status": "disclosed", "disclosed_at": "2026-12-01T10:00:00Z",
    "disclosed_categories": ["user.contact.email"], "disclosed_subject_count": 3}))]
pub struct LegalStatusChange {
    pub status: LegalStatus,
    pub disclosed_at: Option<String>,
    #[validate(length(max = 100))]
    pub disclosed_categories: Option<Vec<String>>,
    #[validate(range(min = 0, max = 1_000_000_000))]
    pub disclosed_subject_count: Option<i64>,
    pub notified_at: Option<String>,
    pub delayed_until: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub order_reference: Option<String>,
    /// Moving a `denied` request to `disclosed`: why counsel overrides the gates (a second
    /// person confirms it).
    #[validate(length(min = 1, max = 2000))]
    pub override_reason: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub approval_reference: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub agreement_reference: Option<String>,
    pub chapter_v_ground: Option<ChapterVGround>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only requests in this status.
    #[param(inline)]
    pub status: Option<LegalStatus>,
    /// Only requests from authorities of this country.
    pub authority_country: Option<String>,
    /// Received at or after this instant (RFC 3339).
    pub from: Option<String>,
    /// Received before this instant (RFC 3339).
    pub to: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// JSON or CSV.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The UTC year of `received_at`, 1970–9999.
    #[param(minimum = 1970, maximum = 9999)]
    pub year: i32,
    /// `json` (default) or `csv`.
    #[param(inline)]
    #[serde(default)]
    pub format: Format,
}

pub(super) fn draft(n: NewLegalRequest) -> Result<Draft, DomainError> {
    let received = stamp("received_at", &n.received_at);
    gather(vec![received.clone().map(|_| ())])?;
    Ok(Draft {
        authority_name: n.authority_name,
        authority_country: n.authority_country,
        authority_kind: n.authority_kind,
        instrument: n.instrument,
        reference: n.reference,
        received_at: received.map_err(|e| DomainError::Invalid(vec![e]))?,
        exporter: n.exporter,
        data_stored_in: n.data_stored_in,
        subject_country: n.subject_country,
        data_origin_country: n.data_origin_country,
        categories: n.categories,
        subject_count: n.subject_count,
        approval_reference: n.approval_reference,
        agreement_reference: n.agreement_reference,
        chapter_v_ground: n.chapter_v_ground,
    })
}

pub(super) fn moved(c: LegalStatusChange) -> Result<Move, DomainError> {
    let times = (
        optional_stamp("disclosed_at", c.disclosed_at.as_deref()),
        optional_stamp("notified_at", c.notified_at.as_deref()),
        optional_stamp("delayed_until", c.delayed_until.as_deref()),
    );
    gather(vec![
        times.0.clone().map(|_| ()),
        times.1.clone().map(|_| ()),
        times.2.clone().map(|_| ()),
    ])?;
    let invalid = |e| DomainError::Invalid(vec![e]);
    Ok(Move {
        status: c.status,
        disclosed_at: times.0.map_err(invalid)?,
        disclosed_categories: c.disclosed_categories,
        disclosed_subject_count: c.disclosed_subject_count,
        notified_at: times.1.map_err(invalid)?,
        delayed_until: times.2.map_err(invalid)?,
        order_reference: c.order_reference,
        override_reason: c.override_reason,
        approval_reference: c.approval_reference,
        agreement_reference: c.agreement_reference,
        chapter_v_ground: c.chapter_v_ground,
    })
}

pub(super) fn csv(r: &TransparencyReport) -> String {
    let year = r.year.to_string();
    let mut out = crate::api::exports::csv_line(&[
        "year".into(),
        "dimension".into(),
        "value".into(),
        "count".into(),
    ]);
    let mut line = |dimension: &str, value: &str, count: String| {
        out.push_str(&crate::api::exports::csv_line(&[
            year.clone(),
            dimension.into(),
            value.into(),
            count,
        ]));
    };
    line("requests", "all", r.requests.to_string());
    for (dimension, map) in [
        ("authority_country", &r.by_authority_country),
        ("authority_kind", &r.by_authority_kind),
        ("instrument", &r.by_instrument),
        ("outcome", &r.by_outcome),
        ("status", &r.by_status),
        ("category_disclosed", &r.categories_disclosed),
    ] {
        for (value, n) in map {
            line(dimension, value, n.to_string());
        }
    }
    line(
        "national_security_process",
        "band",
        r.national_security_process.band.clone(),
    );
    out
}
