//! Marks the build for PostgreSQL tests when `TEST_DATABASE_URL` is set: each integration test
//! then runs as two named tests, `…::sqlite` and `…::postgres`, and without it the PostgreSQL
//! half is reported as ignored rather than passing silently. The embedded migrations are
//! compiled in: a new or changed one rebuilds the crate.

fn main() {
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=test_postgres");
    }
}
