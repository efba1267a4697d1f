//! Agreements: the evidence behind a transfer — a standard contract, a certification, a CAC
//! assessment, SCCs, BCRs, the DSP security requirements — with its validity, filing and
//! impact-assessment references. A grant names the agreements that back it; a label is not
//! evidence (docs/TRANSFERS.md "Agreements").

pub mod commands;
pub mod store;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::agreements;
use crate::transfers::{AgreementKind, AgreementStatus};

/// A stored agreement.
#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = agreements, treat_none_as_null = true)]
pub struct AgreementRow {
    pub id: String,
    pub party_id: String,
    pub exporter: String,
    pub kind: AgreementKind,
    pub reference: String,
    pub signed_on: Option<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub filing_reference: Option<String>,
    pub pipia_reference: Option<String>,
    pub tia_reference: Option<String>,
    pub document_sha256: Option<String>,
    pub status: AgreementStatus,
    pub withdrawn_reason: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// An agreement between one of the company's entities (the exporter) and a party.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c7-3333-7cc0-9d2a-0c1b2a3d4e5f", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
    "exporter": "acme-cn", "kind": "pipl_standard_contract", "reference": "SC-2026-014", "signed_on": "2026-03-01",
    "valid_from": "2026-03-01T00:00:00Z", "valid_until": null, "filing_reference": "沪网信备2026-0042",
    "pipia_reference": "PIPIA-2026-07", "tia_reference": null, "document_sha256": null, "status": "active",
    "withdrawn_reason": null, "created_by": "alice", "created_at": "2026-03-01T09:00:00.000000Z",
    "updated_at": "2026-03-01T09:00:00.000000Z", "version": 1}))]
pub struct Agreement {
    /// The agreement's id (a UUID the service issued).
    pub id: String,
    /// The party the agreement is with.
    pub party_id: String,
    /// The company's entity that exports under it: it backs only shares from that entity.
    pub exporter: String,
    /// The instrument: a PIPL standard contract, CAC assessment or certification, EU SCCs, a DPF self-certification or the DSP security requirements (docs/TRANSFERS.md).
    pub kind: AgreementKind,
    /// The agreement's own reference.
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub signed_on: Option<String>,
    /// In force from this instant (for a CAC assessment, its issue date).
    pub valid_from: String,
    /// In force until this instant (exclusive); null: open-ended (a CAC assessment ends three
    /// years after `valid_from` at the latest).
    pub valid_until: Option<String>,
    /// The filing with the CAC; a standard contract needs it 14 days after `valid_from`.
    pub filing_reference: Option<String>,
    /// The personal-information-protection impact assessment (PIPL Art. 55); PIPL kinds need it.
    pub pipia_reference: Option<String>,
    /// The transfer impact assessment; `eu_scc` needs it.
    pub tia_reference: Option<String>,
    /// SHA-256 of the signed document, 64 lowercase hex digits.
    pub document_sha256: Option<String>,
    /// `active` or `withdrawn`; a withdrawn agreement backs no share.
    pub status: AgreementStatus,
    /// Why it was withdrawn; null while it is active.
    pub withdrawn_reason: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl From<AgreementRow> for Agreement {
    fn from(r: AgreementRow) -> Self {
        Agreement {
            id: r.id,
            party_id: r.party_id,
            exporter: r.exporter,
            kind: r.kind,
            reference: r.reference,
            signed_on: r.signed_on,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            filing_reference: r.filing_reference,
            pipia_reference: r.pipia_reference,
            tia_reference: r.tia_reference,
            document_sha256: r.document_sha256,
            status: r.status,
            withdrawn_reason: r.withdrawn_reason,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            as_of_ledger_seq: None,
        }
    }
}

/// The stored form of an agreement as the ledger recorded it (to judge the register as it was).
impl From<Agreement> for AgreementRow {
    fn from(a: Agreement) -> Self {
        AgreementRow {
            id: a.id,
            party_id: a.party_id,
            exporter: a.exporter,
            kind: a.kind,
            reference: a.reference,
            signed_on: a.signed_on,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            filing_reference: a.filing_reference,
            pipia_reference: a.pipia_reference,
            tia_reference: a.tia_reference,
            document_sha256: a.document_sha256,
            status: a.status,
            withdrawn_reason: a.withdrawn_reason,
            created_by: a.created_by,
            created_at: a.created_at,
            updated_at: a.updated_at,
            version: a.version,
        }
    }
}

/// A new agreement, as validated at the edge (instants already normalised).
#[derive(Debug, Clone)]
pub struct Draft {
    pub exporter: String,
    pub kind: AgreementKind,
    pub reference: String,
    pub signed_on: Option<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub filing_reference: Option<String>,
    pub pipia_reference: Option<String>,
    pub tia_reference: Option<String>,
    pub document_sha256: Option<String>,
}

/// Changes to an agreement: `None` leaves a field; `Some(None)` clears an optional one. Its
/// party, exporter and kind never change (a different agreement is a new one).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub reference: Option<String>,
    pub signed_on: Option<Option<String>>,
    pub valid_from: Option<String>,
    pub valid_until: Option<Option<String>>,
    pub filing_reference: Option<Option<String>>,
    pub pipia_reference: Option<Option<String>>,
    pub tia_reference: Option<Option<String>>,
    pub document_sha256: Option<Option<String>>,
}

/// True for 64 lowercase hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
