//! The counters as `GET /v1/transfer-volumes` shows them: each with its thresholds, its tier
//! or bulk status, and its adjustments.

use super::Regime;
use super::volumes::store;

/// A counter as `GET /v1/transfer-volumes` shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub regime: Regime,
    /// `pipl:<exporter>:<class>` or `us_dsp:<exporter>:<party>:<class>`.
    pub key: String,
    /// The exporting entity counted for.
    pub exporter: String,
    /// DSP only: the party counted for.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub party_id: String,
    /// PIPL: `sensitive` or `non_sensitive`; DSP: the data class (e.g. `genomic`).
    pub class: String,
    /// The PIPL year (UTC+8), or the DSP window ending today.
    pub window: String,
    /// People (or devices) counted over `window`.
    pub count: i64,
    /// PIPL: the tier boundaries; DSP: the bulk threshold ("more than").
    pub thresholds: Vec<i64>,
    /// PIPL: the tier the count has reached (`exempt`, `contract`, `assessment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<super::Tier>,
    /// DSP: whether the count is over the bulk threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk: Option<bool>,
    /// The adjustments recorded for this counter, oldest first.
    pub adjustments: Vec<AdjustmentRecord>,
}

/// An adjustment as the counters list shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AdjustmentRecord {
    /// The ledger entry that recorded it.
    pub ledger_seq: i64,
    /// The PIPL year or the DSP day it adjusts.
    pub period: String,
    /// What it added (negative: took away).
    pub delta: i64,
    /// Why, as the admin wrote.
    pub reason: String,
    /// Where the transfers it accounts for are documented.
    pub evidence_reference: String,
}

/// The counters.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"items": [
    {"regime": "pipl", "key": "pipl:acme-cn:non_sensitive", "exporter": "acme-cn", "class": "non_sensitive",
        "window": "2026", "count": 120000, "thresholds": [100000, 1000000], "tier": "contract", "adjustments": []},
    {"regime": "us_dsp", "key": "us_dsp:acme-us:0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f:genomic", "exporter": "acme-us",
        "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "class": "genomic", "window": "2025-12-03/2026-12-03",
        "count": 60, "thresholds": [100], "bulk": false, "adjustments": []}]}))]
pub struct VolumeList {
    /// Every counter, PIPL's per exporter and year, the DSP's per exporter, party and class.
    pub items: Vec<Summary>,
}

/// The counters of `rows` as they stand at `now`: every PIPL year stored, and each DSP series
/// summed over the window ending today.
pub fn summarise(
    rows: &[store::Row],
    rules: &super::rules::RuleSet,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Summary> {
    let p = &rules.published.pipl;
    let day = now.date_naive();
    let window_start = super::law::dsp_window_start(day, rules).to_string();
    let mut out: Vec<Summary> = Vec::new();
    for r in rows {
        let c = r.counter();
        if r.regime == Regime::Pipl {
            let sensitive = r.class == "sensitive";
            let thresholds = if sensitive {
                vec![p.sensitive_assessment_from]
            } else {
                vec![
                    p.non_sensitive_contract_from,
                    p.non_sensitive_assessment_from,
                ]
            };
            out.push(Summary {
                regime: r.regime,
                key: c.key(),
                exporter: r.exporter.clone(),
                party_id: String::new(),
                class: r.class.clone(),
                window: r.period.clone(),
                count: r.count,
                thresholds,
                tier: Some(super::law::pipl_tier(r.count, sensitive, false, rules)),
                bulk: None,
                adjustments: Vec::new(),
            });
            continue;
        }
        if r.period < window_start || r.period > day.to_string() {
            continue;
        }
        let key = c.key();
        match out.iter_mut().find(|s| s.key == key) {
            Some(s) => s.count += r.count,
            None => out.push(Summary {
                regime: r.regime,
                key,
                exporter: r.exporter.clone(),
                party_id: r.party_id.clone(),
                class: r.class.clone(),
                window: format!("{window_start}/{day}"),
                count: r.count,
                thresholds: super::DspClass::parse(&r.class)
                    .map(|k| vec![rules.bulk_more_than(k)])
                    .unwrap_or_default(),
                tier: None,
                bulk: None,
                adjustments: Vec::new(),
            }),
        }
    }
    for s in &mut out {
        if s.regime == Regime::UsDsp {
            s.bulk = s.thresholds.first().map(|t| s.count > *t);
        }
    }
    out
}
