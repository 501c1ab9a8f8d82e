//! Turns the test switches of the environment into cfgs, so that the tests they gate are
//! reported as *ignored*, with the reason, instead of passing without doing anything:
//!
//! - `AUTH_TEST_DATABASE_URL` set and non-empty: `auth_pg_tests`, the PostgreSQL variants run
//!   (and fail if the server cannot be reached).
//! - `AUTH_TEST_REQUIRE_INTEROP` set and non-empty: `auth_interop_tests`, the Python interop
//!   tests run (and fail without python3 and their packages): the PyJWT test (`PyJWT[crypto]`),
//!   the import of a FastAPI app's users (`tests/import/requirements.txt`), and mail delivery
//!   to a real SMTP server (`aiosmtpd`; STARTTLS also needs `cryptography`), `tests/mail.rs`.
fn main() {
    for (var, cfg) in [
        ("AUTH_TEST_DATABASE_URL", "auth_pg_tests"),
        ("AUTH_TEST_REQUIRE_INTEROP", "auth_interop_tests"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(var).is_some_and(|value| !value.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
