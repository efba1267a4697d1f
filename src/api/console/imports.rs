//! Importing the register from a spreadsheet: `POST /v1/imports/register` as a form. The file
//! is previewed first — a dry run, row by row, nothing written — and only the preview's button
//! imports the very same text.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::forms::{Shown, csrf, select};
use super::layout::{Section, page};
use super::session::{Posted, Viewer};
use super::{ConsoleError, html as respond};
use crate::api::error::ApiError;
use crate::api::register_import::read_rows;
use crate::api::state::AppState;
use crate::auth::RegisterWrite;
use crate::imports::register::{ImportMode, RegisterImportReport, import_register};

const MODES: &[(&str, &str)] = &[
    (
        "all_or_nothing",
        "All or nothing: any rejected row and nothing is written",
    ),
    (
        "row_by_row",
        "Row by row: write the rows that pass, report the others",
    ),
];

fn upload(v: &Viewer, shown: &Shown) -> Markup {
    html! {
        form method="post" action="/console/imports" novalidate {
            (csrf(&v.csrf))
            (shown.summary())
            div.field {
                label for="f-file" { "The register as CSV" }
                span.hint id="h-file" { "The columns of the register export (GET /v1/exports/register.csv); choose a file, or paste its text below." }
                input #f-file type="file" accept=".csv,text/csv" data-into="f-csv" aria-describedby="h-file";
            }
            div.field {
                label for="f-csv" { "Its text" }
                textarea #f-csv name="csv" rows="8" spellcheck="false" { (shown.fields.value("csv")) }
            }
            (select(shown, "How to import", "mode", MODES))
            button type="submit" name="action" value="preview" { "Preview (writes nothing)" }
        }
    }
}

/// `GET /console/imports`.
pub async fn form(v: Viewer) -> Result<HttpResponse, ConsoleError> {
    v.require::<RegisterWrite>()?;
    let content = upload(&v, &Shown::default());
    Ok(respond(
        StatusCode::OK,
        page(&v, Section::Vendors, "Import the register", content),
    ))
}

fn counts(r: &RegisterImportReport) -> Markup {
    html! {
        table {
            caption { @if r.dry_run { "What the import would do" } @else { "What the import did" } }
            thead { tr { th scope="col" { "" } th scope="col" { "Created" } th scope="col" { "Updated" } th scope="col" { "Amended" } th scope="col" { "Unchanged" } } }
            tbody {
                @for (what, c) in [("Vendors", &r.parties), ("Grants", &r.grants), ("Agreements", &r.agreements)] {
                    tr { th scope="row" { (what) } td { (c.created) } td { (c.updated) } td { (c.amended) } td { (c.unchanged) } }
                }
            }
        }
        p { (r.rows) " rows; " strong { (r.rejected) " rejected" } "." }
    }
}

fn rows(r: &RegisterImportReport) -> Markup {
    let outcome = |o: &Option<crate::imports::register::RowOutcome>| {
        o.as_ref()
            .and_then(|o| serde_json::to_value(o).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    html! {
        table {
            caption { "Row by row" }
            thead { tr { th scope="col" { "Line" } th scope="col" { "Vendor" } th scope="col" { "Grant" } th scope="col" { "Agreement" } th scope="col" { "Errors" } } }
            tbody { @for row in &r.results { tr {
                td { (row.row) }
                td { (outcome(&row.party)) }
                td { (outcome(&row.grant)) }
                td { (outcome(&row.agreement)) }
                td { @for e in &row.errors { span.error { @if !e.column.is_empty() { code { (e.column) } ": " } (e.message) } " " } }
            } } }
        }
    }
}

/// `POST /console/imports`: the preview (`action=preview`, a dry run) or the import itself.
pub async fn import(p: Posted, state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    p.viewer.require::<RegisterWrite>()?;
    let dry_run = p.fields.value("action") != "import";
    let mode = match ImportMode::parse(p.fields.value("mode")) {
        Some(m) => m,
        None => return Err(ApiError::field("mode", "must be all_or_nothing or row_by_row").into()),
    };
    let text = p.fields.value("csv").as_bytes().to_vec();
    let actor = p.viewer.principal.clone();
    let done = async {
        let rows = web::block(move || read_rows(&text, true))
            .await
            .map_err(|_| ApiError::Internal("the import reader stopped".into()))??;
        state
            .write(move |conn| import_register(conn, &actor, rows, mode, dry_run, |_, _| {}))
            .await
    };
    let report = match done.await {
        Ok(r) => r,
        Err(e) => {
            use actix_web::ResponseError;
            let status = e.status_code();
            let content = upload(&p.viewer, &Shown::new(p.fields, e.problem()));
            return Ok(respond(
                status,
                page(&p.viewer, Section::Vendors, "Import the register", content),
            ));
        }
    };
    let refused = !dry_run && report.rejected > 0 && mode == ImportMode::AllOrNothing;
    let importable = report.rejected == 0 || mode == ImportMode::RowByRow;
    let title = if dry_run {
        "Preview of the import"
    } else if refused {
        "Nothing was imported"
    } else {
        "Imported"
    };
    let content = html! {
        @if dry_run { p { strong { "Nothing has been written yet." } " This is what importing the text would do." } }
        @if refused { div.problem role="alert" { p { "Rows were rejected, so nothing was written (all or nothing)." } } }
        (counts(&report))
        (rows(&report))
        @if dry_run && importable {
            form method="post" action="/console/imports" {
                (csrf(&p.viewer.csrf))
                input type="hidden" name="mode" value=(mode.as_str());
                input type="hidden" name="csv" value=(p.fields.value("csv"));
                button type="submit" name="action" value="import" { "Import these rows" }
            }
        }
        p { a href="/console/imports" { "Start again" } " · " a href="/console/parties" { "Vendors" } }
    };
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(respond(
        status,
        page(&p.viewer, Section::Vendors, title, content),
    ))
}
