//! Grants: party × service × categories, with the regions the data may go to, an optional
//! cross-border transfer mechanism and a validity window. Never deleted; revoked instead.

pub mod commands;
pub mod store;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::grants;
use crate::transfers::Exemption;
use crate::types::{List, Region, text_enum};

text_enum! {
    /// The legal mechanism for a cross-border transfer. PRC subjects' data sent outside the PRC
    /// needs one of the three PIPL mechanisms.
    pub enum TransferMechanism {
        /// No mechanism.
        None = "none",
        /// The CAC standard contract under PIPL art. 38(1)(3).
        PiplStandardContract = "pipl_standard_contract",
        /// A CAC security assessment under PIPL art. 38(1)(1).
        CacSecurityAssessment = "cac_security_assessment",
        /// Personal-information-protection certification under PIPL art. 38(1)(2).
        PiplCertification = "pipl_certification",
    }
}

impl TransferMechanism {
    pub fn is_pipl(self) -> bool {
        !matches!(self, TransferMechanism::None)
    }
}

text_enum! {
    /// Whether a grant stands: `active` until revoked; grants are never deleted.
    pub enum GrantStatus {
        Active = "active",
        Revoked = "revoked",
    }
}

text_enum! {
    /// What a grant amounts to at the moment it is read.
    pub enum Effective {
        /// Active, approved, and within its validity window.
        Active = "active",
        /// Active, but waiting for a second person to approve it (`POST /v1/grants/{id}/approve`);
        /// decisions report `grant_not_approved` for what it would cover.
        PendingApproval = "pending_approval",
        /// Active, but `valid_until` has passed.
        Expired = "expired",
        /// Active, but `valid_from` has not come yet.
        NotYetValid = "not_yet_valid",
        /// Revoked.
        Revoked = "revoked",
    }
}

/// A stored grant.
#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = grants, treat_none_as_null = true)]
pub struct GrantRow {
    pub id: String,
    pub party_id: String,
    pub service: String,
    pub categories: List<String>,
    pub allowed_regions: List<Region>,
    pub transfer_mechanism: TransferMechanism,
    pub legal_basis: Option<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: GrantStatus,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub agreements: List<String>,
    pub exemptions: List<Exemption>,
    pub pipia_reference: Option<String>,
    pub separate_consent: bool,
    pub requested_by: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
}

/// A scope granted to a party.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
    "service": "newsletter", "categories": ["user.contact.email"], "allowed_regions": ["PRC", "US"],
    "transfer_mechanism": "pipl_standard_contract", "legal_basis": "consent, art. 13(1) PIPL",
    "valid_from": "2026-12-01T00:00:00.000000Z", "valid_until": "2027-12-01T00:00:00.000000Z",
    "status": "active", "effective": "active", "revoked_reason": null, "revoked_at": null,
    "created_by": "alice", "created_at": "2026-11-29T10:00:00.000000Z", "requested_by": "alice",
    "approved_by": "bob", "approved_at": "2026-11-29T11:00:00.000000Z", "version": 2}))]
pub struct Grant {
    /// The grant's id (a UUID the service issued).
    pub id: String,
    /// The party the scope is granted to.
    pub party_id: String,
    /// The internal service in whose name data may be shared.
    pub service: String,
    /// Category keys; each covers its descendants.
    pub categories: Vec<String>,
    /// Regions the data may be sent to (the destination country's region).
    pub allowed_regions: Vec<Region>,
    /// A label kept from before agreements were recorded: read-only, and not evidence — the
    /// engine ignores it (docs/TRANSFERS.md "Rolling it out").
    pub transfer_mechanism: TransferMechanism,
    /// The agreements that back this grant (each of the same party).
    #[serde(default)]
    pub agreements: Vec<String>,
    /// PIPL exemptions a share under this grant may claim (CAC 2024 Art. 5(1)-(3)).
    #[serde(default)]
    pub exemptions: Vec<Exemption>,
    /// The PIPIA behind this grant (PIPL Art. 55): needed for a share under the PRC regime.
    #[serde(default)]
    pub pipia_reference: Option<String>,
    /// The people gave separate consent to the transfer (PIPL Art. 39): needed for a share
    /// under the PRC regime.
    #[serde(default)]
    pub separate_consent: bool,
    /// Free text: the legal basis for the sharing.
    pub legal_basis: Option<String>,
    /// Valid from this instant (inclusive).
    pub valid_from: String,
    /// Valid until this instant (exclusive); null is open-ended.
    pub valid_until: Option<String>,
    /// `active` or `revoked` as stored; `effective` says whether it applies now.
    pub status: GrantStatus,
    /// Computed when read.
    pub effective: Effective,
    /// Why it was revoked, as the person who revoked it wrote.
    pub revoked_reason: Option<String>,
    /// When it was revoked; null while it is not.
    pub revoked_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    /// Who asked for the scope as it stands: its creator, or who last widened it (added an
    /// exemption). Nobody else approves it.
    #[serde(default)]
    pub requested_by: String,
    /// The second person who approved it; null while it waits, and for grants made before
    /// approvals were required (those count as approved when made).
    #[serde(default)]
    pub approved_by: Option<String>,
    /// When it was approved; null while it waits (`effective: pending_approval`).
    #[serde(default)]
    pub approved_at: Option<String>,
    /// The grant this one amends or renews (`POST /v1/grants/{id}/amend`): that one stays in
    /// force until this one is approved, and is then revoked as superseded.
    #[serde(default)]
    pub supersedes: Option<String>,
    /// The approved amendment that replaced this grant.
    #[serde(default)]
    pub superseded_by: Option<String>,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl GrantRow {
    /// The grant as read at `now` (which decides `effective`).
    pub fn view(self, now: DateTime<Utc>) -> Grant {
        let effective = effective(
            self.status,
            self.approved_at.is_some(),
            &self.valid_from,
            self.valid_until.as_deref(),
            now,
        );
        Grant {
            categories: self.categories.0,
            allowed_regions: self.allowed_regions.0,
            transfer_mechanism: self.transfer_mechanism,
            agreements: self.agreements.0,
            exemptions: self.exemptions.0,
            pipia_reference: self.pipia_reference,
            separate_consent: self.separate_consent,
            status: self.status,
            effective,
            id: self.id,
            party_id: self.party_id,
            service: self.service,
            legal_basis: self.legal_basis,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            revoked_reason: self.revoked_reason,
            revoked_at: self.revoked_at,
            created_by: self.created_by,
            created_at: self.created_at,
            requested_by: self.requested_by,
            approved_by: self.approved_by,
            approved_at: self.approved_at,
            supersedes: self.supersedes,
            superseded_by: self.superseded_by,
            version: self.version,
            as_of_ledger_seq: None,
        }
    }
}

/// Revoked, else waiting for approval, else `valid_from ≤ now < valid_until` (no `valid_until`
/// is open-ended).
pub fn effective(
    status: GrantStatus,
    approved: bool,
    from: &str,
    until: Option<&str>,
    now: DateTime<Utc>,
) -> Effective {
    if status == GrantStatus::Revoked {
        return Effective::Revoked;
    }
    if !approved {
        return Effective::PendingApproval;
    }
    let from = crate::time::parse(from);
    if from.is_some_and(|f| now < f) {
        return Effective::NotYetValid;
    }
    if until.and_then(crate::time::parse).is_some_and(|u| now >= u) {
        return Effective::Expired;
    }
    Effective::Active
}

/// A new grant, as validated at the edge.
#[derive(Debug, Clone)]
pub struct Draft {
    pub service: String,
    pub categories: Vec<String>,
    pub allowed_regions: Vec<Region>,
    pub transfer_mechanism: TransferMechanism,
    pub legal_basis: Option<String>,
    /// RFC 3339; `None` is now.
    pub valid_from: Option<String>,
    /// RFC 3339, after `valid_from`; `None` is open-ended.
    pub valid_until: Option<String>,
    pub agreements: Vec<String>,
    pub exemptions: Vec<Exemption>,
    pub pipia_reference: Option<String>,
    pub separate_consent: bool,
}

/// An amendment or renewal of a grant: what differs from it (`None` keeps the grant's value;
/// `Some(None)` clears an optional one). The service never changes: that is a new grant.
#[derive(Debug, Clone, Default)]
pub struct Amendment {
    pub categories: Option<Vec<String>>,
    pub allowed_regions: Option<Vec<Region>>,
    pub legal_basis: Option<Option<String>>,
    pub valid_from: Option<String>,
    pub valid_until: Option<Option<String>>,
    pub agreements: Option<Vec<String>>,
    pub exemptions: Option<Vec<Exemption>>,
    pub pipia_reference: Option<Option<String>>,
    pub separate_consent: Option<bool>,
}

impl Amendment {
    /// The grant `row` as amended, as a draft for a new grant.
    pub fn apply_to(self, row: &GrantRow) -> Draft {
        Draft {
            service: row.service.clone(),
            categories: self.categories.unwrap_or_else(|| row.categories.0.clone()),
            allowed_regions: self
                .allowed_regions
                .unwrap_or_else(|| row.allowed_regions.0.clone()),
            // The label before agreements were evidence is kept as it was (read-only).
            transfer_mechanism: row.transfer_mechanism,
            legal_basis: self.legal_basis.unwrap_or_else(|| row.legal_basis.clone()),
            valid_from: Some(self.valid_from.unwrap_or_else(|| row.valid_from.clone())),
            valid_until: self.valid_until.unwrap_or_else(|| row.valid_until.clone()),
            agreements: self.agreements.unwrap_or_else(|| row.agreements.0.clone()),
            exemptions: self.exemptions.unwrap_or_else(|| row.exemptions.0.clone()),
            pipia_reference: self
                .pipia_reference
                .unwrap_or_else(|| row.pipia_reference.clone()),
            separate_consent: self.separate_consent.unwrap_or(row.separate_consent),
        }
    }
}

/// Changes to a grant: only the agreements that back it and the exemptions it allows.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub agreements: Option<Vec<String>>,
    pub exemptions: Option<Vec<Exemption>>,
}

/// Whether a grant's ledger state records it approved. Entries written before approvals were
/// required have no `approved_at`: those grants counted as approved when made.
pub fn approved_in_state(state: &serde_json::Value) -> bool {
    state.get("approved_at").is_none_or(|a| !a.is_null())
}
