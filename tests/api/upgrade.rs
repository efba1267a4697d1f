//! The disclosures migration back-fills `decision_categories` from the stored answers of the
//! approved decisions made before it, on both backends (docs/DISCLOSURES.md "Incidents": "back-
//! filled by the migration"), so an incident's exposure covers decisions older than the upgrade.

use diesel::RunQueryDsl;
use vendor_registry::db::{self, Target};
use vendor_registry::decision::exposure::sent_to;
use vendor_registry::types::Region;
use vendor_registry_test_support::{Database, test_database_url};

/// (decision, category, subject_country, subject_region, subject_count, grant, agreements).
type Seen<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Region,
    Option<i64>,
    Option<&'a str>,
    Vec<String>,
);

const BEFORE: &str = "2026-12-02-000003";

/// A decision as the first API stored it: no subject_country, subject_count or exporter.
const OLD: &str = r#"{"id":"d-old","outcome":"approved","service":"svc","party_id":"p","purpose":"marketing",
"categories":["user.name","user.contact.email","user.name"],"destination_country":"CN","subject_region":"PRC",
"reasons":[],"grants":[{"category":"user.contact.email","grant_id":"g-old"}],"decided_at":"2026-11-29T10:00:00.000000Z","ledger_seq":5}"#;

/// A decision of the transfer-law API, with an agreement relied on and one that was not.
const NEW: &str = r#"{"id":"d-new","outcome":"approved","service":"svc","party_id":"p","purpose":"marketing",
"categories":["user.contact.email"],"destination_country":"DE","subject_country":"FR","data_origin_country":"FR",
"subject_count":120,"subject_region":"OTHER","exporter":"acme-de","rules_version":"2026-01","reasons":[],
"grants":[{"category":"user.contact.email","grant_id":"g-new"}],
"regimes":[{"regime":"gdpr","counters":[],"agreements":[
  {"agreement_id":"a-in","category":"user.contact.email","state":"in_force"},
  {"agreement_id":"a-out","category":"user.contact.email","state":"expired"}]}],
"decided_at":"2026-12-01T10:00:00.000000Z","ledger_seq":9}"#;

const DENIED: &str = r#"{"id":"d-no","outcome":"denied","service":"svc","party_id":"p","purpose":"marketing",
"categories":["user.name"],"destination_country":"CN","subject_region":"PRC","reasons":[],"grants":[],
"decided_at":"2026-11-30T10:00:00.000000Z","ledger_seq":7}"#;

fn upgrade(target: Target) {
    let pool = db::pool(&target, 1).expect("pool");
    let mut conn = pool.get().expect("connection");
    db::migrate_through(&mut conn, BEFORE).expect("migrate to the release before");
    for (id, outcome, at, seq, body) in [
        ("d-old", "approved", "2026-11-29T10:00:00.000000Z", 5, OLD),
        ("d-no", "denied", "2026-11-30T10:00:00.000000Z", 7, DENIED),
        ("d-new", "approved", "2026-12-01T10:00:00.000000Z", 9, NEW),
    ] {
        let sql = format!(
            "INSERT INTO sharing_requests (id, service, party_id, outcome, decided_at, ledger_seq, body) \
             VALUES ('{id}', 'svc', 'p', '{outcome}', '{at}', {seq}, '{}')",
            body.replace('\n', "").replace('\'', "''")
        );
        match &mut *conn {
            db::DbConn::Pg(c) => diesel::sql_query(sql).execute(c),
            db::DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c),
        }
        .expect("insert an earlier decision");
    }
    db::migrate(&mut conn).expect("upgrade");
    let rows = sent_to(&mut conn, "p", None, "9999-01-01T00:00:00.000000Z").expect("read");
    let seen: Vec<Seen<'_>> = rows
        .iter()
        .map(|r| {
            (
                r.decision_id.as_str(),
                r.category.as_str(),
                r.subject_country.as_deref(),
                r.subject_region,
                r.subject_count,
                r.grant_id.as_deref(),
                r.agreements.0.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            // Before subject_count existed: grouped by region, no count; one row per category.
            (
                "d-old",
                "user.contact.email",
                None,
                Region::Prc,
                None,
                Some("g-old"),
                vec![]
            ),
            ("d-old", "user.name", None, Region::Prc, None, None, vec![]),
            (
                "d-new",
                "user.contact.email",
                Some("FR"),
                Region::Other,
                Some(120),
                Some("g-new"),
                vec!["a-in".to_owned()]
            ),
        ]
    );
    assert_eq!(rows[2].exporter.as_deref(), Some("acme-de"));
    assert_eq!(rows[0].exporter, None);
}

#[test]
fn the_migration_back_fills_what_earlier_approvals_sent_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade(Target::Sqlite(dir.path().join("registry.db")));
}

#[test]
#[cfg_attr(
    not(test_postgres),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL too"
)]
fn the_migration_back_fills_what_earlier_approvals_sent_on_postgres() {
    let base = test_database_url().expect("TEST_DATABASE_URL");
    let db = Database::create(&base, "vr_upgrade");
    upgrade(Target::Postgres(db.url.clone()));
}

/// The approvals migration: a grant made before four eyes on grants counts as approved when it
/// was made (by nobody), asked for by its creator, so upgrading changes no decision.
fn upgrade_grants(target: Target) {
    let pool = db::pool(&target, 1).expect("pool");
    let mut conn = pool.get().expect("connection");
    db::migrate_through(&mut conn, "2026-12-02-000004").expect("migrate to the release before");
    for sql in [
        "INSERT INTO services (key, name, description, purposes, active, created_at, updated_at, version) \
         VALUES ('svc', 'S', 'S', '[\"marketing\"]', TRUE, '2026-11-29T09:00:00.000000Z', '2026-11-29T09:00:00.000000Z', 1)",
        "INSERT INTO parties (id, kind, legal_name, country, region, data_locations, privacy_policy_url, \
         contact_email, risk_tier, status, declared_purposes, declared_categories, created_by, created_at, \
         updated_at, version) VALUES ('p', 'third_party', 'P', 'US', 'US', '[\"US\"]', 'https://p.example', \
         'a@p.example', 'medium', 'trusted', '[]', '[]', 'alice', '2026-11-29T10:00:00.000000Z', \
         '2026-11-29T10:00:00.000000Z', 2)",
        "INSERT INTO grants (id, party_id, service, categories, allowed_regions, transfer_mechanism, valid_from, \
         status, created_by, created_at, updated_at, version) VALUES ('g', 'p', 'svc', '[\"user.name\"]', \
         '[\"US\"]', 'none', '2026-11-29T10:00:00.000000Z', 'active', 'carol', '2026-11-29T10:00:01.000000Z', \
         '2026-11-29T10:00:01.000000Z', 1)",
    ] {
        match &mut *conn {
            db::DbConn::Pg(c) => diesel::sql_query(sql).execute(c),
            db::DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db::migrate(&mut conn).expect("upgrade");
    let g = vendor_registry::registry::grants::store::find(&mut conn, "g")
        .expect("read")
        .expect("the grant");
    assert_eq!(g.requested_by, "carol");
    assert_eq!(
        g.approved_at.as_deref(),
        Some("2026-11-29T10:00:01.000000Z")
    );
    assert_eq!(
        g.approved_by, None,
        "nobody approved it: approvals were not required"
    );
    let view = g.view(vendor_registry::time::now());
    assert_eq!(
        view.effective,
        vendor_registry::registry::grants::Effective::Active
    );
}

#[test]
fn grants_made_before_approvals_stay_effective_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_grants(Target::Sqlite(dir.path().join("registry.db")));
}

#[test]
#[cfg_attr(
    not(test_postgres),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL too"
)]
fn grants_made_before_approvals_stay_effective_on_postgres() {
    let base = test_database_url().expect("TEST_DATABASE_URL");
    let db = Database::create(&base, "vr_upgrade_grants");
    upgrade_grants(Target::Postgres(db.url.clone()));
}
