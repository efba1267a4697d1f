//! What a denial's reasons say beyond their code: the evidence in the register behind each one
//! (which grant, its window or regions, the party's status and locations, the service's
//! purposes, the categories that are granted) and a remedy naming who can fix it and how.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::engine::Request;
use super::reasons::{Reason, ReasonCode};
use super::snapshot::{GrantEntry, Snapshot};
use crate::registry::parties::PartyStatus;
use crate::types::Region;

/// The register's facts behind a failed check. Members in RFC 8785 order, like [`Reason`]'s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// The grant's allowed regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_regions: Option<Vec<Region>>,
    /// The region of the destination country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_region: Option<Region>,
    /// The grant concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// The categories granted to the party for this service (for `category_too_broad`, the
    /// narrower ones under the category asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_categories: Option<Vec<String>>,
    /// Where the party declares it processes data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_locations: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_status: Option<PartyStatus>,
    /// The purposes the service is declared for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_purposes: Option<Vec<String>>,
    /// The grant's window (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// The grant's or agreement's end (exclusive); null when open-ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

crate::types::text_enum! {
    /// Who can fix a failed check.
    pub enum Fixer {
        /// Procurement: parties, grants, agreements.
        Procurement = "procurement",
        /// An admin: services, entities.
        Admin = "admin",
        /// The requesting service: what it asks for.
        Service = "service",
        /// Nobody: the policy or the law forbids it.
        Nobody = "nobody",
    }
}

/// Who can fix a failed check, and how. Members in RFC 8785 order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Remedy {
    /// What to do, naming the operation that does it.
    pub action: String,
    pub by: Fixer,
}

fn remedy(code: ReasonCode) -> (Fixer, &'static str) {
    use Fixer::*;
    use ReasonCode::*;
    match code {
        ServiceUnknown => (Admin, "Register the service (POST /v1/services)."),
        ServiceInactive => (
            Admin,
            "Reactivate the service (PATCH /v1/services/{key}, active: true).",
        ),
        PurposeNotDeclared => (
            Admin,
            "Declare a purpose covering this one for the service (PATCH /v1/services/{key}, purposes).",
        ),
        PurposeProhibited => (
            Nobody,
            "The privacy policy prohibits this purpose (data is never sold or rented): no grant allows it.",
        ),
        PartyUnknown => (
            Procurement,
            "Register the party (POST /v1/parties), or ask with the id of a registered one.",
        ),
        PartyNotTrusted => (
            Procurement,
            "Once its review is done, a second person (not its registrant, nor who suspended it) marks the party trusted (POST /v1/parties/{id}/status).",
        ),
        DestinationNotDeclared => (
            Procurement,
            "If the party processes data there, add the country to its data_locations (PATCH /v1/parties/{id}).",
        ),
        DestinationRegionNotAllowed => (
            Procurement,
            "Amend the grant to allow the destination's region (POST /v1/grants/{id}/amend, allowed_regions); a second person approves the amendment.",
        ),
        GrantNotYetValid => (
            Procurement,
            "Wait until the grant's valid_from, or amend it to start sooner (POST /v1/grants/{id}/amend, valid_from); a second person approves the amendment.",
        ),
        GrantExpired => (
            Procurement,
            "Renew the grant (POST /v1/grants/{id}/amend, valid_until); it takes over once a second person approves it.",
        ),
        GrantNotApproved => (
            Procurement,
            "A second person, not the one who asked for the scope, approves the grant (POST /v1/grants/{id}/approve, evidence.grant_id).",
        ),
        GrantRevoked => (
            Procurement,
            "A revoked grant stays revoked: grant the category anew (POST /v1/parties/{id}/grants).",
        ),
        CategoryTooBroad => (
            Service,
            "Ask for the narrower categories that are granted (evidence.granted_categories), or have procurement grant this one.",
        ),
        SubProcessorNotTrusted => (
            Procurement,
            "Review and trust the sub-processor (POST /v1/parties/{id}/status, the party in via), or have the party stop passing the category on and remove it (PUT /v1/parties/{id}/sub-processors).",
        ),
        SubProcessorNotAuthorised => (
            Procurement,
            "Once the change notice's objection deadline has passed without objection, authorise the sub-processor (PUT /v1/parties/{id}/sub-processors, authorised_on).",
        ),
        CategoryNotGranted => (
            Procurement,
            "Grant the category to the party for this service (POST /v1/parties/{id}/grants).",
        ),
        RecipientRestricted => (
            Nobody,
            "The party is on the CAC's restricted or prohibited list (PIPL Art. 42): no grant or agreement allows the transfer.",
        ),
        ExporterNotDeclared => (
            Service,
            "Name the exporter in the request (one of the service's entities); an admin adds an entity to the service (PATCH /v1/services/{key}).",
        ),
        ExemptionNotGranted => (
            Procurement,
            "List the exemption on the grant (PATCH /v1/grants/{id}, exemptions), or do not claim it.",
        ),
        PiplPrerequisiteMissing => (
            Procurement,
            "Amend the grant with its pipia_reference and separate_consent (POST /v1/grants/{id}/amend); a second person approves the amendment.",
        ),
        UsDspProhibited => (
            Nobody,
            "Bulk human genomic data to a covered person is prohibited (28 CFR 202.303).",
        ),
        TransferMechanismMissing
        | TransferMechanismInsufficient
        | TransferMechanismIncomplete
        | TransferMechanismNotYetValid
        | TransferMechanismExpired
        | TransferMechanismWithdrawn => (
            Procurement,
            "Record the agreement the message names (POST /v1/parties/{id}/agreements), complete or renew it, and list it on the grant (PATCH /v1/grants/{id}, agreements).",
        ),
    }
}

fn instant(micros: i64) -> Option<String> {
    let t: DateTime<Utc> = Utc.timestamp_micros(micros).single()?;
    Some(crate::time::format(t))
}

fn regions(g: &GrantEntry) -> Vec<Region> {
    [Region::Prc, Region::Us, Region::Other]
        .into_iter()
        .filter(|r| g.allows(*r))
        .collect()
}

fn window(g: &GrantEntry) -> Evidence {
    Evidence {
        grant_id: Some(g.id.clone()),
        valid_from: instant(g.valid_from),
        valid_until: g.valid_until.and_then(instant),
        ..Evidence::default()
    }
}

/// The evidence behind `reason`, read from the snapshot that decided.
fn evidence(snap: &Snapshot, req: &Request, reason: &Reason, now: i64) -> Option<Evidence> {
    use ReasonCode::*;
    let service = snap.services.get(&req.service);
    let party = snap.parties.get(&req.party_id);
    let grants: &[GrantEntry] = match (service, party) {
        (Some(s), Some(p)) => p.grants_for(s.id),
        _ => &[],
    };
    // A reason about a hop of the route speaks of the sub-processor.
    let recipient = match &reason.via {
        Some(via) => snap.parties.get(via),
        None => party,
    };
    let category = reason.category.as_deref().and_then(|c| snap.id(c));
    let covering = |g: &&GrantEntry| {
        category.is_some_and(|c| {
            let ancestors = &snap.interned(c).ancestors;
            g.category_ids.iter().any(|k| ancestors.contains(k))
        })
    };
    let live = |g: &&GrantEntry| {
        !g.revoked && g.approved && g.valid_from <= now && g.valid_until.is_none_or(|u| now < u)
    };
    let granted = |keep: &dyn Fn(u32) -> bool| -> Vec<String> {
        let mut keys: Vec<String> = grants
            .iter()
            .filter(live)
            .flat_map(|g| g.category_ids.iter().copied())
            .filter(|k| keep(*k))
            .map(|k| snap.key(k).to_owned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    };
    Some(match reason.code {
        PurposeNotDeclared | ServiceInactive => Evidence {
            service_purposes: Some(service?.purposes.clone()),
            ..Evidence::default()
        },
        PartyNotTrusted | SubProcessorNotTrusted => Evidence {
            party_status: recipient?.status,
            ..Evidence::default()
        },
        DestinationNotDeclared => Evidence {
            party_locations: Some(recipient?.data_locations.clone()),
            ..Evidence::default()
        },
        DestinationRegionNotAllowed => {
            let g = grants.iter().filter(covering).find(live)?;
            Evidence {
                allowed_regions: Some(regions(g)),
                destination_region: Some(Region::of(&req.destination_country)),
                ..window(g)
            }
        }
        GrantNotYetValid => window(
            grants
                .iter()
                .filter(covering)
                .find(|g| !g.revoked && g.approved && now < g.valid_from)?,
        ),
        GrantExpired => window(
            grants
                .iter()
                .filter(covering)
                .find(|g| !g.revoked && g.approved && g.valid_until.is_some_and(|u| now >= u))?,
        ),
        GrantRevoked => window(grants.iter().filter(covering).find(|g| g.revoked)?),
        GrantNotApproved => window(
            grants
                .iter()
                .filter(covering)
                .find(|g| !g.revoked && !g.approved)?,
        ),
        CategoryTooBroad => {
            let c = category?;
            Evidence {
                granted_categories: Some(granted(&|k| snap.interned(k).ancestors.contains(&c))),
                ..Evidence::default()
            }
        }
        CategoryNotGranted => Evidence {
            granted_categories: Some(granted(&|_| true)),
            ..Evidence::default()
        },
        // A transfer reason about a category: the grant it was judged on.
        _ if reason.regime.is_some() => Evidence {
            grant_id: Some(
                grants
                    .iter()
                    .filter(covering)
                    .find(live)
                    .map(|g| g.id.clone())?,
            ),
            ..Evidence::default()
        },
        _ => return None,
    })
}

/// Fills in the evidence and remedy of each reason; `snap` is the snapshot that decided `req`
/// at `now`.
pub fn explain(snap: &Snapshot, req: &Request, now: DateTime<Utc>, reasons: &mut [Reason]) {
    let micros = now.timestamp_micros();
    for r in reasons {
        r.evidence = evidence(snap, req, r, micros);
        let (by, action) = remedy(r.code);
        r.remedy = Some(Remedy {
            action: action.to_owned(),
            by,
        });
    }
}
