//! The `incidents` and `incident_duties` tables. An incident's row keeps its JSON without the
//! duties; the duties have rows of their own, so overdue ones are counted by one query.

use std::collections::HashMap;

use diesel::prelude::*;

use super::{Addressee, Duty, DutyRegime, DutyStatus, Incident, IncidentStatus};
use crate::db::DbConn;
use crate::disclosures::Idempotency;
use crate::error::DomainError;
use crate::schema::{incident_duties, incidents};

#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = incidents)]
pub struct Row {
    pub id: String,
    pub party_id: String,
    pub status: IncidentStatus,
    pub body: String,
    pub created_by: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = incident_duties, treat_none_as_null = true)]
struct DutyRow {
    id: String,
    incident_id: String,
    regime: DutyRegime,
    exporter: String,
    addressee: Addressee,
    rule: String,
    due_at: Option<String>,
    status: DutyStatus,
    done_at: Option<String>,
    reference: Option<String>,
    reason: Option<String>,
    created_at: String,
}

impl From<DutyRow> for Duty {
    fn from(r: DutyRow) -> Duty {
        Duty {
            id: r.id,
            regime: r.regime,
            rule: r.rule,
            exporter: Some(r.exporter).filter(|e| !e.is_empty()),
            addressee: r.addressee,
            due_at: r.due_at,
            status: r.status,
            done_at: r.done_at,
            reference: r.reference,
            reason: r.reason,
            created_at: r.created_at,
            overdue: false,
        }
    }
}

fn duty_row(incident_id: &str, d: &Duty) -> DutyRow {
    DutyRow {
        id: d.id.clone(),
        incident_id: incident_id.to_owned(),
        regime: d.regime,
        exporter: d.exporter.clone().unwrap_or_default(),
        addressee: d.addressee,
        rule: d.rule.clone(),
        due_at: d.due_at.clone(),
        status: d.status,
        done_at: d.done_at.clone(),
        reference: d.reference.clone(),
        reason: d.reason.clone(),
        created_at: d.created_at.clone(),
    }
}

fn body(incident: &Incident) -> Result<String, DomainError> {
    let mut bare = incident.clone();
    bare.duties.clear();
    bare.overdue_duties = 0;
    Ok(serde_json::to_string(&bare)?)
}

impl Row {
    pub fn incident(&self) -> Result<Incident, DomainError> {
        Ok(serde_json::from_str(&self.body)?)
    }
}

fn with_duties(conn: &mut DbConn, rows: Vec<Row>) -> Result<Vec<Incident>, DomainError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut by_incident: HashMap<String, Vec<Duty>> = HashMap::new();
    if !ids.is_empty() {
        let duties: Vec<DutyRow> = incident_duties::table
            .filter(incident_duties::incident_id.eq_any(&ids))
            .order(incident_duties::id.asc())
            .select(DutyRow::as_select())
            .load(conn)?;
        for d in duties {
            by_incident
                .entry(d.incident_id.clone())
                .or_default()
                .push(d.into());
        }
    }
    rows.iter()
        .map(|r| {
            let mut i = r.incident()?;
            i.duties = by_incident.remove(&r.id).unwrap_or_default();
            Ok(i)
        })
        .collect()
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Incident>, DomainError> {
    let rows: Vec<Row> = incidents::table
        .filter(incidents::id.eq(id))
        .select(Row::as_select())
        .load(conn)?;
    Ok(with_duties(conn, rows)?.pop())
}

pub fn by_idempotency_key(conn: &mut DbConn, by: &str, key: &str) -> QueryResult<Option<Row>> {
    incidents::table
        .filter(incidents::created_by.eq(by))
        .filter(incidents::idempotency_key.eq(key))
        .select(Row::as_select())
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut DbConn,
    incident: &Incident,
    idempotency: Option<&Idempotency>,
) -> Result<(), DomainError> {
    diesel::insert_into(incidents::table)
        .values(Row {
            id: incident.id.clone(),
            party_id: incident.party_id.clone(),
            status: incident.status,
            body: body(incident)?,
            created_by: incident.created_by.clone(),
            idempotency_key: idempotency.map(|i| i.key.clone()),
            request_hash: idempotency.map(|i| i.request_hash.clone()),
            version: incident.version,
        })
        .execute(conn)?;
    save_duties(conn, incident)
}

/// Saves the incident and every one of its duties (new ones inserted).
pub fn save(conn: &mut DbConn, incident: &Incident) -> Result<(), DomainError> {
    diesel::update(incidents::table.find(&incident.id))
        .set((
            incidents::status.eq(incident.status),
            incidents::body.eq(body(incident)?),
            incidents::version.eq(incident.version),
        ))
        .execute(conn)?;
    save_duties(conn, incident)
}

fn save_duties(conn: &mut DbConn, incident: &Incident) -> Result<(), DomainError> {
    let known: Vec<String> = incident_duties::table
        .filter(incident_duties::incident_id.eq(&incident.id))
        .select(incident_duties::id)
        .load(conn)?;
    for d in &incident.duties {
        let row = duty_row(&incident.id, d);
        if known.contains(&d.id) {
            diesel::update(incident_duties::table.find(&d.id))
                .set(&row)
                .execute(conn)?;
        } else {
            diesel::insert_into(incident_duties::table)
                .values(&row)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Filters of the list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub party_id: Option<String>,
    pub status: Option<IncidentStatus>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<Vec<Incident>, DomainError> {
    let mut q = incidents::table.into_boxed();
    if let Some(a) = after {
        q = q.filter(incidents::id.gt(a.to_owned()));
    }
    if let Some(p) = &filter.party_id {
        q = q.filter(incidents::party_id.eq(p.clone()));
    }
    if let Some(s) = filter.status {
        q = q.filter(incidents::status.eq(s));
    }
    if let Some(l) = limit {
        q = q.limit(l);
    }
    let rows = q
        .order(incidents::id.asc())
        .select(Row::as_select())
        .load(conn)?;
    with_duties(conn, rows)
}

/// The ids of a party's incidents that are not closed, oldest first.
pub fn open_of_party(conn: &mut DbConn, party_id: &str) -> QueryResult<Vec<String>> {
    incidents::table
        .filter(incidents::party_id.eq(party_id))
        .filter(incidents::status.ne(IncidentStatus::Closed))
        .order(incidents::id.asc())
        .select(incidents::id)
        .load(conn)
}

/// How many incidents that are not closed each of `party_ids` has (absent: none).
pub fn open_counts(
    conn: &mut DbConn,
    party_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, usize>> {
    let mut counts = std::collections::HashMap::new();
    for id in incidents::table
        .filter(incidents::party_id.eq_any(party_ids))
        .filter(incidents::status.ne(IncidentStatus::Closed))
        .select(incidents::party_id)
        .load::<String>(conn)?
    {
        *counts.entry(id).or_insert(0) += 1;
    }
    Ok(counts)
}

/// The parties with an incident that is not closed.
pub fn parties_with_open(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    incidents::table
        .filter(incidents::status.ne(IncidentStatus::Closed))
        .select(incidents::party_id)
        .distinct()
        .load(conn)
}

/// Pending duties past their deadline at `now`, on every incident.
pub fn overdue_duties(conn: &mut DbConn, now: &str) -> QueryResult<i64> {
    incident_duties::table
        .filter(incident_duties::status.eq(DutyStatus::Pending))
        .filter(incident_duties::due_at.lt(now.to_owned()))
        .count()
        .get_result(conn)
}
