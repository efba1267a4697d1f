//! What a ledger entry is about, and what was done: the subject `kind:id` and the action names,
//! spelled once.

/// The object a ledger entry concerns, written `kind:id` (`party:<uuid>`, `service:<key>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Party(&'a str),
    Grant(&'a str),
    Service(&'a str),
    Category(&'a str),
    Purpose(&'a str),
    SharingRequest(&'a str),
    Entity(&'a str),
    Agreement(&'a str),
    /// A rule set, by version.
    Rules(&'a str),
    /// A volume counter, by key.
    Volume(&'a str),
    /// A legal-process request (docs/DISCLOSURES.md).
    LegalRequest(&'a str),
    /// A security incident at a party.
    Incident(&'a str),
    /// An upstream vendor list, by name (`gvl`): its imports.
    VendorList(&'a str),
    /// An outbound webhook.
    Webhook(&'a str),
}

impl<'a> Subject<'a> {
    /// Reads a stored subject; `None` for a kind this version does not know.
    pub fn parse(text: &'a str) -> Option<Subject<'a>> {
        let (kind, id) = text.split_once(':')?;
        Some(match kind {
            "party" => Subject::Party(id),
            "grant" => Subject::Grant(id),
            "service" => Subject::Service(id),
            "category" => Subject::Category(id),
            "purpose" => Subject::Purpose(id),
            "sharing_request" => Subject::SharingRequest(id),
            "entity" => Subject::Entity(id),
            "agreement" => Subject::Agreement(id),
            "rules" => Subject::Rules(id),
            "volume" => Subject::Volume(id),
            "legal_request" => Subject::LegalRequest(id),
            "incident" => Subject::Incident(id),
            "vendor_list" => Subject::VendorList(id),
            "webhook" => Subject::Webhook(id),
            _ => return None,
        })
    }

    fn kind(self) -> &'static str {
        match self {
            Subject::Party(_) => "party",
            Subject::Grant(_) => "grant",
            Subject::Service(_) => "service",
            Subject::Category(_) => "category",
            Subject::Purpose(_) => "purpose",
            Subject::SharingRequest(_) => "sharing_request",
            Subject::Entity(_) => "entity",
            Subject::Agreement(_) => "agreement",
            Subject::Rules(_) => "rules",
            Subject::Volume(_) => "volume",
            Subject::LegalRequest(_) => "legal_request",
            Subject::Incident(_) => "incident",
            Subject::VendorList(_) => "vendor_list",
            Subject::Webhook(_) => "webhook",
        }
    }

    fn id(self) -> &'a str {
        match self {
            Subject::Party(id)
            | Subject::Grant(id)
            | Subject::Service(id)
            | Subject::Category(id)
            | Subject::Purpose(id)
            | Subject::SharingRequest(id)
            | Subject::Entity(id)
            | Subject::Agreement(id)
            | Subject::Rules(id)
            | Subject::Volume(id)
            | Subject::LegalRequest(id)
            | Subject::Incident(id)
            | Subject::VendorList(id)
            | Subject::Webhook(id) => id,
        }
    }
}

impl std::fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

/// The actions the ledger records.
pub mod action {
    pub const CATEGORY_CREATED: &str = "category.created";
    pub const PURPOSE_CREATED: &str = "purpose.created";
    pub const SERVICE_CREATED: &str = "service.created";
    pub const SERVICE_UPDATED: &str = "service.updated";
    pub const PARTY_CREATED: &str = "party.created";
    pub const PARTY_UPDATED: &str = "party.updated";
    pub const PARTY_STATUS_CHANGED: &str = "party.status_changed";
    pub const PARTY_SUB_PROCESSORS_CHANGED: &str = "party.sub_processors_changed";
    pub const GRANT_CREATED: &str = "grant.created";
    pub const GRANT_REVOKED: &str = "grant.revoked";
    pub const GRANT_UPDATED: &str = "grant.updated";
    pub const GRANT_APPROVED: &str = "grant.approved";
    pub const ENTITY_CREATED: &str = "entity.created";
    pub const ENTITY_UPDATED: &str = "entity.updated";
    pub const AGREEMENT_CREATED: &str = "agreement.created";
    pub const AGREEMENT_UPDATED: &str = "agreement.updated";
    pub const AGREEMENT_WITHDRAWN: &str = "agreement.withdrawn";
    pub const CATEGORY_MARKED: &str = "category.marked";
    pub const PURPOSE_MARKED: &str = "purpose.marked";
    /// A rule set a node started running; not a register change.
    pub const RULES_ACTIVATED: &str = "rules.activated";
    /// A manual change to a volume counter; not a register change.
    pub const VOLUME_ADJUSTED: &str = "volume.adjusted";
    /// A sharing decision: not a register change.
    pub const DECISION_RECORDED: &str = "decision.recorded";
    /// A legal-process request filed and judged; this and the others below are not register
    /// changes (an incident's suspension is, as a party status change).
    pub const LEGAL_REQUEST_DECIDED: &str = "legal_request.decided";
    pub const LEGAL_REQUEST_STATUS_CHANGED: &str = "legal_request.status_changed";
    pub const LEGAL_REQUEST_OVERRIDE_CONFIRMED: &str = "legal_request.override_confirmed";
    pub const INCIDENT_OPENED: &str = "incident.opened";
    pub const INCIDENT_UPDATED: &str = "incident.updated";
    pub const INCIDENT_STATUS_CHANGED: &str = "incident.status_changed";
    pub const INCIDENT_DUTY_UPDATED: &str = "incident.duty_updated";
    pub const VENDOR_LIST_IMPORTED: &str = "vendor_list.imported";
    /// A webhook registered or deleted; not a register change.
    pub const WEBHOOK_CREATED: &str = "webhook.created";
    pub const WEBHOOK_DELETED: &str = "webhook.deleted";
    /// Every action, as the spec lists them for the events filter.
    pub const ALL: &[&str] = &[
        CATEGORY_CREATED,
        PURPOSE_CREATED,
        SERVICE_CREATED,
        SERVICE_UPDATED,
        PARTY_CREATED,
        PARTY_UPDATED,
        PARTY_STATUS_CHANGED,
        PARTY_SUB_PROCESSORS_CHANGED,
        GRANT_CREATED,
        GRANT_REVOKED,
        GRANT_UPDATED,
        GRANT_APPROVED,
        ENTITY_CREATED,
        ENTITY_UPDATED,
        AGREEMENT_CREATED,
        AGREEMENT_UPDATED,
        AGREEMENT_WITHDRAWN,
        CATEGORY_MARKED,
        PURPOSE_MARKED,
        RULES_ACTIVATED,
        VOLUME_ADJUSTED,
        DECISION_RECORDED,
        LEGAL_REQUEST_DECIDED,
        LEGAL_REQUEST_STATUS_CHANGED,
        LEGAL_REQUEST_OVERRIDE_CONFIRMED,
        INCIDENT_OPENED,
        INCIDENT_UPDATED,
        INCIDENT_STATUS_CHANGED,
        INCIDENT_DUTY_UPDATED,
        VENDOR_LIST_IMPORTED,
        WEBHOOK_CREATED,
        WEBHOOK_DELETED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_in_the_closed_set_the_spec_lists() {
        let source = include_str!("subject.rs");
        let module = &source[source.find("pub mod action").unwrap()..];
        let declared: Vec<&str> = module
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub const "))
            .filter(|l| l.contains(": &str = \""))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(declared.len() > 20, "{declared:?}");
        let mut listed = action::ALL.to_vec();
        let mut sorted = declared.clone();
        listed.sort_unstable();
        sorted.sort_unstable();
        assert_eq!(listed, sorted);
    }

    #[test]
    fn a_subject_reads_back_as_written() {
        for s in [
            Subject::Party("0193"),
            Subject::Grant("g"),
            Subject::Service("newsletter"),
            Subject::Category("user.contact"),
            Subject::Purpose("marketing"),
            Subject::SharingRequest("d"),
            Subject::Entity("acme-cn"),
            Subject::Agreement("a"),
            Subject::Rules("2026-01"),
            Subject::Volume("pipl:acme-cn:sensitive"),
            Subject::LegalRequest("l"),
            Subject::Incident("i"),
        ] {
            let text = s.to_string();
            assert_eq!(Subject::parse(&text), Some(s));
        }
        assert_eq!(Subject::parse("party:a:b"), Some(Subject::Party("a:b")));
        assert_eq!(Subject::parse("vendor:1"), None);
        assert_eq!(Subject::parse("party"), None);
    }
}
