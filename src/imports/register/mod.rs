//! The register imported from a spreadsheet: one row per grant or agreement with its party's
//! columns, as `/v1/exports/register.csv` writes it. Each row is matched (a party by `party_id` or
//! `external_ref`, a grant by `grant_id` or by being the same scope), then created, updated,
//! amended or left unchanged through the registry's own commands — so an import follows the
//! rules a person does (four eyes, approvals, material changes) and every change is in the
//! ledger. Rows are parsed at the edge; this judges and applies them.

pub mod agreements;
pub mod diff;

pub use agreements::agreement_fields;

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{DomainError, Expected, FieldError};
use crate::registry::grants::{self, Amendment};
use crate::registry::parties::{self, Changes};
use crate::types::text_enum;

/// The largest register import accepted.
pub const REGISTER_LIMIT: usize = 64 * 1024 * 1024;

/// The most rows one import takes.
pub const MAX_ROWS: usize = 200_000;

/// A row as read from the file, before it is matched.
#[derive(Debug, Clone, Default)]
pub struct RowInput {
    /// Its line in the file (the header is line 1), or its index + 1 in a JSON array.
    pub row: usize,
    pub party_id: Option<String>,
    pub external_ref: Option<String>,
    /// The party columns of the row.
    pub party: Changes,
    pub grant_id: Option<String>,
    /// The grant columns, when the row has any.
    pub grant: Option<grants::Draft>,
    pub agreement_id: Option<String>,
    /// The agreement columns, when the row has any.
    pub agreement: Option<crate::registry::agreements::Draft>,
    /// What was wrong with the row's cells already.
    pub errors: Vec<RowError>,
}

/// One thing wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub row: usize,
    /// The column concerned; empty for the row as a whole.
    pub column: String,
    /// What is wrong with the value.
    pub message: String,
}

impl RowError {
    /// The errors of a row from a domain error, each field named by its column.
    pub fn from_domain(row: usize, e: &DomainError) -> Option<Vec<RowError>> {
        let one = |message: String| {
            Some(vec![RowError {
                row,
                column: String::new(),
                message,
            }])
        };
        match e {
            DomainError::Invalid(fields) => Some(
                fields
                    .iter()
                    .map(|f| RowError::field(row, &f.field, &f.message))
                    .collect(),
            ),
            DomainError::Conflict(m) | DomainError::NotPermitted(m) => one(m.clone()),
            DomainError::NotFound => one("not found".into()),
            DomainError::VersionMismatch { .. } => {
                one("changed by someone else during the import".into())
            }
            _ => None,
        }
    }

    /// An error on the column behind body field `field` (`agreements[0]` is `grant_agreements`).
    pub fn field(row: usize, field: &str, message: &str) -> RowError {
        let name = field.split(['[', '.']).next().unwrap_or(field);
        let column = match name {
            "agreements" => "grant_agreements",
            "exemptions" => "grant_exemptions",
            other => other,
        };
        RowError {
            row,
            column: column.to_owned(),
            message: message.to_owned(),
        }
    }
}

text_enum! {
    /// What the import did, or would do, with a row's party or grant.
    pub enum RowOutcome {
        Created = "created",
        Updated = "updated",
        /// A grant whose row differs: amended as a new grant that waits for approval.
        Amended = "amended",
        Unchanged = "unchanged",
    }
}

text_enum! {
    /// How rows with errors are taken.
    pub enum ImportMode {
        /// Any row rejected and nothing is written (the default).
        AllOrNothing = "all_or_nothing",
        /// Each row on its own: rejected rows are reported, the others written.
        RowByRow = "row_by_row",
    }
}

/// One row's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowResult {
    /// The row's line number in the file (the header is line 1).
    pub row: usize,
    /// The party the row created, changed or matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<RowOutcome>,
    /// The grant the row created, changed or matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<RowOutcome>,
    /// The agreement the row recorded, changed or matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<RowOutcome>,
    /// Empty unless the row was rejected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowError>,
}

/// How many of each outcome.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Counts {
    /// Rows that created an object.
    pub created: usize,
    /// Rows that changed one.
    pub updated: usize,
    /// Grant rows that asked for an amendment (a new version awaiting approval).
    pub amended: usize,
    /// Rows that matched what is registered: nothing written.
    pub unchanged: usize,
}

impl Counts {
    fn add(&mut self, o: Option<RowOutcome>) {
        match o {
            Some(RowOutcome::Created) => self.created += 1,
            Some(RowOutcome::Updated) => self.updated += 1,
            Some(RowOutcome::Amended) => self.amended += 1,
            Some(RowOutcome::Unchanged) => self.unchanged += 1,
            None => {}
        }
    }
}

/// What a register import did, or would do.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": true, "mode": "all_or_nothing", "applied": false, "rows": 2,
    "parties": {"created": 1, "updated": 0, "amended": 0, "unchanged": 0},
    "grants": {"created": 1, "updated": 0, "amended": 0, "unchanged": 0}, "rejected": 1,
    "results": [{"row": 2, "party": "created", "party_id": "0193a0c4-7b1e-7cc0-9d2a-0c1b2a3d4e5f", "grant": "created", "grant_id": "0193a0c5-1111-7cc0-9d2a-0c1b2a3d4e5f"},
        {"row": 3, "errors": [{"row": 3, "column": "country", "message": "must be an ISO 3166-1 alpha-2 code"}]}]}))]
pub struct RegisterImportReport {
    /// True when nothing was written: the report is what an import would do.
    pub dry_run: bool,
    pub mode: ImportMode,
    /// Whether anything was written: false on a dry run, and in `all_or_nothing` when a row
    /// was rejected.
    pub applied: bool,
    /// Data rows read.
    pub rows: usize,
    pub parties: Counts,
    pub grants: Counts,
    pub agreements: Counts,
    /// Rows refused, each with its errors in `results`.
    pub rejected: usize,
    /// One entry per row, in file order.
    pub results: Vec<RowResult>,
}

impl RegisterImportReport {
    /// Every row error, in row order.
    pub fn errors(&self) -> Vec<FieldError> {
        self.results
            .iter()
            .flat_map(|r| &r.errors)
            .map(|e| {
                let at = if e.column.is_empty() {
                    format!("row {}", e.row)
                } else {
                    format!("row {}: {}", e.row, e.column)
                };
                FieldError::new(at, e.message.clone())
            })
            .collect()
    }
}

/// Applies `rows` as `actor`, in the caller's transaction, each row in a savepoint of its own;
/// everything is undone on a dry run, and in `all_or_nothing` when any row is rejected.
/// `progress(done, total)` is called after each row. A storage failure fails the whole import.
pub fn import_register(
    conn: &mut DbConn,
    actor: &Principal,
    rows: Vec<RowInput>,
    mode: ImportMode,
    dry_run: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<RegisterImportReport, DomainError> {
    let total = rows.len();
    let mut report = RegisterImportReport {
        dry_run,
        mode,
        applied: false,
        rows: total,
        parties: Counts::default(),
        grants: Counts::default(),
        agreements: Counts::default(),
        rejected: 0,
        results: Vec::with_capacity(total),
    };
    let (results, applied) = crate::db::savepoint_then(conn, |conn| {
        let mut results = Vec::with_capacity(total);
        for (i, row) in rows.into_iter().enumerate() {
            results.push(one_row(conn, actor, row)?);
            progress(i + 1, total);
        }
        let rejected = results.iter().any(|r: &RowResult| !r.errors.is_empty());
        let keep = !dry_run && (mode == ImportMode::RowByRow || !rejected);
        Ok::<_, DomainError>(((results, keep), keep))
    })?;
    report.applied = applied;
    for r in &results {
        if r.errors.is_empty() {
            report.parties.add(r.party);
            report.grants.add(r.grant);
            report.agreements.add(r.agreement);
        } else {
            report.rejected += 1;
        }
    }
    report.results = results;
    Ok(report)
}

/// One row in a savepoint: kept when it applies, undone when a rule refuses it.
fn one_row(conn: &mut DbConn, actor: &Principal, row: RowInput) -> Result<RowResult, DomainError> {
    let line = row.row;
    let rejected = |errors| RowResult {
        row: line,
        party_id: None,
        party: None,
        grant_id: None,
        grant: None,
        agreement_id: None,
        agreement: None,
        errors,
    };
    if !row.errors.is_empty() {
        return Ok(rejected(row.errors));
    }
    match crate::db::savepoint(conn, |conn| apply_row(conn, actor, row)) {
        Ok(result) => Ok(result),
        Err(e) => match RowError::from_domain(line, &e) {
            Some(errors) => Ok(rejected(errors)),
            None => Err(e),
        },
    }
}

fn apply_row(
    conn: &mut DbConn,
    actor: &Principal,
    row: RowInput,
) -> Result<RowResult, DomainError> {
    let existing = match (&row.party_id, &row.external_ref) {
        (Some(id), _) => Some(
            parties::store::find(conn, id)?
                .ok_or_else(|| DomainError::field("party_id", "no such party"))?,
        ),
        (None, Some(r)) => parties::store::find_by_external_ref(conn, r)?,
        (None, None) => {
            return Err(DomainError::field(
                "external_ref",
                "is needed to make the import idempotent (or the party_id of a registered party)",
            ));
        }
    };
    let (party, party_outcome) = match existing {
        None => {
            let mut changes = row.party;
            changes.external_ref = Some(row.external_ref.clone());
            let draft = diff::into_draft(changes)?;
            let p = parties::commands::create(conn, actor, draft)?;
            (p, RowOutcome::Created)
        }
        Some(p) => match diff::without_same(row.party, &p) {
            None => (p, RowOutcome::Unchanged),
            Some(changes) => {
                let expected = Expected(Some(vec![p.version]));
                let p = parties::commands::update(conn, actor, &p.id, &expected, || Ok(changes))?;
                (p, RowOutcome::Updated)
            }
        },
    };
    let mut result = RowResult {
        row: row.row,
        party_id: Some(party.id.clone()),
        party: Some(party_outcome),
        grant_id: None,
        grant: None,
        agreement_id: None,
        agreement: None,
        errors: Vec::new(),
    };
    if let Some(d) = row.agreement {
        let (id, outcome) = agreements::apply(conn, actor, &party, row.agreement_id.as_deref(), d)?;
        result.agreement_id = Some(id);
        result.agreement = Some(outcome);
    }
    let Some(draft) = row.grant else {
        return Ok(result);
    };
    let draft = agreements::resolve(conn, &party.id, draft)?;
    let (id, outcome) = match row.grant_id {
        Some(gid) => {
            let g = grants::store::find(conn, &gid)?
                .filter(|g| g.party_id == party.id)
                .ok_or_else(|| DomainError::field("grant_id", "is not a grant of this party"))?;
            let differences = diff::grant_differences(&g, &draft);
            if differences.is_empty() {
                (g.id, RowOutcome::Unchanged)
            } else if differences.contains(&"service") {
                return Err(DomainError::field(
                    "service",
                    "a grant's service never changes: leave grant_id empty to grant anew",
                ));
            } else {
                let expected = Expected(Some(vec![g.version]));
                let amended = grants::commands::amend(conn, actor, &g.id, &expected, || {
                    Ok(amendment(draft))
                })?;
                (amended.id, RowOutcome::Amended)
            }
        }
        None => {
            let same = grants::store::of_party(conn, &party.id, Some(&draft.service), None, None)?
                .into_iter()
                .find(|g| {
                    g.status == grants::GrantStatus::Active
                        && diff::grant_differences(g, &draft).is_empty()
                });
            match same {
                Some(g) => (g.id, RowOutcome::Unchanged),
                None => {
                    let g = grants::commands::create(conn, actor, &party.id, || Ok(draft))?;
                    (g.id, RowOutcome::Created)
                }
            }
        }
    };
    result.grant_id = Some(id);
    result.grant = Some(outcome);
    Ok(result)
}

/// A row's grant columns as an amendment: every field as the row has it.
fn amendment(d: grants::Draft) -> Amendment {
    Amendment {
        categories: Some(d.categories),
        allowed_regions: Some(d.allowed_regions),
        legal_basis: Some(d.legal_basis),
        valid_from: d.valid_from,
        valid_until: Some(d.valid_until),
        agreements: Some(d.agreements),
        exemptions: Some(d.exemptions),
        pipia_reference: Some(d.pipia_reference),
        separate_consent: Some(d.separate_consent),
    }
}
