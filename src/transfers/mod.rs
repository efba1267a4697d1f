//! Transfer law per request (docs/TRANSFERS.md): the PRC's (PIPL and the CAC's 2024
//! provisions), the US Data Security Program (28 CFR Part 202) and GDPR Chapter V. [`rules`] is
//! the versioned rule set compiled into the binary; [`law`] the facts the regimes read and
//! their small pure functions; [`plan`] the regimes over a share, which the decision engine
//! calls with the snapshot's facts, the rule set and the counters; [`volumes`] the
//! counters and their storage, [`audit`] their rebuild from the ledger and their adjustments;
//! [`activation`] records a rule set in the ledger when a node first
//! runs it.

pub mod activation;
pub mod audit;
pub mod judge;
pub mod law;
pub mod plan;
pub mod rules;
pub mod summary;
pub mod volumes;

pub use crate::types::DspClass;
use crate::types::text_enum;

text_enum! {
    /// A cross-border regime.
    #[derive(PartialOrd, Ord)]
    pub enum Regime {
        /// PIPL and the CAC 2024 Provisions.
        Pipl = "pipl",
        /// The US Data Security Program, 28 CFR Part 202.
        UsDsp = "us_dsp",
        /// GDPR Chapter V.
        Gdpr = "gdpr",
    }
}

text_enum! {
    /// The kind of an agreement; each regime accepts some kinds.
    pub enum AgreementKind {
        /// A data-processing agreement: evidence only; no rule requires it in this version.
        Dpa = "dpa",
        /// The CAC standard contract (PIPL Art. 38(1)(3)); needs a filing within 10 working days.
        PiplStandardContract = "pipl_standard_contract",
        /// Personal-information-protection certification (PIPL Art. 38(1)(2)).
        PiplCertification = "pipl_certification",
        /// A CAC security assessment (PIPL Art. 38(1)(1)); valid three years at most.
        CacSecurityAssessment = "cac_security_assessment",
        /// EU standard contractual clauses (GDPR Art. 46(2)(c)); needs a transfer impact assessment.
        EuScc = "eu_scc",
        /// Binding corporate rules (GDPR Art. 47); affiliates only.
        EuBcr = "eu_bcr",
        /// The CISA security requirements for restricted transactions (28 CFR 202.401).
        UsDspSecurityRequirements = "us_dsp_security_requirements",
    }
}

impl AgreementKind {
    /// One of the three PIPL mechanisms.
    pub fn is_pipl(self) -> bool {
        matches!(
            self,
            AgreementKind::PiplStandardContract
                | AgreementKind::PiplCertification
                | AgreementKind::CacSecurityAssessment
        )
    }
}

text_enum! {
    /// Whether an agreement stands: `active` until withdrawn; agreements are never deleted.
    pub enum AgreementStatus {
        Active = "active",
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// What an agreement amounts to for a share, best first.
    pub enum AgreementState {
        /// In force, with every reference its kind needs.
        InForce = "in_force",
        /// In force, but a reference its kind needs is missing.
        Incomplete = "incomplete",
        /// Its validity has not begun.
        NotYetValid = "not_yet_valid",
        /// Its validity has ended.
        Expired = "expired",
        /// Withdrawn.
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// A PIPL exemption from the mechanism (CAC 2024 Art. 5(1)-(3)).
    pub enum Exemption {
        /// Necessary to conclude or perform a contract the person is party to.
        ContractNecessity = "contract_necessity",
        /// Cross-border human-resources management under lawful rules and a collective contract.
        HrManagement = "hr_management",
        /// Necessary to protect life, health or property in an emergency.
        Emergency = "emergency",
    }
}

text_enum! {
    /// Whether the transfer checks decide outcomes (`enforce`) or are only recorded as
    /// `advisories` (`report`).
    pub enum Enforcement {
        Enforce = "enforce",
        Report = "report",
    }
}

text_enum! {
    /// The PIPL tier a share falls in, by the exporter's counters with the share (CAC 2024).
    #[derive(PartialOrd, Ord)]
    pub enum Tier {
        /// Below every threshold: no mechanism needed (Art. 5(4)).
        Exempt = "exempt",
        /// A standard contract, certification or assessment (Art. 8).
        Contract = "contract",
        /// Only a CAC security assessment (Art. 7).
        Assessment = "assessment",
    }
}

text_enum! {
    /// The transfer reason codes (the scope codes are DESIGN.md's).
    pub enum TransferCode {
        /// The party is on the CAC's restricted or prohibited list (PIPL Art. 42).
        RecipientRestricted = "recipient_restricted",
        /// The share's exporting entity is not resolved: the service lists none, or not the one named.
        ExporterNotDeclared = "exporter_not_declared",
        /// A PIPL exemption was claimed that the grant does not list.
        ExemptionNotGranted = "exemption_not_granted",
        /// The grant lacks its PIPIA reference or separate consent (PIPL Arts. 55, 39).
        PiplPrerequisiteMissing = "pipl_prerequisite_missing",
        /// The grant has no agreement of a kind the regime accepts, for this exporter.
        TransferMechanismMissing = "transfer_mechanism_missing",
        /// The grant has PIPL agreements only of kinds below the share's tier.
        TransferMechanismInsufficient = "transfer_mechanism_insufficient",
        /// The best agreement is in force but misses a reference its kind needs.
        TransferMechanismIncomplete = "transfer_mechanism_incomplete",
        /// The best agreement's validity has not begun.
        TransferMechanismNotYetValid = "transfer_mechanism_not_yet_valid",
        /// The best agreement's validity has ended.
        TransferMechanismExpired = "transfer_mechanism_expired",
        /// The best agreement was withdrawn.
        TransferMechanismWithdrawn = "transfer_mechanism_withdrawn",
        /// Bulk genomic data to a covered person (28 CFR 202.303).
        UsDspProhibited = "us_dsp_prohibited",
    }
}

#[cfg(test)]
mod tests;
