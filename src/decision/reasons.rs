//! The closed set of reason codes, and the reasons a decision gives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::transfers::{Regime, TransferCode};

/// Why a check failed. A closed set:
/// - `service_unknown`: the requesting service is not registered;
/// - `service_inactive`: the service is registered but inactive;
/// - `purpose_not_declared`: the purpose is not covered by one the service declares;
/// - `purpose_prohibited`: the purpose is prohibited (sale, rental), whatever the grants say;
/// - `party_unknown`: no such party;
/// - `party_not_trusted`: the party is pending review, suspended or offboarded;
/// - `destination_not_declared`: the party does not declare processing in the destination country;
/// - `destination_region_not_allowed`: a valid covering grant exists but not for the destination's region;
/// - `grant_not_yet_valid`: the covering grant's validity has not begun;
/// - `grant_expired`: the covering grant's validity has ended;
/// - `grant_revoked`: the covering grant was revoked;
/// - `category_too_broad`: no grant covers the category, but one covers a narrower category under it;
/// - `category_not_granted`: no grant covers the category;
/// - `recipient_restricted`: the party is on the CAC's restricted or prohibited list (PIPL Art. 42);
/// - `exporter_not_declared`: the share's exporting entity is not resolved (PRC or DSP regime);
/// - `exemption_not_granted`: a PIPL exemption was claimed that the grant does not list (CAC 2024 Art. 5);
/// - `pipl_prerequisite_missing`: the grant lacks its PIPIA reference or separate consent (PIPL Arts. 55, 39);
/// - `transfer_mechanism_missing`: the grant has no agreement of a kind the regime accepts, for this exporter;
/// - `transfer_mechanism_insufficient`: the grant's PIPL agreements are all of kinds below the share's tier;
/// - `transfer_mechanism_incomplete`: the best agreement is in force but misses a reference its kind needs;
/// - `transfer_mechanism_not_yet_valid`: the best agreement's validity has not begun;
/// - `transfer_mechanism_expired`: the best agreement's validity has ended;
/// - `transfer_mechanism_withdrawn`: the best agreement was withdrawn;
/// - `us_dsp_prohibited`: bulk human genomic data to a covered person (28 CFR 202.303);
/// - `grant_not_approved`: the covering grant waits for a second person's approval (four eyes);
/// - `sub_processor_not_trusted`: a sub-processor the party passes the category on to is unknown or not trusted (GDPR Art. 28(2) and (4), PIPL Art. 21);
/// - `sub_processor_not_authorised`: such a sub-processor is announced but not authorised yet, or only from a later date (GDPR Art. 28(2), PIPL Art. 21).
///
/// A reason about a sub-processor's hop names it in `via`; `destination_not_declared` and the
/// transfer codes can come with `via` too (docs/TRANSFERS.md "Onward transfers").
///
/// Transfer codes carry `regime` and `rule`; docs/TRANSFERS.md maps each to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    ServiceUnknown,
    ServiceInactive,
    PurposeNotDeclared,
    PurposeProhibited,
    PartyUnknown,
    PartyNotTrusted,
    CategoryNotGranted,
    CategoryTooBroad,
    GrantExpired,
    GrantNotYetValid,
    GrantRevoked,
    DestinationNotDeclared,
    DestinationRegionNotAllowed,
    TransferMechanismMissing,
    RecipientRestricted,
    ExporterNotDeclared,
    ExemptionNotGranted,
    PiplPrerequisiteMissing,
    TransferMechanismInsufficient,
    TransferMechanismIncomplete,
    TransferMechanismNotYetValid,
    TransferMechanismExpired,
    TransferMechanismWithdrawn,
    UsDspProhibited,
    GrantNotApproved,
    SubProcessorNotTrusted,
    SubProcessorNotAuthorised,
}

impl ReasonCode {
    /// The sentence of a scope code (transfer reasons carry their own).
    pub fn message(self) -> &'static str {
        match self {
            ReasonCode::ServiceUnknown => "The requesting service is not registered.",
            ReasonCode::ServiceInactive => "The requesting service is inactive.",
            ReasonCode::PurposeNotDeclared => "The service is not declared for this purpose.",
            ReasonCode::PurposeProhibited => "The privacy policy prohibits this purpose.",
            ReasonCode::PartyUnknown => "No such party.",
            ReasonCode::PartyNotTrusted => "The party is not trusted.",
            ReasonCode::CategoryNotGranted => "No grant covers this category.",
            ReasonCode::CategoryTooBroad => {
                "No grant covers this category; a grant covers only narrower categories under it."
            }
            ReasonCode::GrantExpired => "The grant covering this category has expired.",
            ReasonCode::GrantNotYetValid => "The grant covering this category is not valid yet.",
            ReasonCode::GrantRevoked => "The grant covering this category was revoked.",
            ReasonCode::GrantNotApproved => {
                "The grant covering this category waits for a second person's approval."
            }
            ReasonCode::DestinationNotDeclared => {
                "The party does not declare processing data in the destination country."
            }
            ReasonCode::SubProcessorNotTrusted => {
                "A sub-processor the party passes this category on to is not trusted."
            }
            ReasonCode::SubProcessorNotAuthorised => {
                "A sub-processor the party passes this category on to is not authorised (yet)."
            }
            ReasonCode::DestinationRegionNotAllowed => {
                "The grant covering this category does not allow the destination's region."
            }
            _ => "A cross-border transfer rule is not met.",
        }
    }

    /// The rule behind a scope code the law sets (transfer codes take theirs from the rule set).
    pub fn rule(self) -> Option<&'static str> {
        match self {
            ReasonCode::SubProcessorNotTrusted | ReasonCode::SubProcessorNotAuthorised => {
                Some("GDPR Art. 28(2), 28(4); PIPL Art. 21")
            }
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        ALL_CODES[self as usize]
    }
}

impl From<TransferCode> for ReasonCode {
    fn from(c: TransferCode) -> ReasonCode {
        match c {
            TransferCode::RecipientRestricted => ReasonCode::RecipientRestricted,
            TransferCode::ExporterNotDeclared => ReasonCode::ExporterNotDeclared,
            TransferCode::ExemptionNotGranted => ReasonCode::ExemptionNotGranted,
            TransferCode::PiplPrerequisiteMissing => ReasonCode::PiplPrerequisiteMissing,
            TransferCode::TransferMechanismMissing => ReasonCode::TransferMechanismMissing,
            TransferCode::TransferMechanismInsufficient => {
                ReasonCode::TransferMechanismInsufficient
            }
            TransferCode::TransferMechanismIncomplete => ReasonCode::TransferMechanismIncomplete,
            TransferCode::TransferMechanismNotYetValid => ReasonCode::TransferMechanismNotYetValid,
            TransferCode::TransferMechanismExpired => ReasonCode::TransferMechanismExpired,
            TransferCode::TransferMechanismWithdrawn => ReasonCode::TransferMechanismWithdrawn,
            TransferCode::UsDspProhibited => ReasonCode::UsDspProhibited,
        }
    }
}

/// Every code, in declaration order.
pub const ALL_CODES: [&str; 27] = [
    "service_unknown",
    "service_inactive",
    "purpose_not_declared",
    "purpose_prohibited",
    "party_unknown",
    "party_not_trusted",
    "category_not_granted",
    "category_too_broad",
    "grant_expired",
    "grant_not_yet_valid",
    "grant_revoked",
    "destination_not_declared",
    "destination_region_not_allowed",
    "transfer_mechanism_missing",
    "recipient_restricted",
    "exporter_not_declared",
    "exemption_not_granted",
    "pipl_prerequisite_missing",
    "transfer_mechanism_insufficient",
    "transfer_mechanism_incomplete",
    "transfer_mechanism_not_yet_valid",
    "transfer_mechanism_expired",
    "transfer_mechanism_withdrawn",
    "us_dsp_prohibited",
    "grant_not_approved",
    "sub_processor_not_trusted",
    "sub_processor_not_authorised",
];

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    // Members in RFC 8785 order: the ledger writes decisions canonically without building a
    // JSON tree (see `record::canonical_change`).
    /// The category concerned, for category-level checks; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// What failed, machine-readable (one of `ReasonCode`).
    pub code: ReasonCode,
    /// What the register holds that made the check fail: the grant and its window or regions,
    /// the party's status or locations, the service's purposes, the categories granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::explain::Evidence>,
    /// A sentence for people: for a transfer reason, the agreement kind needed and the counter
    /// and threshold crossed.
    pub message: String,
    /// The regime of a transfer reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regime: Option<Regime>,
    /// Who can fix it, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<super::explain::Remedy>,
    /// The rule behind a transfer reason, e.g. `CAC 2024 Art. 8`, or a sub-processor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The sub-processor (a party id) whose hop of the route failed the check; absent for the
    /// share's own recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl Reason {
    /// A scope reason.
    pub fn scope(code: ReasonCode, category: Option<String>) -> Reason {
        Reason {
            category,
            code,
            evidence: None,
            message: code.message().to_owned(),
            regime: None,
            remedy: None,
            rule: code.rule().map(str::to_owned),
            via: None,
        }
    }
}
