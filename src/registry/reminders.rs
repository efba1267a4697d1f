//! What procurement must act on soon: reviews falling due, grants and agreements expiring, DPF
//! certifications lapsing, sub-processors' objection deadlines — read from the register as it is, nothing stored.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{agreements, grants, parties};
use crate::db::DbConn;
use crate::error::DomainError;
use crate::types::text_enum;

text_enum! {
    /// What a reminder is about.
    pub enum ReminderKind {
        /// The party's `next_review_due` (a date), or, when it has none, its risk tier's cadence
        /// since it was trusted ([`cadence_days`]).
        ReviewDue = "review_due",
        /// An active grant's `valid_until`.
        GrantExpiring = "grant_expiring",
        /// An agreement's `valid_until`.
        AgreementExpiring = "agreement_expiring",
        /// The party's `dpf_certified_until` (a date): GDPR adequacy for a US party ends then.
        DpfLapsing = "dpf_lapsing",
        /// The last day to object to a sub-processor's change notice (`objection_deadline`):
        /// `object_id` is the sub-processor.
        ObjectionDeadline = "objection_deadline",
    }
}

/// One thing to act on.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"kind": "grant_expiring", "due": "2027-01-15T00:00:00.000000Z", "overdue": false,
    "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "party_name": "Acme Mail Ltd",
    "object_id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f", "service": "newsletter"}))]
pub struct Reminder {
    pub kind: ReminderKind,
    /// When: a date for reviews and DPF certifications, an instant for grants and agreements.
    pub due: String,
    /// Already past: a review or certification date before today (grants and agreements that
    /// have expired are no longer reminders: they are `expired`).
    pub overdue: bool,
    /// The party concerned.
    pub party_id: String,
    /// Its legal name.
    pub party_name: String,
    /// The grant or agreement concerned, or the sub-processor (null for the party's own dates).
    pub object_id: Option<String>,
    /// The grant's service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// How `due` was reached when the register holds no date for it: the risk tier's cadence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// Days between periodic reviews of a trusted party without a `next_review_due`, by risk tier:
/// high every 6 months, medium every year, low every two years.
pub fn cadence_days(tier: parties::RiskTier) -> i64 {
    match tier {
        parties::RiskTier::High => 182,
        parties::RiskTier::Medium => 365,
        parties::RiskTier::Low => 730,
    }
}

/// When a trusted party with no `next_review_due` falls due: its tier's cadence after it was
/// last trusted (`status_changed_at`; its registration for parties trusted before that was kept).
pub fn review_by_cadence(p: &parties::PartyRow) -> Option<(String, String)> {
    if p.status != parties::PartyStatus::Trusted || p.next_review_due.is_some() {
        return None;
    }
    let since = p.status_changed_at.as_deref().unwrap_or(&p.created_at);
    let since = crate::time::parse(since)?;
    let days = cadence_days(p.risk_tier);
    let due = (since + Duration::days(days)).date_naive();
    Some((
        due.format("%Y-%m-%d").to_string(),
        format!(
            "risk_tier {}: every {days} days since trusted on {}",
            p.risk_tier.as_str(),
            since.date_naive().format("%Y-%m-%d")
        ),
    ))
}

/// Everything due from now until `now + within_days`, soonest first (overdue reviews and
/// certifications first of all).
pub fn due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    within_days: i64,
) -> Result<Vec<Reminder>, DomainError> {
    let until = now + Duration::days(within_days);
    let (now_s, until_s) = (crate::time::format(now), crate::time::format(until));
    let (today, last_day) = (
        now.date_naive().format("%Y-%m-%d").to_string(),
        until.date_naive().format("%Y-%m-%d").to_string(),
    );
    let mut out = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for p in parties::store::with_dates_due(conn, &last_day)? {
        names.insert(p.id.clone(), p.legal_name.clone());
        let dates = [
            (ReminderKind::ReviewDue, &p.next_review_due),
            (ReminderKind::DpfLapsing, &p.dpf_certified_until),
        ];
        for (kind, date) in dates {
            if let Some(d) = date.as_ref().filter(|d| d.as_str() <= last_day.as_str()) {
                out.push(Reminder {
                    kind,
                    due: d.clone(),
                    overdue: d.as_str() < today.as_str(),
                    party_id: p.id.clone(),
                    party_name: p.legal_name.clone(),
                    object_id: None,
                    service: None,
                    basis: None,
                });
            }
        }
    }
    for p in parties::store::trusted_without_review_date(conn)? {
        if let Some((due, basis)) = review_by_cadence(&p).filter(|(d, _)| *d <= last_day) {
            out.push(Reminder {
                kind: ReminderKind::ReviewDue,
                overdue: due < today,
                due,
                party_name: p.legal_name.clone(),
                party_id: p.id.clone(),
                object_id: None,
                service: None,
                basis: Some(basis),
            });
            names.insert(p.id, p.legal_name);
        }
    }
    for p in parties::store::with_sub_processors(conn)? {
        for s in p.sub_processors.iter() {
            let Some(d) = s.objection_deadline.as_ref() else {
                continue;
            };
            if d.as_str() >= today.as_str() && d.as_str() <= last_day.as_str() {
                out.push(Reminder {
                    kind: ReminderKind::ObjectionDeadline,
                    due: d.clone(),
                    overdue: false,
                    party_id: p.id.clone(),
                    party_name: p.legal_name.clone(),
                    object_id: Some(s.party_id.clone()),
                    service: None,
                    basis: None,
                });
            }
        }
        names.insert(p.id.clone(), p.legal_name.clone());
    }
    let expiring_grants = grants::store::expiring(conn, &now_s, &until_s)?;
    let expiring_agreements = agreements::store::expiring(conn, &now_s, &until_s)?;
    let owners: Vec<String> = expiring_grants
        .iter()
        .map(|g| g.party_id.clone())
        .chain(expiring_agreements.iter().map(|a| a.party_id.clone()))
        .filter(|id| !names.contains_key(id))
        .collect();
    for p in parties::store::find_many(conn, &owners)? {
        names.insert(p.id, p.legal_name);
    }
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    for g in expiring_grants {
        out.push(Reminder {
            kind: ReminderKind::GrantExpiring,
            due: g.valid_until.clone().unwrap_or_default(),
            overdue: false,
            party_name: name(&g.party_id),
            party_id: g.party_id,
            object_id: Some(g.id),
            service: Some(g.service),
            basis: None,
        });
    }
    for a in expiring_agreements {
        out.push(Reminder {
            kind: ReminderKind::AgreementExpiring,
            due: a.valid_until.clone().unwrap_or_default(),
            overdue: false,
            party_name: name(&a.party_id),
            party_id: a.party_id,
            object_id: Some(a.id),
            service: None,
            basis: None,
        });
    }
    // Dates and instants sort together as text: a date is the start of its day.
    out.sort_by(|a, b| (!a.overdue, &a.due, &a.party_id).cmp(&(!b.overdue, &b.due, &b.party_id)));
    Ok(out)
}
