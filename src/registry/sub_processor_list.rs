//! The public sub-processor list of a service: what its privacy notice publishes, read from the
//! grants in force for it and the sub-processors of the parties holding them.

use crate::db::DbConn;
use crate::error::DomainError;
use crate::registry::grants::Effective;
use crate::registry::grants::store::{Search, search};
use crate::registry::parties::sub_processors::overlaps;
use crate::registry::parties::{PartyStatus, store};

/// One line of a service's public sub-processor list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"legal_name": "Cloud Mail Ireland Ltd", "party_id": "0193a0c4-8888-7cc0-9d2a-0c1b2a3d4e5f",
    "country": "IE", "countries": ["IE"], "categories": ["user.contact"], "on_behalf_of": "Acme Mail Ltd",
    "authorised_on": "2026-11-01"}))]
pub struct PublishedSubProcessor {
    /// The sub-processor's legal name.
    pub legal_name: String,
    /// Its party id.
    pub party_id: String,
    /// Its country of establishment.
    pub country: Option<String>,
    /// Where it processes the service's data.
    pub countries: Vec<String>,
    /// The categories of the service's data it receives.
    pub categories: Vec<String>,
    /// The legal name of the party that passes the data on to it.
    pub on_behalf_of: String,
    /// Authorised since (`YYYY-MM-DD`).
    pub authorised_on: String,
}

/// The sub-processors a privacy notice of `service` publishes on `today`: those authorised by
/// then and trusted, of every trusted party holding an approved grant in force for the service,
/// that receive a category granted (by legal name, then the party on whose behalf).
pub fn published(
    conn: &mut DbConn,
    service: &str,
    today: chrono::NaiveDate,
) -> Result<Vec<PublishedSubProcessor>, DomainError> {
    if crate::registry::services::store::find(conn, service)?.is_none() {
        return Err(DomainError::NotFound);
    }
    let now = crate::time::format(crate::time::now());
    let filter = Search {
        service: Some(service.to_owned()),
        effective: Some(Effective::Active),
        ..Search::default()
    };
    let grants = search(conn, &filter, &now, None, i64::MAX)?;
    let mut granted: Vec<(String, Vec<String>)> = Vec::new();
    for g in grants {
        match granted.iter_mut().find(|(p, _)| *p == g.party_id) {
            Some((_, cats)) => cats.extend(g.categories.0),
            None => granted.push((g.party_id, g.categories.0)),
        }
    }
    let ids: Vec<String> = granted.iter().map(|(p, _)| p.clone()).collect();
    let mut out = Vec::new();
    for party in store::find_many(conn, &ids)? {
        if party.status != PartyStatus::Trusted {
            continue;
        }
        let cats = &granted
            .iter()
            .find(|(p, _)| *p == party.id)
            .map_or(&[][..], |(_, c)| c);
        for s in party.sub_processors.iter() {
            let Some(on) = s.authorised_on.as_deref() else {
                continue;
            };
            if crate::time::parse_date(on).is_none_or(|d| d > today) {
                continue;
            }
            let received: Vec<String> = s
                .categories
                .iter()
                .filter(|c| {
                    cats.iter()
                        .any(|g| s.receives(service, g) && overlaps(c, g))
                })
                .cloned()
                .collect();
            if received.is_empty() {
                continue;
            }
            let Some(sub) =
                store::find(conn, &s.party_id)?.filter(|p| p.status == PartyStatus::Trusted)
            else {
                continue;
            };
            out.push(PublishedSubProcessor {
                legal_name: sub.legal_name,
                party_id: sub.id,
                country: sub.country.map(|c| c.to_string()),
                countries: s.countries.clone(),
                categories: received,
                on_behalf_of: party.legal_name.clone(),
                authorised_on: on.to_owned(),
            });
        }
    }
    out.sort_by(|a, b| (&a.legal_name, &a.on_behalf_of).cmp(&(&b.legal_name, &b.on_behalf_of)));
    Ok(out)
}
