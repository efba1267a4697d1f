//! Security incidents at a party: opening one suspends the party in the same transaction; its
//! [`exposure`] is computed from the recorded decisions only; its [`duties`] to notify follow
//! from the exposure, the severity and the moment the company became aware.

pub mod commands;
pub mod duties;
pub mod exposure;
pub mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::types::text_enum! {
    /// How bad the incident is; high and critical oblige telling the subjects (GDPR Art. 34).
    pub enum Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

crate::types::text_enum! {
    /// `open → contained → closed`; a closed incident never reopens.
    pub enum IncidentStatus {
        Open = "open",
        Contained = "contained",
        Closed = "closed",
    }
}

crate::types::text_enum! {
    /// The law (or promise) a duty comes from.
    pub enum DutyRegime {
        Gdpr = "gdpr",
        Pipl = "pipl",
        /// The privacy policy's own promise to tell people.
        Policy = "policy",
    }
}

crate::types::text_enum! {
    /// Who is to be told.
    pub enum Addressee {
        /// The GDPR supervisory authority.
        SupervisoryAuthority = "supervisory_authority",
        /// The PRC personal-information protection authority.
        Authority = "authority",
        /// The people whose data it is.
        Subjects = "subjects",
    }
}

crate::types::text_enum! {
    /// Where a duty stands.
    pub enum DutyStatus {
        Pending = "pending",
        Done = "done",
        /// Not owed, with the reason (the risk assessment, or the measures that avoid harm).
        NotRequired = "not_required",
    }
}

/// A duty to notify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Duty {
    /// The duty's id (a UUID the service issued), for `POST /v1/incidents/{id}/duties/{duty_id}`.
    pub id: String,
    pub regime: DutyRegime,
    /// E.g. `GDPR Art. 33`.
    pub rule: String,
    /// The exporting entity it falls on; null for the policy's promise.
    pub exporter: Option<String>,
    pub addressee: Addressee,
    /// The deadline; null for "without undue delay" (GDPR Art. 34, the policy's promise).
    pub due_at: Option<String>,
    pub status: DutyStatus,
    /// When it was done (or judged not required).
    pub done_at: Option<String>,
    /// Where it was done: the filing or notice reference.
    pub reference: Option<String>,
    /// Why it was judged not required, when it was.
    pub reason: Option<String>,
    pub created_at: String,
    /// Computed when read: pending and past `due_at`.
    #[serde(default)]
    pub overdue: bool,
}

impl Duty {
    pub fn is_overdue(&self, now: &str) -> bool {
        self.status == DutyStatus::Pending && self.due_at.as_deref().is_some_and(|d| d < now)
    }
}

/// What opening the incident did to the party.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Suspension {
    /// Whether the party was suspended by this incident.
    pub done: bool,
    /// Why not, or the status reason recorded.
    pub reason: String,
}

/// An incident, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c9-5555-7cc0-9d2a-0c1b2a3d4e5f", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f",
    "title": "Credential stuffing at the mail vendor", "became_aware_at": "2026-12-01T08:00:00.000000Z",
    "detected_at": "2026-12-01T07:30:00.000000Z", "occurred_from": "2026-11-28T00:00:00.000000Z", "occurred_until": null,
    "severity": "high", "categories": ["user.contact.email"], "description": "Vendor reports access to its mailing database.",
    "exposure_from": null, "status": "open", "contained_at": null, "closed_at": null,
    "suspension": {"done": true, "reason": "incident 0193a0c9-5555-7cc0-9d2a-0c1b2a3d4e5f"},
    "duties": [{"id": "0193a0c9-6666-7cc0-9d2a-0c1b2a3d4e5f", "regime": "gdpr", "rule": "GDPR Art. 33", "exporter": "acme-de",
        "addressee": "supervisory_authority", "due_at": "2026-12-04T08:00:00.000000Z", "status": "pending", "done_at": null,
        "reference": null, "reason": null, "created_at": "2026-12-01T08:10:00.000000Z", "overdue": false}],
    "overdue_duties": 0, "created_by": "counsel", "created_at": "2026-12-01T08:10:00.000000Z",
    "updated_at": "2026-12-01T08:10:00.000000Z", "version": 1}))]
pub struct Incident {
    /// The incident's id (a UUID the service issued).
    pub id: String,
    /// The party where it happened.
    pub party_id: String,
    /// A short name for it.
    pub title: String,
    /// When the company became aware: the clocks of the duties run from here.
    pub became_aware_at: String,
    /// When the party detected it, if it said.
    pub detected_at: Option<String>,
    /// When it began, as far as known.
    pub occurred_from: Option<String>,
    /// Null while it may still be going on.
    pub occurred_until: Option<String>,
    pub severity: Severity,
    /// The data categories affected (taxonomy keys).
    pub categories: Vec<String>,
    /// What happened, as counsel records it (no personal data).
    pub description: Option<String>,
    /// Decisions from this instant count as exposed; null: from the party's first decision.
    pub exposure_from: Option<String>,
    pub status: IncidentStatus,
    /// When it was contained; null until then.
    pub contained_at: Option<String>,
    /// When it was closed; null while open.
    pub closed_at: Option<String>,
    pub suspension: Suspension,
    /// Stored when the incident opens, added when an amendment widens the exposure.
    pub duties: Vec<Duty>,
    /// Computed when read.
    #[serde(default)]
    pub overdue_duties: usize,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change; send it back in `If-Match`.
    pub version: i64,
    /// Only with `as_of`: the ledger entry that recorded this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_ledger_seq: Option<i64>,
}

impl Incident {
    /// Fills in what is computed when read, as of `now`.
    pub fn judged_at(mut self, now: &str) -> Incident {
        for d in &mut self.duties {
            d.overdue = d.is_overdue(now);
        }
        self.overdue_duties = self.duties.iter().filter(|d| d.overdue).count();
        self
    }
}

/// A new incident, as validated at the edge (instants normalised).
#[derive(Debug, Clone)]
pub struct Draft {
    pub party_id: String,
    pub title: String,
    pub became_aware_at: String,
    pub detected_at: Option<String>,
    pub occurred_from: Option<String>,
    pub occurred_until: Option<String>,
    pub severity: Severity,
    pub categories: Vec<String>,
    pub description: Option<String>,
    pub exposure_from: Option<String>,
    pub suspend: bool,
    pub no_suspend_reason: Option<String>,
}

/// An amendment: `None` leaves a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub occurred_from: Option<Option<String>>,
    pub occurred_until: Option<Option<String>>,
    pub exposure_from: Option<Option<String>>,
    pub severity: Option<Severity>,
    pub description: Option<Option<String>>,
}

/// A duty's new state.
#[derive(Debug, Clone)]
pub struct DutyChange {
    pub status: DutyStatus,
    pub at: Option<String>,
    pub reference: Option<String>,
    pub reason: Option<String>,
}
