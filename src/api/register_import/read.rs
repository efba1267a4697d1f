//! A register file read into rows: each cell judged by the same request types as the API's own
//! bodies, so an import says what `POST /v1/parties` or a grant would say.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::api::agreements::NewAgreement;
use crate::api::extract::parse_value;
use crate::api::grants::NewGrant;
use crate::api::parties::PartyPatch;
use crate::error::{DomainError, FieldError};
use crate::imports::register::{MAX_ROWS, RowError, RowInput};

/// How a party cell becomes a body field.
#[derive(Clone, Copy)]
enum Cell {
    /// A text; empty leaves the field as it is.
    Text,
    /// A text; empty clears it.
    Nullable,
    /// `;`-separated; empty leaves it as it is.
    List,
    /// `true` or `false`; empty leaves it as it is.
    Bool,
    /// `COUNTRY:PERCENT` items, `;`-separated (`CN:30;US:10`); empty leaves it as it is.
    Ownership,
}

/// The party columns an import writes, with how each is read.
const PARTY: &[(&str, Cell)] = &[
    ("kind", Cell::Text),
    ("legal_name", Cell::Text),
    ("country", Cell::Text),
    ("data_locations", Cell::List),
    ("privacy_policy_url", Cell::Text),
    ("contact_email", Cell::Text),
    ("contract_reference", Cell::Nullable),
    ("risk_tier", Cell::Text),
    ("next_review_due", Cell::Nullable),
    ("external_ref", Cell::Nullable),
    ("principal_place_of_business", Cell::Text),
    ("us_dsp_covered", Cell::Bool),
    ("pipl_restricted", Cell::Bool),
    ("dpf_certified_until", Cell::Nullable),
    ("ownership", Cell::Ownership),
];

/// The grant columns an import writes: (column, body field, how it is read).
const GRANT: &[(&str, &str, Cell)] = &[
    ("service", "service", Cell::Text),
    ("categories", "categories", Cell::List),
    ("allowed_regions", "allowed_regions", Cell::List),
    ("legal_basis", "legal_basis", Cell::Text),
    ("valid_from", "valid_from", Cell::Text),
    ("valid_until", "valid_until", Cell::Text),
    ("grant_agreements", "agreements", Cell::List),
    ("grant_exemptions", "exemptions", Cell::List),
    ("pipia_reference", "pipia_reference", Cell::Text),
    ("separate_consent", "separate_consent", Cell::Bool),
];

/// The agreement columns: (column, body field, how it is read). A row with any of them records
/// (or matches) an agreement of its party.
const AGREEMENT: &[(&str, &str, Cell)] = &[
    ("agreement_exporter", "exporter", Cell::Text),
    ("agreement_kind", "kind", Cell::Text),
    ("agreement_reference", "reference", Cell::Text),
    ("agreement_signed_on", "signed_on", Cell::Text),
    ("agreement_valid_from", "valid_from", Cell::Text),
    ("agreement_valid_until", "valid_until", Cell::Text),
    ("agreement_filing_reference", "filing_reference", Cell::Text),
    ("agreement_pipia_reference", "pipia_reference", Cell::Text),
    ("agreement_tia_reference", "tia_reference", Cell::Text),
    ("agreement_document_sha256", "document_sha256", Cell::Text),
];

/// Columns `/v1/exports/register.csv` writes that the server owns: read back, ignored.
const READ_ONLY: &[&str] = &[
    "region",
    "status",
    "status_reason",
    "party_version",
    "transfer_mechanism",
    "grant_status",
    "effective",
    "revoked_reason",
    "status_changed_by",
    "status_changed_at",
    "grant_requested_by",
    "grant_approved_by",
    "grant_approved_at",
    "agreement_status",
];

/// The keys of a row.
const KEYS: &[&str] = &["party_id", "grant_id", "agreement_id"];

fn known(column: &str) -> bool {
    KEYS.contains(&column)
        || READ_ONLY.contains(&column)
        || PARTY.iter().any(|(c, _)| *c == column)
        || GRANT.iter().any(|(c, _, _)| *c == column)
        || AGREEMENT.iter().any(|(c, _, _)| *c == column)
}

const OWNERSHIP: &str = "must be COUNTRY:PERCENT items separated by ; (e.g. CN:30;US:10)";

/// A cell as a body value: `None` leaves the field out.
fn value(cell: &str, how: Cell) -> Result<Option<Value>, &'static str> {
    let cell = cell.trim();
    // The export guards a cell that a spreadsheet would run as a formula with a leading `'`.
    let cell = match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    };
    Ok(match (how, cell.is_empty()) {
        (Cell::Nullable, true) => Some(Value::Null),
        (_, true) => None,
        (Cell::Text | Cell::Nullable, false) => Some(Value::String(cell.to_owned())),
        (Cell::List, false) => Some(Value::Array(
            cell.split(';')
                .map(|s| Value::String(s.trim().to_owned()))
                .collect(),
        )),
        (Cell::Bool, false) => match cell {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => return Err("must be true or false"),
        },
        (Cell::Ownership, false) => Some(Value::Array(
            cell.split(';')
                .map(|item| {
                    let (country, percent) = item.trim().split_once(':').ok_or(OWNERSHIP)?;
                    let percent: u32 = percent.trim().parse().map_err(|_| OWNERSHIP)?;
                    Ok(serde_json::json!({"country": country.trim(), "percent": percent}))
                })
                .collect::<Result<Vec<Value>, &'static str>>()?,
        )),
    })
}

/// One row from its cells (`get` answers `None` for a column the file does not have).
fn row_input<'a>(row: usize, get: impl Fn(&str) -> Option<&'a str>) -> RowInput {
    let mut errors = Vec::new();
    let key = |c: &str| {
        get(c)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut body = |columns: &mut dyn Iterator<Item = (&str, &str, Cell)>| {
        let mut map = Map::new();
        for (column, field, how) in columns {
            let Some(cell) = get(column) else { continue };
            match value(cell, how) {
                Ok(Some(v)) => {
                    map.insert(field.to_owned(), v);
                }
                Ok(None) => {}
                Err(m) => errors.push(RowError::field(row, column, m)),
            }
        }
        Value::Object(map)
    };
    let party = body(&mut PARTY.iter().map(|(c, how)| (*c, *c, *how)));
    let grant = body(&mut GRANT.iter().copied());
    let agreement = body(&mut AGREEMENT.iter().copied());
    let mut input = RowInput {
        row,
        party_id: key("party_id"),
        external_ref: key("external_ref"),
        grant_id: key("grant_id"),
        agreement_id: key("agreement_id"),
        ..RowInput::default()
    };
    let judged = |e: DomainError, errors: &mut Vec<RowError>| {
        errors.extend(RowError::from_domain(row, &e).unwrap_or_default());
    };
    match parse_value::<PartyPatch>(&party).and_then(PartyPatch::into_changes) {
        Ok(c) => input.party = c,
        Err(e) => judged(e, &mut errors),
    }
    if grant.as_object().is_some_and(|m| !m.is_empty()) {
        match parse_value::<NewGrant>(&grant).and_then(NewGrant::into_draft) {
            Ok(d) => input.grant = Some(d),
            Err(e) => judged(e, &mut errors),
        }
    }
    if agreement.as_object().is_some_and(|m| !m.is_empty()) {
        match parse_value::<NewAgreement>(&agreement).and_then(NewAgreement::into_draft) {
            Ok(d) => input.agreement = Some(d),
            Err(e) => errors.extend(
                RowError::from_domain(row, &crate::imports::register::agreement_fields(e))
                    .unwrap_or_default(),
            ),
        }
    }
    input.errors = errors;
    input
}

fn check_header(columns: &[String]) -> Result<(), DomainError> {
    let mut errors: Vec<FieldError> = columns
        .iter()
        .filter(|c| !known(c))
        .map(|c| FieldError::new(c.clone(), "is not a column of the register import"))
        .collect();
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            errors.push(FieldError::new(c.clone(), "appears twice in the header"));
        }
    }
    if !columns
        .iter()
        .any(|c| c == "external_ref" || c == "party_id")
    {
        errors.push(FieldError::new(
            "header",
            "needs an external_ref or a party_id column: each row names its party",
        ));
    }
    crate::error::collect(errors)
}

fn too_many() -> DomainError {
    DomainError::field("body", format!("has more than {MAX_ROWS} rows"))
}

/// The rows of a CSV file (a header line, then one row per grant; a UTF-8 byte-order mark is
/// skipped) or of a JSON array of objects keyed by the same columns.
pub fn read_rows(bytes: &[u8], csv: bool) -> Result<Vec<RowInput>, DomainError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if !csv {
        return read_json(bytes);
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| DomainError::field("header", "is not a CSV header line"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    check_header(&header)?;
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut rows = Vec::new();
    // The line a record starts on, from its byte offset: the reader's own line count is off by
    // one for CRLF files, which spreadsheets write.
    let (mut seen, mut newlines) = (0usize, 0usize);
    let mut line_at = |offset: usize| {
        // After a CR the record starts at the LF that ends the line before.
        let offset = offset.min(bytes.len()) + usize::from(bytes.get(offset) == Some(&b'\n'));
        if offset > seen {
            newlines += bytes[seen..offset].iter().filter(|b| **b == b'\n').count();
            seen = offset;
        }
        newlines + 1
    };
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| line_at(p.byte() as usize));
            DomainError::field(
                format!("row {line}"),
                "is not a CSV record with as many fields as the header",
            )
        })?;
        if rows.len() == MAX_ROWS {
            return Err(too_many());
        }
        let line = record
            .position()
            .map_or(rows.len() + 2, |p| line_at(p.byte() as usize));
        rows.push(row_input(line, |c| {
            index.get(c).and_then(|i| record.get(*i))
        }));
    }
    Ok(rows)
}

fn read_json(bytes: &[u8]) -> Result<Vec<RowInput>, DomainError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|_| DomainError::field("body", "is not well-formed JSON"))?;
    let items = doc
        .as_array()
        .ok_or_else(|| DomainError::field("body", "must be a JSON array of rows"))?;
    if items.len() > MAX_ROWS {
        return Err(too_many());
    }
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(DomainError::field(
                format!("row {}", i + 1),
                "must be an object",
            ));
        };
        let cells: HashMap<&str, String> = obj
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(";"),
                    other => other.to_string(),
                };
                (k.as_str(), text)
            })
            .collect();
        for k in obj.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        rows.push(row_input(i + 1, |c| cells.get(c).map(String::as_str)));
    }
    if !rows.is_empty() {
        check_header(&columns)?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_by_their_line_whatever_the_line_ends() {
        for text in [
            "external_ref,legal_name\na,A\nb,B\n",
            "external_ref,legal_name\r\na,A\r\nb,B\r\n",
            "\u{FEFF}external_ref,legal_name\r\na,\"A\r\nstill A\"\r\nb,B\r\n",
        ] {
            let rows = read_rows(text.as_bytes(), true).unwrap();
            let lines: Vec<usize> = rows.iter().map(|r| r.row).collect();
            let expected = if text.contains("still") {
                vec![2, 4]
            } else {
                vec![2, 3]
            };
            assert_eq!(lines, expected, "{text:?}");
        }
    }

    #[test]
    fn a_formula_guard_of_the_export_is_read_back_as_the_value() {
        assert_eq!(
            value("'-Acme", Cell::Text).unwrap(),
            Some(Value::String("-Acme".into()))
        );
        assert_eq!(
            value("'plain", Cell::Text).unwrap(),
            Some(Value::String("'plain".into()))
        );
        assert_eq!(value("", Cell::Nullable).unwrap(), Some(Value::Null));
        assert_eq!(value(" ", Cell::Text).unwrap(), None);
        assert!(value("yes", Cell::Bool).is_err());
    }
}
