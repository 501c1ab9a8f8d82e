//! Rebuilds the crate when a migration changes: they are embedded with `embed_migrations!`.
//! Sets `cfg(auth_pg_tests)` when `AUTH_TEST_DATABASE_URL` names a PostgreSQL server (and the
//! `postgres` feature is on), so the PostgreSQL half of the tests is reported as ignored, not
//! passed, when it cannot run.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    println!("cargo::rerun-if-env-changed=AUTH_TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(auth_pg_tests)");
    if std::env::var_os("AUTH_TEST_DATABASE_URL").is_some_and(|url| !url.is_empty())
        && std::env::var_os("CARGO_FEATURE_POSTGRES").is_some()
    {
        println!("cargo::rustc-cfg=auth_pg_tests");
    }
}
