//! Outbound webhooks: the register's changes and what falls due, told to the endpoints that
//! subscribed, signed, retried with backoff, each attempt visible.
//!
//! Nothing is lost if the process dies: a register change's ledger entry is written in the
//! change's own transaction, and the ledger is the outbox — [`outbox::collect`] turns the
//! entries after `webhook_cursor` into events and their deliveries in one transaction with the
//! cursor's move. Reminders (`GET /v1/reminders`) become events once each. [`delivery`] sends
//! what is due, at least once, with the event id for de-duplication and the Standard Webhooks
//! signature (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).

pub mod commands;
pub mod delivery;
pub mod outbox;
pub mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Role;
use crate::types::text_enum;

text_enum! {
    /// What an event tells. `*.expiring`, `review.due`, `dpf.lapsing` and
    /// `sub_processor.objection_deadline` come from the reminders (once each, within
    /// `reminder_days`); the others from the ledger entry of the change.
    pub enum EventType {
        /// A grant was requested.
        GrantCreated = "grant.created",
        /// A second person approved a grant: it is relied on from now.
        GrantApproved = "grant.approved",
        /// A grant was revoked (or superseded by its approved amendment).
        GrantRevoked = "grant.revoked",
        /// A grant's exemptions or agreements changed.
        GrantUpdated = "grant.updated",
        /// An active grant's `valid_until` falls within the reminder window.
        GrantExpiring = "grant.expiring",
        /// A party was registered.
        PartyCreated = "party.created",
        /// A party's record changed.
        PartyUpdated = "party.updated",
        /// A party became trusted.
        PartyTrusted = "party.trusted",
        /// A party was suspended: it receives nothing.
        PartySuspended = "party.suspended",
        /// A party went back to review (a material change).
        PartyPendingReview = "party.pending_review",
        /// A party was offboarded: all its grants were revoked.
        PartyOffboarded = "party.offboarded",
        /// A party's sub-processors changed.
        PartySubProcessorsChanged = "party.sub_processors_changed",
        /// An agreement was recorded.
        AgreementCreated = "agreement.created",
        /// An agreement changed.
        AgreementUpdated = "agreement.updated",
        /// An agreement was withdrawn: it backs nothing.
        AgreementWithdrawn = "agreement.withdrawn",
        /// An agreement's `valid_until` falls within the reminder window.
        AgreementExpiring = "agreement.expiring",
        /// A party's periodic review falls due (or is overdue).
        ReviewDue = "review.due",
        /// A party's DPF certification lapses.
        DpfLapsing = "dpf.lapsing",
        /// The last day to object to a sub-processor's change notice is ahead.
        SubProcessorObjectionDeadline = "sub_processor.objection_deadline",
    }
}

impl EventType {
    /// Whether a principal of `role` may read what the event tells: a service its own grants'
    /// events only (and `service` must be its own, checked per event), the register's keepers
    /// everything.
    pub fn readable_by(self, role: Role) -> bool {
        match role {
            Role::Admin | Role::Procurement => true,
            Role::Service => matches!(
                self,
                EventType::GrantCreated
                    | EventType::GrantApproved
                    | EventType::GrantRevoked
                    | EventType::GrantUpdated
                    | EventType::GrantExpiring
            ),
            Role::Auditor | Role::Legal => false,
        }
    }
}

/// How webhooks are delivered (`serve`'s `--webhook-*` flags).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Accept `http://` endpoints on loopback addresses (for local testing only).
    pub allow_http_loopback: bool,
    /// How often the outbox is read and due deliveries are sent.
    pub poll: std::time::Duration,
    /// The first retry's delay; each next one doubles it, up to an hour.
    pub retry_base: std::time::Duration,
    /// Attempts before a delivery is given up (`failed_at`).
    pub max_attempts: i64,
    /// How far ahead reminders become events.
    pub reminder_days: i64,
    /// Per attempt.
    pub timeout: std::time::Duration,
    /// Collect events but send nothing (during maintenance, or a fuzzing run).
    pub paused: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_http_loopback: false,
            poll: std::time::Duration::from_secs(1),
            retry_base: std::time::Duration::from_secs(10),
            max_attempts: 12,
            reminder_days: 30,
            timeout: std::time::Duration::from_secs(10),
            paused: false,
        }
    }
}

/// A registered endpoint, as the API shows it (never its secret after creation).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0c9-5555-7cc0-9d2a-0c1b2a3d4e5f", "url": "https://hooks.example/vendor-registry",
    "event_types": ["grant.revoked", "party.suspended"], "owner": "alice", "owner_role": "procurement",
    "active": true, "created_at": "2026-12-03T09:00:00.000000Z", "updated_at": "2026-12-03T09:00:00.000000Z", "version": 1}))]
pub struct Webhook {
    /// The webhook's id (a UUID the service issued).
    pub id: String,
    /// Where events are POSTed: an https URL.
    pub url: String,
    /// The events it receives.
    pub event_types: Vec<EventType>,
    /// Who registered it; a service's webhook receives only its own grants' events.
    pub owner: String,
    /// The role it was registered with, which bounds what it receives.
    pub owner_role: String,
    /// False once deleted: nothing more is sent.
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Increases with every change (its deletion).
    pub version: i64,
    /// Only in the answer that created it: the signing secret (`whsec_` and base64), shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// One event's delivery to one webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"event_id": "0193a0ca-6666-7cc0-9d2a-0c1b2a3d4e5f", "event_type": "grant.revoked",
    "occurred_at": "2026-12-03T09:00:00.000000Z", "attempts": 3, "delivered_at": "2026-12-03T09:00:31.000000Z",
    "failed_at": null, "next_attempt_at": null, "last_status": 200, "last_error": null}))]
pub struct Delivery {
    /// The event's id, also sent as `webhook-id`: the receiver's de-duplication key.
    pub event_id: String,
    pub event_type: EventType,
    /// When what it tells happened (the ledger entry's instant, or when the reminder was raised).
    pub occurred_at: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When a 2xx answer was received.
    pub delivered_at: Option<String>,
    /// When it was given up, after the last attempt.
    pub failed_at: Option<String>,
    /// When the next attempt is due (null once delivered or given up).
    pub next_attempt_at: Option<String>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last failed attempt failed (kept after a later success).
    pub last_error: Option<String>,
}
