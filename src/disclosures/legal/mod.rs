//! Legal-process requests: filed by counsel, judged against the statutes that gate a disclosure
//! to an authority (PIPL Art. 41 and the Data Security Law Art. 36 for data stored in the PRC;
//! GDPR Art. 48 for EEA data), recorded in the ledger before the answer, then followed through
//! disclosure, notification of the subjects, contest and closing.

pub mod commands;
pub mod report;
pub mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::decision::engine::Outcome;
use crate::transfers::rules::RuleSet;

crate::types::text_enum! {
    /// Who makes the demand.
    pub enum AuthorityKind {
        Court = "court",
        LawEnforcement = "law_enforcement",
        Regulator = "regulator",
        Other = "other",
    }
}

crate::types::text_enum! {
    /// The legal instrument of the demand.
    pub enum Instrument {
        Subpoena = "subpoena",
        CourtOrder = "court_order",
        Warrant = "warrant",
        /// A mutual legal assistance treaty request: an international agreement (GDPR Art. 48).
        Mlat = "mlat",
        RegulatorRequest = "regulator_request",
        /// Reported only in bands (50 U.S.C. § 1874).
        NationalSecurityLetter = "national_security_letter",
        /// Reported only in bands (50 U.S.C. § 1874).
        FisaOrder = "fisa_order",
        Other = "other",
    }
}

impl Instrument {
    /// National-security process, never reported as an exact count.
    pub fn is_national_security(self) -> bool {
        matches!(
            self,
            Instrument::NationalSecurityLetter | Instrument::FisaOrder
        )
    }
}

crate::types::text_enum! {
    /// A GDPR Chapter V ground other than an international agreement.
    pub enum ChapterVGround {
        /// Appropriate safeguards (Art. 46).
        Art46 = "art46",
        /// Important reasons of public interest (Art. 49(1)(d)).
        Art49_1D = "art49_1_d",
        /// The establishment, exercise or defence of legal claims (Art. 49(1)(e)).
        Art49_1E = "art49_1_e",
    }
}

crate::types::text_enum! {
    /// Where a legal request stands.
    pub enum LegalStatus {
        Approved = "approved",
        Denied = "denied",
        Disclosed = "disclosed",
        SubjectsNotified = "subjects_notified",
        NotificationDelayed = "notification_delayed",
        Contested = "contested",
        Closed = "closed",
    }
}

crate::types::text_enum! {
    /// Why a legal request was denied.
    pub enum LegalReasonCode {
        /// PIPL Art. 41, DSL Art. 36: PRC-stored data to a foreign authority needs the PRC
        /// competent authority's approval.
        PrcApprovalMissing = "prc_approval_missing",
        /// GDPR Art. 48: a foreign order needs an international agreement or another Chapter V
        /// ground.
        InternationalAgreementMissing = "international_agreement_missing",
    }
}

/// A failed check of a legal request, with the rule behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalReason {
    pub code: LegalReasonCode,
    /// The law behind the gate, e.g. `PIPL Art. 41; DSL Art. 36`.
    pub rule: String,
    /// What is missing, for counsel.
    pub message: String,
}

/// Counsel's override of a denial: who disclosed anyway and why, and the second principal who
/// confirmed it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Override {
    /// Why the gates' denial was overridden.
    pub reason: String,
    /// Who overrode it (counsel).
    pub by: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The second person who confirmed the override; null until confirmed.
    pub confirmed_by: Option<String>,
    /// When it was confirmed.
    pub confirmed_at: Option<String>,
}

/// A legal-process request, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c8-4444-7cc0-9d2a-0c1b2a3d4e5f", "outcome": "denied", "status": "denied",
    "reasons": [{"code": "prc_approval_missing", "rule": "PIPL Art. 41; DSL Art. 36",
        "message": "The data is stored in CN and the authority is a court of US: disclosure needs the approval of the PRC competent authority (approval_reference)."}],
    "authority_name": "U.S. District Court, N.D. Cal.", "authority_country": "US", "authority_kind": "court",
    "instrument": "subpoena", "reference": "CASE-2026-117", "received_at": "2026-11-30T09:00:00.000000Z",
    "exporter": "acme-cn", "data_stored_in": ["CN"], "subject_country": "CN", "data_origin_country": "CN",
    "categories": ["user.contact.email"], "subject_count": 3, "approval_reference": null, "agreement_reference": null,
    "chapter_v_ground": null, "decided_at": "2026-11-30T09:05:00.000000Z", "decision_ledger_seq": 1290,
    "created_by": "counsel", "created_at": "2026-11-30T09:05:00.000000Z", "updated_at": "2026-11-30T09:05:00.000000Z", "version": 1}))]
pub struct LegalRequest {
    /// The request's id (a UUID the service issued).
    pub id: String,
    /// The gates' verdict when filed (or when a contest was upheld).
    pub outcome: Outcome,
    pub status: LegalStatus,
    /// One per failed gate; empty when approved.
    pub reasons: Vec<LegalReason>,
    /// Who makes the demand, e.g. a court or an agency.
    pub authority_name: String,
    /// The authority's country (ISO 3166-1 alpha-2).
    pub authority_country: String,
    pub authority_kind: AuthorityKind,
    pub instrument: Instrument,
    /// Counsel's case reference; the targets stay in the case file, never here.
    pub reference: String,
    /// When the demand was received (RFC 3339, UTC).
    pub received_at: String,
    /// The company's entity the demand is addressed to.
    pub exporter: Option<String>,
    /// Where the demanded data is stored.
    pub data_stored_in: Vec<String>,
    /// Where the people whose data is demanded are (ISO 3166-1 alpha-2).
    pub subject_country: Option<String>,
    /// Where the demanded data was collected (ISO 3166-1 alpha-2).
    pub data_origin_country: Option<String>,
    /// The data categories demanded (taxonomy keys).
    pub categories: Vec<String>,
    /// How many people the demand concerns, when known.
    pub subject_count: Option<i64>,
    /// The PRC competent authority's approval (PIPL Art. 41).
    pub approval_reference: Option<String>,
    /// The international agreement the demand is made under (GDPR Art. 48).
    pub agreement_reference: Option<String>,
    pub chapter_v_ground: Option<ChapterVGround>,
    /// When data was disclosed under it; absent until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosed_at: Option<String>,
    /// The categories actually disclosed: within those demanded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disclosed_categories: Vec<String>,
    /// How many people's data was actually disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosed_subject_count: Option<i64>,
    /// When the people concerned were told; absent until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
    /// Until when notifying them is delayed, by the order in `order_reference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delayed_until: Option<String>,
    /// The order that delays notifying the subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "override")]
    pub override_: Option<Override>,
    /// When it was closed; absent while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// When the gates judged it, and the ledger entry of that judgement.
    pub decided_at: String,
    /// The ledger entry of the gates' judgement.
    pub decision_ledger_seq: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

/// What the gates read.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub authority_country: &'a str,
    pub authority_kind: AuthorityKind,
    pub instrument: Instrument,
    pub data_stored_in: &'a [String],
    /// The country of the exporting entity, when one is named.
    pub exporter_country: Option<&'a str>,
    pub data_origin_country: Option<&'a str>,
    pub approval_reference: Option<&'a str>,
    pub agreement_reference: Option<&'a str>,
    pub chapter_v_ground: Option<ChapterVGround>,
}

pub const PRC_RULE: &str = "PIPL Art. 41; DSL Art. 36";
pub const ART48_RULE: &str = "GDPR Art. 48";

/// The gates, every failed one reported.
pub fn judge(f: &Facts<'_>, rules: &RuleSet) -> Vec<LegalReason> {
    let mut reasons = Vec::new();
    // HK, MO and TW are outside the PRC's competent authorities here: a demand from them is a
    // foreign one (a choice, docs/DISCLOSURES.md).
    let gated_kind = matches!(
        f.authority_kind,
        AuthorityKind::Court | AuthorityKind::LawEnforcement | AuthorityKind::Regulator
    );
    if f.data_stored_in.iter().any(|c| c == "CN")
        && f.authority_country != "CN"
        && gated_kind
        && f.approval_reference.is_none()
    {
        reasons.push(LegalReason {
            code: LegalReasonCode::PrcApprovalMissing,
            rule: PRC_RULE.into(),
            message: format!(
                "The data is stored in CN and the authority is a {} of {}: disclosure needs the approval of the PRC competent authority (approval_reference).",
                f.authority_kind.as_str().replace('_', " "),
                f.authority_country
            ),
        });
    }
    let eea_data = f.exporter_country.is_some_and(|c| rules.in_eea(c))
        || f.data_origin_country.is_some_and(|c| rules.in_eea(c));
    let agreement = f.agreement_reference.is_some() || f.instrument == Instrument::Mlat;
    if eea_data && !rules.in_eea(f.authority_country) && !agreement && f.chapter_v_ground.is_none()
    {
        reasons.push(LegalReason {
            code: LegalReasonCode::InternationalAgreementMissing,
            rule: ART48_RULE.into(),
            message: format!(
                "EEA data demanded by an authority of {}: an order outside the EEA is recognised only under an international agreement (agreement_reference, or an mlat) or another Chapter V ground (chapter_v_ground).",
                f.authority_country
            ),
        });
    }
    reasons
}

#[cfg(test)]
mod tests;
