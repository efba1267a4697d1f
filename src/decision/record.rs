//! A decision as answered, stored and recorded in the ledger.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::engine::{GrantUse, Outcome, Reason};
use crate::types::Region;

/// A decision: the request, its outcome, one reason per failed check, and the grants that
/// approved each PII category.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f", "outcome": "denied", "service": "newsletter",
    "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "purpose": "marketing.communications.email",
    "categories": ["user.contact.email", "user.contact.phone_number"], "destination_country": "US", "subject_region": "PRC",
    "reasons": [{"code": "category_not_granted", "category": "user.contact.phone_number", "message": "No grant covers this category."}],
    "grants": [{"category": "user.contact.email", "grant_id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f"}],
    "decided_at": "2026-11-29T10:00:00.123456Z", "ledger_seq": 1234}))]
pub struct Decision {
    pub id: String,
    /// `approved` only when no check failed.
    pub outcome: Outcome,
    /// The requesting service (the token's `sub`).
    pub service: String,
    pub party_id: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub destination_country: String,
    pub subject_region: Region,
    /// One entry per failed check; empty when approved.
    pub reasons: Vec<Reason>,
    /// The grant that approved each PII category (non-PII categories need none).
    pub grants: Vec<GrantUse>,
    pub decided_at: String,
    /// The ledger entry that records this decision.
    pub ledger_seq: i64,
}

/// The ledger's record of a decision: the decision without its `ledger_seq`, with the register
/// revision that judged it. Its members are declared in RFC 8785 order (and those of
/// [`Reason`] and [`GrantUse`] are too), and serde_json writes strings and integers as RFC 8785
/// does, so its plain serialisation is already canonical: no JSON tree is built per decision.
#[derive(Serialize)]
struct DecisionChange<'a> {
    categories: &'a [String],
    decided_at: &'a str,
    destination_country: &'a str,
    grants: &'a [GrantUse],
    id: &'a str,
    outcome: Outcome,
    party_id: &'a str,
    purpose: &'a str,
    reasons: &'a [Reason],
    register_revision: i64,
    service: &'a str,
    subject_region: Region,
}

pub fn canonical_change(decision: &Decision, revision: i64) -> serde_json::Result<String> {
    let change = DecisionChange {
        categories: &decision.categories,
        decided_at: &decision.decided_at,
        destination_country: &decision.destination_country,
        grants: &decision.grants,
        id: &decision.id,
        outcome: decision.outcome,
        party_id: &decision.party_id,
        purpose: &decision.purpose,
        reasons: &decision.reasons,
        register_revision: revision,
        service: &decision.service,
        subject_region: decision.subject_region,
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
    use crate::types::Region;

    #[test]
    fn the_decision_change_is_written_in_canonical_form() {
        let reason = |code: ReasonCode, category: Option<&str>| Reason {
            code,
            category: category.map(str::to_owned),
            message: code.message().to_owned(),
        };
        let decision = Decision {
            id: "0193a0c6-2222-7cc0-9d2a-0c1b2a3d4e5f".into(),
            outcome: Outcome::Denied,
            service: "news\"letter\u{1}".into(),
            party_id: "p-ü-\u{1f600}".into(),
            purpose: "marketing.communications.email".into(),
            categories: vec!["user.contact.email".into(), "user.name\n".into()],
            destination_country: "US".into(),
            subject_region: Region::Prc,
            reasons: vec![
                reason(ReasonCode::PartyNotTrusted, None),
                reason(ReasonCode::CategoryNotGranted, Some("user.name\n")),
            ],
            grants: vec![GrantUse {
                category: "user.contact.email".into(),
                grant_id: "g\\1".into(),
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
