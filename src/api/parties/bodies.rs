//! The request types of the party endpoints, and the rules their fields follow.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::error::ApiError;
use crate::api::validators::{countries, date, https_url, nullable, optional, parse_countries};
use crate::error::{DomainError, FieldError};
use crate::registry::parties::{self, Ownership, PartyKind, PartyStatus, RiskTier, store};
use crate::types::{CountryCode, Region};

/// A new party; it starts `pending_review`.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"kind": "third_party", "legal_name": "Acme Mail Ltd", "country": "CN",
    "data_locations": ["CN", "SG"], "privacy_policy_url": "https://acme.example/privacy",
    "contact_email": "dpo@acme.example", "contract_reference": "MSA-2026-001", "risk_tier": "medium",
    "next_review_due": "2027-06-30"}))]
pub struct NewParty {
    pub kind: PartyKind,
    #[validate(length(min = 1, max = 300))]
    pub legal_name: String,
    #[validate(custom(function = "crate::api::validators::country"))]
    pub country: String,
    #[validate(custom(function = "countries"))]
    pub data_locations: Vec<String>,
    #[validate(custom(function = "https_url"))]
    pub privacy_policy_url: String,
    #[validate(email(message = "must be an email address"), length(max = 320))]
    pub contact_email: String,
    #[validate(length(min = 1, max = 200))]
    pub contract_reference: Option<String>,
    /// Defaults to `medium`.
    pub risk_tier: Option<RiskTier>,
    #[validate(custom(function = "date"))]
    pub next_review_due: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub external_ref: Option<String>,
    #[validate(length(max = 200))]
    pub declared_purposes: Option<Vec<String>>,
    #[validate(length(max = 500))]
    pub declared_categories: Option<Vec<String>>,
    /// Where the party is managed from; defaults to `country`.
    pub principal_place_of_business: Option<String>,
    /// Ownership by the government or persons of a country; at most 100 % in all.
    #[validate(length(max = 50))]
    pub ownership: Option<Vec<Ownership>>,
    /// A covered person of the US Data Security Program (28 CFR 202.211).
    pub us_dsp_covered: Option<bool>,
    /// On the CAC's restricted or prohibited list (PIPL Art. 42).
    pub pipl_restricted: Option<bool>,
    /// EU-US Data Privacy Framework certification until (`YYYY-MM-DD`).
    pub dpf_certified_until: Option<String>,
}

/// The transfer-law facts of a party body, checked.
pub(super) fn facts(
    principal_place_of_business: Option<&str>,
    ownership: Option<Vec<Ownership>>,
    us_dsp_covered: Option<bool>,
    pipl_restricted: Option<bool>,
    dpf_certified_until: Option<Option<String>>,
) -> Result<parties::Facts, DomainError> {
    let mut errors = Vec::new();
    let ppb = principal_place_of_business.and_then(|c| {
        let parsed = CountryCode::parse(c);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "principal_place_of_business",
                "must be an ISO 3166-1 alpha-2 code",
            ));
        }
        parsed
    });
    if let Some(list) = &ownership {
        for (i, o) in list.iter().enumerate() {
            if CountryCode::parse(&o.country).is_none() {
                errors.push(FieldError::new(
                    format!("ownership[{i}].country"),
                    "must be an ISO 3166-1 alpha-2 code",
                ));
            }
            if o.percent > 100 {
                errors.push(FieldError::new(
                    format!("ownership[{i}].percent"),
                    "must be 0-100",
                ));
            }
        }
        if list.iter().map(|o| u64::from(o.percent)).sum::<u64>() > 100 {
            errors.push(FieldError::new(
                "ownership",
                "adds up to more than 100 percent",
            ));
        }
    }
    if let Some(Some(d)) = &dpf_certified_until
        && crate::time::parse_date(d).is_none()
    {
        errors.push(FieldError::new(
            "dpf_certified_until",
            "must be a date as YYYY-MM-DD",
        ));
    }
    crate::error::collect(errors)?;
    Ok(parties::Facts {
        principal_place_of_business: ppb,
        ownership,
        us_dsp_covered,
        pipl_restricted,
        dpf_certified_until,
    })
}

/// Changes to a party; absent fields stay as they are, null clears an optional field.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"risk_tier": "high", "next_review_due": "2027-01-31"}))]
pub struct PartyPatch {
    pub kind: Option<PartyKind>,
    #[validate(length(min = 1, max = 300))]
    pub legal_name: Option<String>,
    #[validate(custom(function = "crate::api::validators::country"))]
    pub country: Option<String>,
    #[validate(custom(function = "countries"))]
    pub data_locations: Option<Vec<String>>,
    #[validate(custom(function = "https_url"))]
    pub privacy_policy_url: Option<String>,
    #[validate(email(message = "must be an email address"), length(max = 320))]
    pub contact_email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contract_reference: Option<Option<String>>,
    pub risk_tier: Option<RiskTier>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub next_review_due: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
    #[validate(length(max = 200))]
    pub declared_purposes: Option<Vec<String>>,
    #[validate(length(max = 500))]
    pub declared_categories: Option<Vec<String>>,
    pub principal_place_of_business: Option<String>,
    #[validate(length(max = 50))]
    pub ownership: Option<Vec<Ownership>>,
    /// Clearing it needs someone other than the person who set it.
    pub us_dsp_covered: Option<bool>,
    /// Clearing it needs someone other than the person who set it.
    pub pipl_restricted: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub dpf_certified_until: Option<Option<String>>,
}

impl PartyPatch {
    /// The changes, once the rules the validator crate cannot state hold.
    pub(crate) fn into_changes(self) -> Result<parties::Changes, DomainError> {
        for (field, value) in [
            ("contract_reference", &self.contract_reference),
            ("external_ref", &self.external_ref),
        ] {
            if let Some(Some(v)) = value
                && (v.is_empty() || v.len() > 200)
            {
                return Err(DomainError::field(field, "must be 1-200 characters"));
            }
        }
        if let Some(Some(d)) = &self.next_review_due {
            date(d).map_err(|_| {
                DomainError::field("next_review_due", "must be a date as YYYY-MM-DD")
            })?;
        }
        Ok(parties::Changes {
            kind: self.kind,
            legal_name: self.legal_name,
            country: self
                .country
                .as_deref()
                .map(|c| parse_country("country", c))
                .transpose()?,
            data_locations: self
                .data_locations
                .as_deref()
                .map(|c| parse_countries("data_locations", c))
                .transpose()?,
            privacy_policy_url: self.privacy_policy_url,
            contact_email: self.contact_email,
            contract_reference: self.contract_reference,
            risk_tier: self.risk_tier,
            next_review_due: self.next_review_due,
            external_ref: self.external_ref,
            facts: facts(
                self.principal_place_of_business.as_deref(),
                self.ownership,
                self.us_dsp_covered,
                self.pipl_restricted,
                self.dpf_certified_until,
            )?,
            declared_purposes: self.declared_purposes,
            declared_categories: self.declared_categories,
        })
    }
}

pub(super) fn parse_country(field: &str, code: &str) -> Result<CountryCode, DomainError> {
    CountryCode::parse(code)
        .ok_or_else(|| DomainError::field(field, "must be an ISO 3166-1 alpha-2 code"))
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[schema(example = json!({"status": "trusted", "reason": "Due diligence DD-2026-17 complete."}))]
pub struct StatusChange {
    pub status: PartyStatus,
    /// Why; kept as `status_reason` and in the ledger.
    #[validate(length(max = 1000))]
    pub reason: Option<String>,
}

impl StatusChange {
    pub(crate) fn into_change(self) -> crate::registry::lifecycle::StatusChange {
        crate::registry::lifecycle::StatusChange {
            status: self.status,
            reason: self.reason,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `third_party` or `affiliate`.
    #[param(value_type = Option<PartyKind>)]
    pub kind: Option<String>,
    /// `PRC`, `US` or `OTHER`.
    #[param(value_type = Option<Region>)]
    region: Option<String>,
    /// `pending_review`, `trusted`, `suspended` or `offboarded`.
    #[param(value_type = Option<PartyStatus>)]
    status: Option<String>,
    /// Case-insensitive text in the legal name.
    q: Option<String>,
    /// Only parties whose review is due before this date (`YYYY-MM-DD`).
    review_due_before: Option<String>,
    /// Only the party with this external reference (e.g. `gvl:755`).
    external_ref: Option<String>,
    /// Answer what the register said at this instant (RFC 3339, or a bare date meaning the end
    /// of that day, UTC): the filters apply to the parties as they were; each item carries
    /// `as_of_ledger_seq`.
    pub as_of: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    pub(crate) fn filter(&self) -> Result<store::Filter, ApiError> {
        let kind = optional(
            "kind",
            self.kind.as_deref(),
            PartyKind::parse,
            "must be third_party or affiliate",
        )?;
        let region = optional(
            "region",
            self.region.as_deref(),
            Region::parse,
            "must be PRC, US or OTHER",
        )?;
        let status = optional(
            "status",
            self.status.as_deref(),
            PartyStatus::parse,
            "must be pending_review, trusted, suspended or offboarded",
        )?;
        optional(
            "review_due_before",
            self.review_due_before.as_deref(),
            crate::time::parse_date,
            "must be a date as YYYY-MM-DD",
        )?;
        if self.q.as_deref().is_some_and(|t| t.len() > 200) {
            return Err(ApiError::field("q", "must be at most 200 characters"));
        }
        Ok(store::Filter {
            kind,
            region,
            status,
            name_contains: self.q.clone(),
            review_due_before: self.review_due_before.clone(),
            external_ref: self.external_ref.clone(),
            ids: None,
        })
    }
}
