//! A decision as answered, stored and recorded in the ledger.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::engine::{GrantUse, Outcome, Reason};
use crate::transfers::Exemption;
use crate::transfers::law::{CounterUse, RegimeReport};
use crate::types::Region;

/// A decision: the request, its outcome, one reason per failed check, the grants that approved
/// each PII category, and what each cross-border regime that applied judged.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f", "outcome": "denied", "service": "newsletter",
    "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "purpose": "marketing.communications.email",
    "categories": ["user.contact.email", "user.contact.phone_number"], "destination_country": "SG",
    "subject_country": "CN", "data_origin_country": "CN", "subject_count": 120000, "subject_region": "PRC",
    "exporter": "acme-cn", "rules_version": "2026-01",
    "reasons": [{"code": "transfer_mechanism_missing", "category": "user.contact.email", "regime": "pipl", "rule": "CAC 2024 Arts. 7-8",
        "message": "The contract tier applies: pipl:acme-cn:non_sensitive is 120000 in 2027 with this share (threshold 1000000); the grant needs an agreement of kind pipl_standard_contract, pipl_certification or cac_security_assessment for exporter `acme-cn`."},
        {"code": "category_not_granted", "category": "user.contact.phone_number", "message": "No grant covers this category."}],
    "grants": [],
    "regimes": [{"regime": "pipl", "tier": "contract", "agreements": [],
        "counters": [{"key": "pipl:acme-cn:non_sensitive", "window": "2027", "before": 0, "with_share": 120000, "threshold": 1000000}]}],
    "decided_at": "2026-11-29T10:00:00.123456Z", "ledger_seq": 1234}))]
pub struct Decision {
    /// The decision's id (a UUID the service issued); `GET /v1/sharing-requests/{id}` reads it again.
    pub id: String,
    /// `approved` only when no check failed.
    pub outcome: Outcome,
    /// The requesting service (the token's `sub`).
    pub service: String,
    /// The party asked about.
    pub party_id: String,
    /// The purpose key asked for.
    pub purpose: String,
    /// The category keys asked for.
    pub categories: Vec<String>,
    /// Where the data goes (ISO 3166-1 alpha-2).
    pub destination_country: String,
    /// Where the data subjects live.
    #[serde(default)]
    pub subject_country: String,
    /// Where the data was collected or generated.
    #[serde(default)]
    pub data_origin_country: String,
    /// Distinct people in the share.
    #[serde(default)]
    pub subject_count: i64,
    /// For precise geolocation: the devices concerned (28 CFR 202.205(c)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_count: Option<i64>,
    /// The PIPL exemption claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<Exemption>,
    /// Whether the people concerned include children under 14 (PIPL Art. 31: sensitive).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub subjects_include_minors_under_14: bool,
    /// Whether the data is US government-related (28 CFR 202.222): no bulk threshold applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub us_government_related: bool,
    /// The region of `subject_country` (kept for readers of the first API).
    pub subject_region: Region,
    /// The resolved exporting entity; null when unresolved.
    #[serde(default)]
    pub exporter: Option<String>,
    /// The transfer rule set that judged it.
    #[serde(default)]
    pub rules_version: String,
    /// One entry per failed check; empty when approved.
    pub reasons: Vec<Reason>,
    /// With `VENDOR_REGISTRY_TRANSFER_ENFORCEMENT=report`: the transfer reasons that would have
    /// denied, recorded without deciding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<Reason>,
    /// The grant that approved each PII category (non-PII categories need none).
    pub grants: Vec<GrantUse>,
    /// Each cross-border regime that applied: tier or bulk, counters, agreements judged.
    #[serde(default)]
    pub regimes: Vec<RegimeReport>,
    /// An approval's counter increments (`with_share - before` each): the ledger's record of
    /// the volumes, from which `GET /v1/audit/verify` rebuilds the counters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<CounterUse>,
    /// When it was decided (RFC 3339, UTC, microseconds).
    pub decided_at: String,
    /// The ledger entry that records this decision.
    pub ledger_seq: i64,
}

/// The ledger's record of a decision: the decision without its `ledger_seq`, with the register
/// revision that judged it. Its members are declared in RFC 8785 order (and those of
/// [`Reason`], [`GrantUse`] and the regime reports are too), and serde_json writes strings and
/// integers as RFC 8785 does, so its plain serialisation is already canonical: no JSON tree is
/// built per decision.
#[derive(Serialize)]
struct DecisionChange<'a> {
    #[serde(skip_serializing_if = "<[Reason]>::is_empty")]
    advisories: &'a [Reason],
    categories: &'a [String],
    data_origin_country: &'a str,
    decided_at: &'a str,
    destination_country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exemption: Option<Exemption>,
    exporter: Option<&'a str>,
    grants: &'a [GrantUse],
    id: &'a str,
    outcome: Outcome,
    party_id: &'a str,
    purpose: &'a str,
    reasons: &'a [Reason],
    regimes: &'a [RegimeReport],
    register_revision: i64,
    rules_version: &'a str,
    service: &'a str,
    subject_count: i64,
    subject_country: &'a str,
    subject_region: Region,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    subjects_include_minors_under_14: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    us_government_related: bool,
    #[serde(skip_serializing_if = "<[CounterUse]>::is_empty")]
    volumes: &'a [CounterUse],
}

pub fn canonical_change(decision: &Decision, revision: i64) -> serde_json::Result<String> {
    let d = decision;
    let change = DecisionChange {
        advisories: &d.advisories,
        categories: &d.categories,
        data_origin_country: &d.data_origin_country,
        decided_at: &d.decided_at,
        destination_country: &d.destination_country,
        device_count: d.device_count,
        exemption: d.exemption,
        exporter: d.exporter.as_deref(),
        grants: &d.grants,
        id: &d.id,
        outcome: d.outcome,
        party_id: &d.party_id,
        purpose: &d.purpose,
        reasons: &d.reasons,
        regimes: &d.regimes,
        register_revision: revision,
        rules_version: &d.rules_version,
        service: &d.service,
        subject_count: d.subject_count,
        subject_country: &d.subject_country,
        subject_region: d.subject_region,
        subjects_include_minors_under_14: d.subjects_include_minors_under_14,
        us_government_related: d.us_government_related,
        volumes: &d.volumes,
    };
    let text = serde_json::to_string(&change)?;
    debug_assert_eq!(
        text,
        crate::jcs::to_string(&serde_json::to_value(&change)?),
        "the decision change must serialise canonically"
    );
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::engine::ReasonCode;
    use crate::transfers::law::AgreementUse;
    use crate::transfers::{AgreementState, Regime, Tier};
    use crate::types::Region;

    #[test]
    fn the_decision_change_is_written_in_canonical_form() {
        let transfer = Reason {
            category: Some("user.financial".into()),
            code: ReasonCode::TransferMechanismExpired,
            evidence: Some(crate::decision::explain::Evidence {
                allowed_regions: Some(vec![Region::Us, Region::Other]),
                destination_region: Some(Region::Prc),
                grant_id: Some("g\u{7f}".into()),
                granted_categories: Some(vec!["user.name".into()]),
                party_locations: Some(vec!["CN".into()]),
                party_status: Some(crate::registry::parties::PartyStatus::Suspended),
                service_purposes: Some(vec!["marketing".into()]),
                valid_from: Some("2026-01-01T00:00:00.000000Z".into()),
                valid_until: Some("2027-01-01T00:00:00.000000Z".into()),
            }),
            message: "agreement \"x\" expired".into(),
            regime: Some(Regime::UsDsp),
            remedy: Some(crate::decision::explain::Remedy {
                action: "Renew \"it\".".into(),
                by: crate::decision::explain::Fixer::Procurement,
            }),
            rule: Some("28 CFR 202.401".into()),
            via: Some("sub\u{2028}".into()),
        };
        let decision = Decision {
            id: "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f".into(),
            outcome: Outcome::Denied,
            service: "news\"letter\u{1}".into(),
            party_id: "p-ü-\u{1f600}".into(),
            purpose: "marketing.communications.email".into(),
            categories: vec!["user.contact.email".into(), "user.name\n".into()],
            destination_country: "US".into(),
            subject_country: "CN".into(),
            data_origin_country: "CN".into(),
            subject_count: 100_000,
            device_count: Some(3),
            exemption: Some(Exemption::HrManagement),
            subjects_include_minors_under_14: true,
            us_government_related: true,
            subject_region: Region::Prc,
            exporter: Some("acme-cn".into()),
            rules_version: "2026-01".into(),
            reasons: vec![
                Reason::scope(ReasonCode::PartyNotTrusted, None),
                Reason::scope(ReasonCode::CategoryNotGranted, Some("user.name\n".into())),
                transfer.clone(),
            ],
            advisories: vec![transfer],
            grants: vec![GrantUse {
                category: "user.contact.email".into(),
                grant_id: "g\\1".into(),
            }],
            regimes: vec![RegimeReport {
                agreements: vec![AgreementUse {
                    agreement_id: "a".into(),
                    category: "user.financial".into(),
                    state: AgreementState::Expired,
                }],
                bulk: Some(
                    [
                        ("precise_geolocation".to_owned(), true),
                        ("financial".to_owned(), true),
                    ]
                    .into_iter()
                    .collect(),
                ),
                counters: vec![CounterUse {
                    before: 1,
                    key: "us_dsp:acme:p:financial".into(),
                    threshold: 10_000,
                    window: "2025-12-02/2026-12-02".into(),
                    with_share: 100_001,
                }],
                exemption: Some("corporate_group".into()),
                regime: Regime::UsDsp,
                tier: Some(Tier::Contract),
            }],
            volumes: vec![CounterUse {
                before: 0,
                key: "pipl:acme-cn:sensitive".into(),
                threshold: 10_000,
                window: "2027".into(),
                with_share: 5,
            }],
            decided_at: "2026-11-29T10:00:00.123456Z".into(),
            ledger_seq: 7,
        };
        let text = canonical_change(&decision, 41).unwrap();
        let mut expected = serde_json::to_value(&decision).unwrap();
        let obj = expected.as_object_mut().unwrap();
        obj.remove("ledger_seq");
        obj.insert("register_revision".into(), 41.into());
        assert_eq!(text, crate::jcs::to_string(&expected));
    }
}
