//! Parties: vendors (`third_party`) and `affiliate`s, their records and their lifecycle.

pub mod commands;
pub mod store;
pub mod sub_processors;

pub use sub_processors::SubProcessor;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::parties;
use crate::types::{CountryCode, List, Region, text_enum};

text_enum! {
    /// An outside vendor or one of the company's own affiliates.
    pub enum PartyKind {
        /// An outside vendor.
        ThirdParty = "third_party",
        /// One of the company's own affiliates.
        Affiliate = "affiliate",
    }
}

text_enum! {
    /// Procurement's assessment of the party's risk.
    pub enum RiskTier {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
}

text_enum! {
    /// `pending_review → trusted ⇄ suspended`, and any state `→ offboarded` (final).
    pub enum PartyStatus {
        /// Registered, not yet reviewed: receives nothing.
        PendingReview = "pending_review",
        /// Reviewed and approved by someone other than its registrant: may receive what its grants allow.
        Trusted = "trusted",
        /// Temporarily receives nothing; its grants are kept.
        Suspended = "suspended",
        /// Final: receives nothing, and all its grants were revoked.
        Offboarded = "offboarded",
    }
}

/// A stored party.
#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = parties, treat_none_as_null = true)]
pub struct PartyRow {
    pub id: String,
    pub kind: PartyKind,
    pub legal_name: String,
    pub country: Option<CountryCode>,
    pub region: Option<Region>,
    pub data_locations: List<CountryCode>,
    pub privacy_policy_url: String,
    pub contact_email: String,
    pub contract_reference: Option<String>,
    pub risk_tier: RiskTier,
    pub next_review_due: Option<String>,
    pub status: PartyStatus,
    pub status_reason: Option<String>,
    pub external_ref: Option<String>,
    pub declared_purposes: List<String>,
    pub declared_categories: List<String>,
    pub deleted_upstream: bool,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub principal_place_of_business: Option<CountryCode>,
    pub ownership: List<Ownership>,
    pub us_dsp_covered: bool,
    /// Who set `us_dsp_covered`: someone else must clear it.
    pub us_dsp_covered_by: Option<String>,
    pub pipl_restricted: bool,
    /// Who set `pipl_restricted`: someone else must clear it.
    pub pipl_restricted_by: Option<String>,
    pub dpf_certified_until: Option<String>,
    /// Who last changed `status` (trusted, suspended, sent back for review), and when.
    pub status_changed_by: Option<String>,
    pub status_changed_at: Option<String>,
    pub sub_processors: List<SubProcessor>,
}

impl PartyRow {
    /// Four eyes after review: once a party has been trusted (it is `trusted` or `suspended`), what
    /// widens what it receives — a new grant, an exemption added to a grant, a processing country
    /// added — is not for its registrant alone: another principal makes that change, as another
    /// principal trusted it.
    pub fn four_eyes(&self, by: &str, what: &str) -> Result<(), crate::error::DomainError> {
        let reviewed = matches!(self.status, PartyStatus::Trusted | PartyStatus::Suspended);
        if reviewed && by == self.created_by {
            return Err(crate::error::DomainError::NotPermitted(format!(
                "Four eyes: the principal who registered a trusted party cannot {what} alone; another principal must."
            )));
        }
        Ok(())
    }

    /// The facts of `changes` that would change what a review of this party judged: its kind,
    /// country, principal place of business or ownership, or a processing country added.
    /// A trusted party so changed goes back to `pending_review`.
    pub fn material_changes(&self, c: &Changes) -> Vec<&'static str> {
        let mut out = Vec::new();
        if c.kind.is_some_and(|k| k != self.kind) {
            out.push("kind");
        }
        if c.country.is_some_and(|k| Some(k) != self.country) {
            out.push("country");
        }
        if c.data_locations
            .as_ref()
            .is_some_and(|l| l.iter().any(|x| !self.data_locations.contains(x)))
        {
            out.push("data_locations");
        }
        if c.facts
            .principal_place_of_business
            .is_some_and(|p| Some(p) != self.principal_place_of_business)
        {
            out.push("principal_place_of_business");
        }
        if c.facts
            .ownership
            .as_ref()
            .is_some_and(|o| *o != self.ownership.0)
        {
            out.push("ownership");
        }
        out
    }
}

/// Direct or indirect ownership of a party by the government or persons of a country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ownership {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// 0–100; the shares of a party add up to 100 at most.
    pub percent: u32,
}

/// The transfer-law facts of a party (docs/TRANSFERS.md "Party facts").
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub principal_place_of_business: Option<CountryCode>,
    pub ownership: Option<Vec<Ownership>>,
    pub us_dsp_covered: Option<bool>,
    pub pipl_restricted: Option<bool>,
    pub dpf_certified_until: Option<Option<String>>,
}

/// A vendor or affiliate that may receive personal data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "kind": "third_party",
    "legal_name": "Acme Mail Ltd", "country": "CN", "region": "PRC", "data_locations": ["CN", "SG"],
    "privacy_policy_url": "https://acme.example/privacy", "contact_email": "dpo@acme.example",
    "contract_reference": "MSA-2026-001", "risk_tier": "medium", "next_review_due": "2027-06-30",
    "status": "trusted", "status_reason": "due diligence complete", "external_ref": null,
    "declared_purposes": [], "declared_categories": [], "created_by": "alice",
    "created_at": "2026-11-29T10:00:00.000000Z", "updated_at": "2026-11-29T11:00:00.000000Z", "version": 2}))]
pub struct Party {
    /// The party's id (a UUID the service issued).
    pub id: String,
    /// `third_party` (a vendor) or `affiliate` (a company of the group).
    pub kind: PartyKind,
    /// The registered legal name.
    pub legal_name: String,
    /// Country of establishment (ISO 3166-1 alpha-2); null only for an imported party not yet completed.
    pub country: Option<String>,
    /// Derived from `country`: `PRC` for CN, `US` for US, else `OTHER`.
    pub region: Option<Region>,
    /// Countries where the party stores or processes data (ISO 3166-1 alpha-2).
    pub data_locations: Vec<String>,
    /// An https URL.
    pub privacy_policy_url: String,
    /// The party's business contact (not a data subject).
    pub contact_email: String,
    /// The contract or order the party works under, as procurement files it.
    pub contract_reference: Option<String>,
    /// `low`, `medium` or `high`: sets the review cadence (730, 365, 182 days).
    pub risk_tier: RiskTier,
    /// The date of the next periodic review (`YYYY-MM-DD`).
    pub next_review_due: Option<String>,
    /// `pending_review` until someone other than its registrant trusts it; only a `trusted` party receives data.
    pub status: PartyStatus,
    /// The reason given with the last status change.
    pub status_reason: Option<String>,
    /// Who last changed `status`: who trusted, suspended or offboarded it, or who made the
    /// material change that sent it back to `pending_review`. Null if it never changed (or
    /// changed before this was kept: the ledger holds those).
    #[serde(default)]
    pub status_changed_by: Option<String>,
    /// When `status` last changed (RFC 3339, UTC).
    #[serde(default)]
    pub status_changed_at: Option<String>,
    /// A reference in another system, e.g. `gvl:755` for an IAB vendor.
    pub external_ref: Option<String>,
    /// Purposes the party itself declares (e.g. in the GVL). They grant nothing.
    pub declared_purposes: Vec<String>,
    /// Data categories the party itself declares. They grant nothing.
    pub declared_categories: Vec<String>,
    /// The principal who registered it; it cannot be the one who marks it trusted.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Where the party is managed from (ISO alpha-2); `country` unless told otherwise.
    #[serde(default)]
    pub principal_place_of_business: Option<String>,
    /// Ownership by the government or persons of a country (28 CFR 202.211).
    #[serde(default)]
    pub ownership: Vec<Ownership>,
    /// Designated, or known to be, a covered person of the US Data Security Program.
    #[serde(default)]
    pub us_dsp_covered: bool,
    /// On the CAC's restricted or prohibited list (PIPL Art. 42).
    #[serde(default)]
    pub pipl_restricted: bool,
    /// EU-US Data Privacy Framework certification until this date (`YYYY-MM-DD`).
    #[serde(default)]
    pub dpf_certified_until: Option<String>,
    /// The parties it passes data on to (`PUT /v1/parties/{id}/sub-processors`).
    #[serde(default)]
    pub sub_processors: Vec<SubProcessor>,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
    /// On a read of one party now: its incidents that are not closed (docs/DISCLOSURES.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_incidents: Vec<String>,
}

impl From<PartyRow> for Party {
    fn from(r: PartyRow) -> Self {
        Party {
            id: r.id,
            kind: r.kind,
            legal_name: r.legal_name,
            country: r.country.map(|c| c.to_string()),
            region: r.region,
            data_locations: r.data_locations.iter().map(|c| c.to_string()).collect(),
            privacy_policy_url: r.privacy_policy_url,
            contact_email: r.contact_email,
            contract_reference: r.contract_reference,
            risk_tier: r.risk_tier,
            next_review_due: r.next_review_due,
            status: r.status,
            status_reason: r.status_reason,
            status_changed_by: r.status_changed_by,
            status_changed_at: r.status_changed_at,
            external_ref: r.external_ref,
            declared_purposes: r.declared_purposes.0,
            declared_categories: r.declared_categories.0,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            principal_place_of_business: r.principal_place_of_business.map(|c| c.to_string()),
            ownership: r.ownership.0,
            us_dsp_covered: r.us_dsp_covered,
            pipl_restricted: r.pipl_restricted,
            dpf_certified_until: r.dpf_certified_until,
            sub_processors: r.sub_processors.0,
            as_of_ledger_seq: None,
            open_incidents: Vec::new(),
        }
    }
}

impl Party {
    /// The stored form of a party as the ledger recorded it (to judge the register as it was);
    /// `None` when a recorded country code no longer parses. Who set the covered-person and
    /// restricted-list marks is not part of the view: those stay unset.
    pub fn to_row(&self) -> Option<PartyRow> {
        let code = |c: &Option<String>| -> Option<Option<CountryCode>> {
            c.as_deref()
                .map(CountryCode::parse)
                .map_or(Some(None), |p| p.map(Some))
        };
        let locations = self.data_locations.iter().map(|c| CountryCode::parse(c));
        Some(PartyRow {
            id: self.id.clone(),
            kind: self.kind,
            legal_name: self.legal_name.clone(),
            country: code(&self.country)?,
            region: self.region,
            data_locations: List(locations.collect::<Option<Vec<_>>>()?),
            privacy_policy_url: self.privacy_policy_url.clone(),
            contact_email: self.contact_email.clone(),
            contract_reference: self.contract_reference.clone(),
            risk_tier: self.risk_tier,
            next_review_due: self.next_review_due.clone(),
            status: self.status,
            status_reason: self.status_reason.clone(),
            external_ref: self.external_ref.clone(),
            declared_purposes: List(self.declared_purposes.clone()),
            declared_categories: List(self.declared_categories.clone()),
            deleted_upstream: false,
            created_by: self.created_by.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            version: self.version,
            principal_place_of_business: code(&self.principal_place_of_business)?,
            ownership: List(self.ownership.clone()),
            us_dsp_covered: self.us_dsp_covered,
            us_dsp_covered_by: None,
            pipl_restricted: self.pipl_restricted,
            pipl_restricted_by: None,
            dpf_certified_until: self.dpf_certified_until.clone(),
            status_changed_by: self.status_changed_by.clone(),
            status_changed_at: self.status_changed_at.clone(),
            sub_processors: List(self.sub_processors.clone()),
        })
    }
}

/// A new party, as validated at the edge; it starts `pending_review`.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: PartyKind,
    pub legal_name: String,
    pub country: CountryCode,
    pub data_locations: Vec<CountryCode>,
    pub privacy_policy_url: String,
    pub contact_email: String,
    pub contract_reference: Option<String>,
    pub risk_tier: RiskTier,
    pub next_review_due: Option<String>,
    pub external_ref: Option<String>,
    pub declared_purposes: Vec<String>,
    pub declared_categories: Vec<String>,
    pub facts: Facts,
}

/// Changes to a party: `None` leaves a field as it is; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub kind: Option<PartyKind>,
    pub legal_name: Option<String>,
    pub country: Option<CountryCode>,
    pub data_locations: Option<Vec<CountryCode>>,
    pub privacy_policy_url: Option<String>,
    pub contact_email: Option<String>,
    pub contract_reference: Option<Option<String>>,
    pub risk_tier: Option<RiskTier>,
    pub next_review_due: Option<Option<String>>,
    pub external_ref: Option<Option<String>>,
    pub declared_purposes: Option<Vec<String>>,
    pub declared_categories: Option<Vec<String>>,
    pub facts: Facts,
}

/// True for an absolute https URL with a host.
pub fn is_https_url(s: &str) -> bool {
    s.len() <= 2000
        && url::Url::parse(s)
            .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
}
