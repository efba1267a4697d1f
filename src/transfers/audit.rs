//! The counters as a cache of the ledger: rebuilt from the approved decisions' `volumes` and the
//! recorded adjustments, and compared with the stored counts; and adjustments, which seed a
//! counter for transfers made before the service counted them (docs/TRANSFERS.md "Volumes").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::volumes::{Counter, Tally, store};
use super::{DspClass, Regime};
use crate::db::DbConn;
use crate::error::{DomainError, FieldError};
use crate::ledger::{Subject, action};

/// A counter whose stored count differs from what the ledger adds up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Mismatch {
    pub key: String,
    pub period: String,
    pub stored: i64,
    pub rebuilt: i64,
}

/// The counters checked against the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VolumeCheck {
    pub ok: bool,
    /// Counters (per period) the ledger accounts for.
    pub counters: usize,
    /// The first mismatch in key order.
    pub first_mismatch: Option<Mismatch>,
}

/// A manual change to a counter, recorded in the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Adjustment {
    /// `pipl:<exporter>:<sensitive|non_sensitive>` or `us_dsp:<exporter>:<party>:<class>`.
    pub key: String,
    /// The PIPL year (`2026`) or the DSP day (`2026-03-01`).
    pub period: String,
    /// People (or devices) to add; negative to correct.
    pub delta: i64,
    /// Why the counter is adjusted.
    pub reason: String,
    /// Where the transfers are documented.
    pub evidence_reference: String,
}

/// Calls `f` with the change of every entry of `act` after entry `after`, in order.
fn entries(
    conn: &mut DbConn,
    act: &str,
    mut after: i64,
    mut f: impl FnMut(serde_json::Value),
) -> Result<(), DomainError> {
    loop {
        let rows = crate::ledger::store::list(conn, after, Some(act), None, 1000)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(());
        };
        for row in rows {
            f(serde_json::from_str(&row.change)?);
        }
        after = last;
    }
}

/// Every recorded adjustment, oldest first, with the `seq` of its ledger entry.
pub fn adjustments(conn: &mut DbConn) -> Result<Vec<(i64, Adjustment)>, DomainError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let rows =
            crate::ledger::store::list(conn, after, Some(action::VOLUME_ADJUSTED), None, 1000)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(out);
        };
        for row in rows {
            out.push((row.seq, serde_json::from_str(&row.change)?));
        }
        after = last;
    }
}

/// Calls `f(key, period, n)` for every increment the ledger recorded after entry `after`:
/// each approval's counted people (or devices), then each adjustment.
fn increments_after(
    conn: &mut DbConn,
    after: i64,
    mut f: impl FnMut(String, String, i64),
) -> Result<(), DomainError> {
    entries(conn, action::DECISION_RECORDED, after, |change| {
        let day = change["decided_at"]
            .as_str()
            .unwrap_or("")
            .get(..10)
            .unwrap_or("")
            .to_owned();
        for c in change["volumes"].as_array().into_iter().flatten() {
            let key = c["key"].as_str().unwrap_or("").to_owned();
            let period = if key.starts_with("pipl:") {
                c["window"].as_str().unwrap_or("").to_owned()
            } else {
                day.clone()
            };
            let n = c["with_share"].as_i64().unwrap_or(0) - c["before"].as_i64().unwrap_or(0);
            f(key, period, n);
        }
    })?;
    entries(conn, action::VOLUME_ADJUSTED, after, |change| {
        let key = change["key"].as_str().unwrap_or("").to_owned();
        let period = change["period"].as_str().unwrap_or("").to_owned();
        f(key, period, change["delta"].as_i64().unwrap_or(0));
    })
}

/// The counters `tally` loaded, as they stood at entry `seq`: what the ledger recorded after
/// it is taken back out (reads the entries since `seq`).
pub fn rewind(conn: &mut DbConn, tally: &mut Tally, seq: i64) -> Result<(), DomainError> {
    increments_after(conn, seq, |key, period, n| {
        if let Some(counter) = Counter::parse(&key, &period) {
            tally.unwind(&counter, n);
        }
    })
}

/// Rebuilds every counter from the ledger and compares it with the stored counts.
pub fn rebuild(conn: &mut DbConn) -> Result<VolumeCheck, DomainError> {
    let mut rebuilt: BTreeMap<(String, String), i64> = BTreeMap::new();
    increments_after(conn, 0, |key, period, n| {
        *rebuilt.entry((key, period)).or_default() += n;
    })?;
    let stored: BTreeMap<(String, String), i64> = store::list(conn, None, None)?
        .into_iter()
        .map(|r| ((r.counter().key(), r.period), r.count))
        .collect();
    let mut keys: Vec<&(String, String)> = rebuilt.keys().chain(stored.keys()).collect();
    keys.sort();
    keys.dedup();
    let first_mismatch = keys.iter().find_map(|k| {
        let (s, r) = (
            stored.get(*k).copied().unwrap_or(0),
            rebuilt.get(*k).copied().unwrap_or(0),
        );
        (s != r).then(|| Mismatch {
            key: k.0.clone(),
            period: k.1.clone(),
            stored: s,
            rebuilt: r,
        })
    });
    Ok(VolumeCheck {
        ok: first_mismatch.is_none(),
        counters: rebuilt.len(),
        first_mismatch,
    })
}

/// The counter an adjustment names, or the fields that are wrong.
fn counter_of(conn: &mut DbConn, a: &Adjustment) -> Result<Counter, DomainError> {
    let adjustable = |c: &Counter| match c.regime {
        Regime::Pipl => c.class == "sensitive" || c.class == "non_sensitive",
        Regime::UsDsp => DspClass::parse(&c.class).is_some_and(|k| k != DspClass::ListedIdentifier),
        Regime::Gdpr => false,
    };
    let Some(counter) = Counter::parse(&a.key, &a.period).filter(adjustable) else {
        return Err(DomainError::field(
            "key",
            "must be pipl:<exporter>:<sensitive|non_sensitive> or us_dsp:<exporter>:<party>:<class>",
        ));
    };
    let regime = counter.regime;
    let mut errors = Vec::new();
    if crate::registry::entities::find(conn, &counter.exporter)?.is_none() {
        errors.push(FieldError::new("key", "names no registered entity"));
    }
    if regime == Regime::UsDsp
        && crate::registry::parties::store::find(conn, &counter.party_id)?.is_none()
    {
        errors.push(FieldError::new("key", "names no registered party"));
    }
    let period_ok = match regime {
        Regime::Pipl => a.period.len() == 4 && a.period.parse::<i32>().is_ok(),
        _ => crate::time::parse_date(&a.period).is_some(),
    };
    if !period_ok {
        errors.push(FieldError::new(
            "period",
            "must be a year (PIPL) or a date as YYYY-MM-DD (DSP)",
        ));
    }
    if a.delta == 0 {
        errors.push(FieldError::new("delta", "must not be 0"));
    }
    crate::error::collect(errors)?;
    Ok(counter)
}

/// Applies an adjustment under the ledger head lock, with its ledger entry (not a register
/// change). A counter never goes below zero. Returns the new count. Call inside a write
/// transaction.
pub fn adjust(
    conn: &mut DbConn,
    actor: &serde_json::Value,
    a: Adjustment,
) -> Result<i64, DomainError> {
    let mut appender = crate::ledger::Appender::lock(conn)?;
    let counter = counter_of(conn, &a)?;
    let current = store::list(conn, Some(&counter.exporter), Some(&counter.party_id))?
        .into_iter()
        .find(|r| r.counter() == counter)
        .map_or(0, |r| r.count);
    if current + a.delta < 0 {
        return Err(DomainError::field(
            "delta",
            "would take the counter below zero",
        ));
    }
    let change = serde_json::to_value(&a)?;
    appender.append(
        actor,
        action::VOLUME_ADJUSTED,
        Subject::Volume(&a.key),
        &change,
        false,
    );
    appender.finish(conn)?;
    store::write(conn, &[(counter, a.delta)])?;
    Ok(current + a.delta)
}
