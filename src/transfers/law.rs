//! The three regimes as pure functions: what the register knows ([`PartyFacts`],
//! [`AgreementFacts`], [`GrantFacts`], [`EntityFacts`]), the share ([`Share`]), the rule set and
//! the counters in (see [`super::plan`] for how a share is judged). No I/O and no clock: the
//! decision engine passes `now`.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::RuleSet;
use super::{AgreementKind, AgreementState, DspClass, Exemption, Regime, Tier, TransferCode};

/// One of the company's exporting entities, as the engine reads it.
#[derive(Debug, Clone, Default)]
pub struct EntityFacts {
    pub country: String,
    pub ciio: bool,
    pub active: bool,
}

/// An agreement, as the engine reads it. Instants are microseconds since the epoch.
#[derive(Debug, Clone)]
pub struct AgreementFacts {
    pub id: String,
    pub exporter: String,
    pub kind: AgreementKind,
    pub withdrawn: bool,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub filing: bool,
    pub pipia: bool,
    pub tia: bool,
}

/// What the regimes read of a party.
#[derive(Debug, Clone, Default)]
pub struct PartyFacts {
    pub affiliate: bool,
    pub country: Option<String>,
    pub principal_place: Option<String>,
    /// `(country, percent)`.
    pub ownership: Vec<(String, u32)>,
    pub us_dsp_covered: bool,
    pub pipl_restricted: bool,
    pub dpf_until: Option<NaiveDate>,
    /// Some data location is outside the PRC mainland.
    pub processes_outside_mainland: bool,
    pub agreements: Vec<AgreementFacts>,
}

/// What the regimes read of a grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFacts {
    pub agreements: Vec<String>,
    /// [`Exemption`]s as bits (`1 << variant`).
    pub exemptions: u8,
    pub pipia: bool,
    pub separate_consent: bool,
}

/// What the regimes read of a category: its effective marks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryFacts {
    /// Personal data in this share (PII, or linkable data the share makes personal).
    pub personal: bool,
    pub pipl_sensitive: bool,
    /// [`DspClass`]es as bits.
    pub dsp_classes: u8,
    /// Under `user.contact`, `user.name` or `user.demographic` (202.212's exclusion).
    pub contact_name_or_demographic: bool,
}

/// The request's transfer facts.
#[derive(Debug, Clone)]
pub struct Share<'a> {
    pub subject_country: &'a str,
    pub origin: &'a str,
    pub destination: &'a str,
    pub subject_count: i64,
    pub device_count: Option<i64>,
    pub exemption: Option<Exemption>,
    pub minors_under_14: bool,
    pub government_related: bool,
    /// The party's id, for the DSP counters.
    pub party_id: &'a str,
    /// Every purpose of the share is marked `us_dsp_ancillary`.
    pub ancillary_purpose: bool,
}

/// A counter touched by a share, as recorded in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CounterUse {
    // Members in RFC 8785 order.
    /// The counter before this share.
    pub before: i64,
    /// `pipl:<exporter>:<sensitive|non_sensitive>` or `us_dsp:<exporter>:<party>:<class>`.
    pub key: String,
    /// The threshold compared against.
    pub threshold: i64,
    /// The calendar year in UTC+8 (`2027`) or the 366 UTC days (`2025-12-02/2026-12-02`).
    pub window: String,
    /// The counter with this share counted.
    pub with_share: i64,
}

/// The agreement a regime judged for a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgreementUse {
    /// The agreement relied on.
    pub agreement_id: String,
    /// The category it backs.
    pub category: String,
    pub state: AgreementState,
}

/// How one regime judged the share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegimeReport {
    // Members in RFC 8785 order.
    /// The agreements the share relies on, per category.
    pub agreements: Vec<AgreementUse>,
    /// DSP: per class of the share, whether it is at bulk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BTreeMap<String, bool>>,
    /// The volume counters read, before and with the share.
    pub counters: Vec<CounterUse>,
    /// PIPL: the exemption claimed; DSP: `corporate_group` when 202.506 applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<String>,
    pub regime: Regime,
    /// PIPL: the strictest tier of the share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
}

/// A failed transfer check: the code, its regime, and a sentence naming what is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub regime: Regime,
    pub code: TransferCode,
    pub message: String,
}

/// The calendar year a PIPL count falls in: that of `now` in UTC+8.
pub fn pipl_year(now: DateTime<Utc>, rules: &RuleSet) -> i32 {
    (now + Duration::hours(rules.published.pipl.year_offset_hours)).year()
}

/// The first UTC day of the DSP window that ends with `day`.
pub fn dsp_window_start(day: NaiveDate, rules: &RuleSet) -> NaiveDate {
    day - Duration::days(rules.published.us_dsp.window_days - 1)
}

/// The PIPL tier of a counter (with the share).
pub fn pipl_tier(with_share: i64, sensitive: bool, ciio: bool, rules: &RuleSet) -> Tier {
    let p = &rules.published.pipl;
    if ciio {
        Tier::Assessment
    } else if sensitive {
        if with_share >= p.sensitive_assessment_from {
            Tier::Assessment
        } else {
            Tier::Contract
        }
    } else if with_share >= p.non_sensitive_assessment_from {
        Tier::Assessment
    } else if with_share >= p.non_sensitive_contract_from {
        Tier::Contract
    } else {
        Tier::Exempt
    }
}

/// Whether a party is a DSP covered person (202.211), or the destination a country of concern.
pub fn dsp_covered(party: &PartyFacts, destination: &str, rules: &RuleSet) -> bool {
    let foreign = party.country.as_deref() != Some("US");
    let concern = |c: &Option<String>| c.as_deref().is_some_and(|c| rules.of_concern(c));
    let owned: u32 = party
        .ownership
        .iter()
        .filter(|(c, _)| rules.of_concern(c))
        .map(|(_, p)| p)
        .sum();
    party.us_dsp_covered
        || (foreign && (concern(&party.country) || concern(&party.principal_place)))
        || owned >= rules.published.us_dsp.covered_ownership_percent
        || rules.of_concern(destination)
}

/// Whether the listed identifiers of a share are covered personal identifiers (202.212): two or
/// more not all contact, name or demographic data, or one with another class.
pub fn carries_covered_identifier(categories: &[CategoryFacts]) -> bool {
    let listed = DspClass::ListedIdentifier.bit();
    let personal = || categories.iter().filter(|c| c.personal);
    let identifiers: Vec<&CategoryFacts> =
        personal().filter(|c| c.dsp_classes & listed != 0).collect();
    let other_class = personal().any(|c| c.dsp_classes & !listed != 0);
    (identifiers.len() >= 2 && !identifiers.iter().all(|c| c.contact_name_or_demographic))
        || (!identifiers.is_empty() && other_class)
}

/// The classes a category brings to a share that carries `share_classes`.
pub(super) fn classes_of(c: &CategoryFacts, share_classes: u8) -> u8 {
    let listed = DspClass::ListedIdentifier.bit();
    let mut bits = c.dsp_classes & !listed;
    if c.dsp_classes & listed != 0 && share_classes & DspClass::CoveredIdentifier.bit() != 0 {
        bits |= DspClass::CoveredIdentifier.bit();
    }
    bits
}

/// An agreement's state at `now`, with the CAC assessment's three-year cap.
pub fn agreement_state(a: &AgreementFacts, now: i64, rules: &RuleSet) -> AgreementState {
    let pipl = &rules.published.pipl;
    if a.withdrawn {
        return AgreementState::Withdrawn;
    }
    if now < a.valid_from {
        return AgreementState::NotYetValid;
    }
    if effective_until(a, rules).is_some_and(|u| now >= u) {
        return AgreementState::Expired;
    }
    let filing_due = a.valid_from.saturating_add(
        Duration::days(pipl.filing_due_days)
            .num_microseconds()
            .unwrap_or(0),
    );
    let complete = match a.kind {
        AgreementKind::PiplStandardContract => a.pipia && (a.filing || now < filing_due),
        AgreementKind::PiplCertification | AgreementKind::CacSecurityAssessment => a.pipia,
        AgreementKind::EuScc => a.tia,
        _ => true,
    };
    if complete {
        AgreementState::InForce
    } else {
        AgreementState::Incomplete
    }
}

/// The end of an agreement's validity: a CAC assessment ends three years after it was issued
/// at the latest.
pub fn effective_until(a: &AgreementFacts, rules: &RuleSet) -> Option<i64> {
    if a.kind != AgreementKind::CacSecurityAssessment {
        return a.valid_until;
    }
    let cap = DateTime::from_timestamp_micros(a.valid_from)
        .and_then(|f| {
            f.checked_add_months(chrono::Months::new(
                12 * rules.published.pipl.assessment_valid_years as u32,
            ))
        })
        .map_or(i64::MAX, |t| t.timestamp_micros());
    Some(a.valid_until.map_or(cap, |u| u.min(cap)))
}

pub(super) fn rank(s: AgreementState) -> u8 {
    s as u8
}

/// The kinds a regime accepts at a tier, and the kinds of its family (for "insufficient").
pub(super) fn accepted(
    regime: Regime,
    tier: Tier,
) -> (&'static [AgreementKind], &'static [AgreementKind]) {
    use AgreementKind::*;
    const PIPL: &[AgreementKind] = &[
        PiplStandardContract,
        PiplCertification,
        CacSecurityAssessment,
    ];
    match (regime, tier) {
        (Regime::Pipl, Tier::Assessment) => (&[CacSecurityAssessment], PIPL),
        (Regime::Pipl, _) => (PIPL, PIPL),
        (Regime::UsDsp, _) => (&[UsDspSecurityRequirements], &[UsDspSecurityRequirements]),
        (Regime::Gdpr, _) => (&[EuScc, EuBcr], &[EuScc, EuBcr]),
    }
}

pub(super) fn kinds_text(kinds: &[AgreementKind]) -> String {
    crate::types::choices(kinds.iter().map(|k| k.as_str()))
}
