//! Imports into the register: the IAB TCF Global Vendor List, and the register's own
//! spreadsheet (`register`). Parties and grants are created and changed through the registry's
//! own commands and lifecycle, so an import follows the same rules as a person does.

pub mod gvl;
pub mod register;

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::error::DomainError;
use crate::ledger::{Subject, action};
use crate::registry::lifecycle;
use crate::registry::parties::commands::{insert, record};
use crate::registry::parties::{PartyKind, PartyRow, PartyStatus, RiskTier, store};

/// The largest import accepted.
pub const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"gvl_specification_version": 3, "vendor_list_version": 7, "vendors": 376,
    "created": 376, "updated": 0, "unchanged": 0, "suspended": 0,
    "warnings": [{"vendor_id": 12, "field": "cookieMaxAgeSeconds", "value": "null", "message": "cookie lifetime not declared"}]}))]
pub struct ImportReport {
    /// The list's `gvlSpecificationVersion`.
    pub gvl_specification_version: i64,
    /// The list's `vendorListVersion`.
    pub vendor_list_version: i64,
    /// Vendors read from the list.
    pub vendors: usize,
    /// Parties registered (`pending_review`, `external_ref` `gvl:<id>`).
    pub created: usize,
    /// Parties whose imported fields changed.
    pub updated: usize,
    /// Parties already as the list says.
    pub unchanged: usize,
    /// Trusted parties suspended because the list withdrew them (`deletedDate`).
    pub suspended: usize,
    /// One per defect found in the list.
    pub warnings: Vec<gvl::Warning>,
    /// Nothing was written: what the import would do (`dry_run`).
    #[serde(default)]
    pub dry_run: bool,
    /// Each vendor created or changed (or that would be), with its fields before and after.
    #[serde(default)]
    pub changes: Vec<VendorChange>,
}

/// What an import did, or would do, to one vendor's party.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VendorChange {
    /// The vendor's id in the Global Vendor List.
    pub vendor_id: i64,
    /// The party it is imported as.
    pub party_id: String,
    /// `created` or `updated`.
    pub outcome: String,
    /// For an update: each field that changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// One field of a party, before and after an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldChange {
    /// The party's field.
    pub field: String,
    /// Its value before the import.
    pub before: Value,
    /// Its value after (or that a dry run would write).
    pub after: Value,
}

/// The imported fields in which `row` differs from `old`.
fn differences(old: &PartyRow, row: &PartyRow) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &str, before: Value, after: Value| {
        if before != after {
            out.push(FieldChange {
                field: name.to_owned(),
                before,
                after,
            });
        }
    };
    field(
        "legal_name",
        old.legal_name.clone().into(),
        row.legal_name.clone().into(),
    );
    field(
        "privacy_policy_url",
        old.privacy_policy_url.clone().into(),
        row.privacy_policy_url.clone().into(),
    );
    field(
        "declared_purposes",
        serde_json::json!(old.declared_purposes.0),
        serde_json::json!(row.declared_purposes.0),
    );
    field(
        "declared_categories",
        serde_json::json!(old.declared_categories.0),
        serde_json::json!(row.declared_categories.0),
    );
    field(
        "deleted_upstream",
        old.deleted_upstream.into(),
        row.deleted_upstream.into(),
    );
    field(
        "status",
        old.status.as_str().into(),
        row.status.as_str().into(),
    );
    out
}

/// Reads `doc` against the taxonomy held in storage.
pub fn read_gvl(conn: &mut DbConn, doc: &Value) -> Result<gvl::List, DomainError> {
    let purposes: HashSet<String> = crate::taxonomy::store::all_purposes(conn)?
        .into_iter()
        .map(|p| p.key)
        .collect();
    let categories: HashSet<String> = crate::taxonomy::store::all_categories(conn)?
        .into_iter()
        .map(|c| c.key)
        .collect();
    gvl::read(doc, &purposes, &categories).map_err(|e| DomainError::field("body", e))
}

/// The list imported last, as its import entry recorded it: (`vendorListVersion`, `lastUpdated`).
/// An import as its ledger entry recorded it: (`vendorListVersion`, `lastUpdated`).
type Imported = (i64, Option<String>);

fn last_import(conn: &mut DbConn) -> Result<Option<Imported>, DomainError> {
    let subject = Subject::VendorList(GVL).to_string();
    let Some(row) = crate::ledger::store::latest_of_subject_action(
        conn,
        &subject,
        action::VENDOR_LIST_IMPORTED,
    )?
    else {
        return Ok(None);
    };
    let change: Value = serde_json::from_str(&row.change)?;
    Ok(change["vendor_list_version"]
        .as_i64()
        .map(|v| (v, change["last_updated"].as_str().map(str::to_owned))))
}

/// Refuses a list older than the last one imported — a lower `vendorListVersion`, or an earlier
/// `lastUpdated` — unless `force`d: an old list would silently undo newer data. Returns the
/// last import (version, `lastUpdated`), if any, and whether the list is older (imported only
/// by force).
pub fn check_not_older(
    conn: &mut DbConn,
    list: &gvl::List,
    force: bool,
) -> Result<(Option<Imported>, bool), DomainError> {
    let Some((last_version, last_updated)) = last_import(conn)? else {
        return Ok((None, false));
    };
    let earlier = match (&list.last_updated, &last_updated) {
        (Some(this), Some(last)) => this < last,
        _ => false,
    };
    let older = list.vendor_list_version < last_version || earlier;
    if older && !force {
        return Err(DomainError::Conflict(format!(
            "This list is older than the last one imported (vendorListVersion {} lastUpdated {}; \
             the last import was version {last_version} lastUpdated {}): importing it would undo \
             newer data. Import it anyway with force=true (--force on the command line).",
            list.vendor_list_version,
            list.last_updated.as_deref().unwrap_or("unknown"),
            last_updated.as_deref().unwrap_or("unknown"),
        )));
    }
    Ok((Some((last_version, last_updated)), older))
}

/// The name of the IAB TCF Global Vendor List among the vendor lists.
const GVL: &str = "gvl";

/// How a GVL import runs: `force` an older list, or only report (`dry_run`: everything is
/// undone, ledger included).
#[derive(Debug, Clone, Copy, Default)]
pub struct GvlOptions {
    pub force: bool,
    pub dry_run: bool,
}

/// Reads `doc`, refuses it when it is older than the last list imported (unless forced),
/// applies it (see [`apply`]) and records the import in the ledger — or, on a dry run, reports
/// what it would do and undoes it: the one command behind the HTTP import and the command
/// line's.
pub fn import_gvl(
    conn: &mut DbConn,
    doc: &Value,
    actor: &Value,
    created_by: &str,
    options: GvlOptions,
    on_read: impl FnOnce(&gvl::List),
    progress: impl FnMut(usize, usize),
) -> Result<ImportReport, DomainError> {
    let mut report = crate::db::savepoint_then(conn, |conn| {
        let report = import_gvl_once(
            conn,
            doc,
            actor,
            created_by,
            options.force,
            on_read,
            progress,
        )?;
        Ok::<_, DomainError>((report, !options.dry_run))
    })?;
    report.dry_run = options.dry_run;
    Ok(report)
}

fn import_gvl_once(
    conn: &mut DbConn,
    doc: &Value,
    actor: &Value,
    created_by: &str,
    force: bool,
    on_read: impl FnOnce(&gvl::List),
    progress: impl FnMut(usize, usize),
) -> Result<ImportReport, DomainError> {
    let list = read_gvl(conn, doc)?;
    let (previous, forced) = check_not_older(conn, &list, force)?;
    on_read(&list);
    let last_updated = list.last_updated.clone();
    let same_list = previous == Some((list.vendor_list_version, last_updated.clone()));
    let previous = previous.map(|(version, _)| version);
    let report = apply(conn, list, actor, created_by, progress)?;
    // Re-importing the list imported last, unchanged, writes nothing at all.
    if same_list && report.created + report.updated + report.suspended == 0 {
        return Ok(report);
    }
    let change = serde_json::json!({
        "vendor_list_version": report.vendor_list_version,
        "gvl_specification_version": report.gvl_specification_version,
        "last_updated": last_updated,
        "previous_version": previous,
        "forced": forced,
        "vendors": report.vendors, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "suspended": report.suspended,
    });
    crate::ledger::append(
        conn,
        actor,
        action::VENDOR_LIST_IMPORTED,
        Subject::VendorList(GVL),
        &change,
        false,
    )?;
    Ok(report)
}

/// Creates or updates one party per vendor, in the caller's transaction, one ledger entry per
/// party changed. `progress(done, total)` is called as it goes.
pub fn apply(
    conn: &mut DbConn,
    list: gvl::List,
    actor: &Value,
    created_by: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, DomainError> {
    let total = list.vendors.len();
    let mut report = ImportReport {
        gvl_specification_version: list.specification_version,
        vendor_list_version: list.vendor_list_version,
        vendors: total,
        created: 0,
        updated: 0,
        unchanged: 0,
        suspended: 0,
        warnings: list.warnings,
        dry_run: false,
        changes: Vec::new(),
    };
    for (i, v) in list.vendors.into_iter().enumerate() {
        let external_ref = format!("gvl:{}", v.id);
        let now = crate::time::format(crate::time::now());
        match store::find_by_external_ref(conn, &external_ref)? {
            None => {
                let row = PartyRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    kind: PartyKind::ThirdParty,
                    legal_name: v.name,
                    country: None,
                    region: None,
                    data_locations: Vec::new().into(),
                    privacy_policy_url: v.privacy_policy_url,
                    contact_email: String::new(),
                    contract_reference: None,
                    risk_tier: RiskTier::Medium,
                    next_review_due: None,
                    status: PartyStatus::PendingReview,
                    status_reason: None,
                    external_ref: Some(external_ref),
                    declared_purposes: v.declared_purposes.into(),
                    declared_categories: v.declared_categories.into(),
                    deleted_upstream: v.deleted_date.is_some(),
                    created_by: created_by.to_owned(),
                    created_at: now.clone(),
                    updated_at: now,
                    version: 1,
                    principal_place_of_business: None,
                    ownership: Vec::new().into(),
                    us_dsp_covered: false,
                    us_dsp_covered_by: None,
                    pipl_restricted: false,
                    pipl_restricted_by: None,
                    dpf_certified_until: None,
                    status_changed_by: None,
                    status_changed_at: None,
                    sub_processors: Vec::new().into(),
                };
                insert(conn, &row)?;
                record(conn, actor, action::PARTY_CREATED, &row)?;
                report.created += 1;
                report.changes.push(VendorChange {
                    vendor_id: v.id,
                    party_id: row.id,
                    outcome: "created".into(),
                    fields: Vec::new(),
                });
            }
            Some(old) => {
                let mut row = old.clone();
                row.legal_name = v.name;
                if !v.privacy_policy_url.is_empty() {
                    row.privacy_policy_url = v.privacy_policy_url;
                }
                row.declared_purposes = v.declared_purposes.into();
                row.declared_categories = v.declared_categories.into();
                if (old.deleted_upstream || v.deleted_date.is_some())
                    && lifecycle::withdraw(&mut row, v.deleted_date.as_deref(), created_by)
                {
                    report.suspended += 1;
                }
                let fields = differences(&old, &row);
                if fields.is_empty() {
                    report.unchanged += 1;
                } else {
                    row.version += 1;
                    row.updated_at = now;
                    store::save(conn, &row)?;
                    record(conn, actor, action::PARTY_UPDATED, &row)?;
                    report.updated += 1;
                    report.changes.push(VendorChange {
                        vendor_id: v.id,
                        party_id: row.id,
                        outcome: "updated".into(),
                        fields,
                    });
                }
            }
        }
        progress(i + 1, total);
    }
    Ok(report)
}
