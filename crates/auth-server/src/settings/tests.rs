//! Unit tests of settings loading.

use super::*;

#[test]
fn defaults_load_and_match_the_documented_values() {
    let settings = Settings::load(AppEnv::Development, &[]).unwrap();
    assert_eq!(settings.server.port, 8000);
    assert_eq!(settings.server.host, "127.0.0.1");
    assert_eq!(settings.server.max_body_bytes, 65536);
    assert_eq!(settings.server.body_timeout_secs, 10);
    assert_eq!(settings.server.max_connections, 1024);
    assert_eq!(settings.jwt.algorithm, "HS256");
    assert_eq!(settings.jwt.access_ttl_secs, 900);
    assert_eq!(settings.jwt.leeway_secs, 5);
    assert_eq!(settings.password.bcrypt_cost, 12);
    assert_eq!(settings.session.idle_ttl_secs, 1_209_600);
    assert_eq!(settings.security.api_key_header, "X-API-Key");
    assert!(settings.jwt.secret.is_none());
    assert_eq!(
        settings.mail.transport(AppEnv::Development),
        MailTransport::File
    );
    assert_eq!(settings.mail.outbox_dir, PathBuf::from("data/outbox"));
    assert_eq!(
        (
            settings.mail.min_interval_secs,
            settings.mail.max_per_account_per_hour,
            settings.mail.reset_token_ttl_secs,
            settings.mail.verify_token_ttl_secs,
        ),
        (60, 5, 1800, 86_400)
    );
}

#[test]
fn overrides_take_precedence_and_secrets_do_not_print() {
    let settings = Settings::load(
        AppEnv::Development,
        &[
            ("jwt.secret", "super-secret-value"),
            ("server.port", "9001"),
        ],
    )
    .unwrap();
    assert_eq!(settings.server.port, 9001);
    assert!(!format!("{settings:?}").contains("super-secret-value"));
}

#[test]
fn unknown_keys_are_refused() {
    let err = Settings::load(AppEnv::Development, &[("jwt.secrett", "x")]).unwrap_err();
    assert!(format!("{err:#}").contains("secrett"), "{err:#}");
}

#[test]
fn max_verify_cost_is_14_by_default_and_4_to_16_at_least_the_bcrypt_cost() {
    let settings = Settings::load(AppEnv::Development, &[]).unwrap();
    assert_eq!(settings.password.max_verify_cost, 14);
    for wrong in ["3", "17", "31"] {
        let err = Settings::load(AppEnv::Development, &[("password.max_verify_cost", wrong)])
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("password.max_verify_cost"),
            "{err:#}"
        );
    }
    let err = Settings::load(
        AppEnv::Development,
        &[
            ("password.bcrypt_cost", "15"),
            ("password.max_verify_cost", "14"),
        ],
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("password.max_verify_cost"),
        "{err:#}"
    );
    let settings = Settings::load(AppEnv::Development, &[("password.max_verify_cost", "16")]);
    assert_eq!(settings.unwrap().password.max_verify_cost, 16);
}

#[test]
fn production_refuses_a_low_bcrypt_cost() {
    let err = Settings::load(AppEnv::Production, &[("password.bcrypt_cost", "4")]).unwrap_err();
    assert!(err.to_string().contains("bcrypt_cost"), "{err}");
}

#[test]
fn mistyped_values_are_refused_by_name_and_lists_split() {
    for (key, value) in [
        ("password.min_strength", "false"),
        ("security.rate_limit_per_minute", "1.5"),
        ("server.workers", "0"),
        ("server.max_connections", "0"),
        ("server.body_timeout_secs", "0"),
        ("server.body_timeout_secs", "3601"),
    ] {
        let err = format!(
            "{:#}",
            Settings::load(AppEnv::Test, &[(key, value)]).unwrap_err()
        );
        assert!(
            err.contains(key) && err.contains("expected an integer"),
            "{err}"
        );
    }
    let settings = Settings::load(
        AppEnv::Test,
        &[
            ("server.trusted_proxies", "10.0.0.1, ::1"),
            ("jwt.issuer", "007"),
        ],
    )
    .unwrap();
    assert_eq!(settings.server.trusted_proxies.len(), 2);
    assert_eq!(settings.jwt.issuer, "007");
}

#[test]
fn the_rate_limit_store_defaults_by_database_and_is_read_strictly() {
    use auth_actix::RateLimitStorage;
    use auth_diesel::Backend;
    let settings = Settings::load(AppEnv::Development, &[]).unwrap();
    assert_eq!(settings.security.configured_rate_limit_store, None);
    assert_eq!(
        settings.security.rate_limit_store(Backend::Sqlite),
        RateLimitStorage::Memory
    );
    assert_eq!(
        settings.security.rate_limit_store(Backend::Postgres),
        RateLimitStorage::Database
    );
    for (value, storage) in [
        ("memory", RateLimitStorage::Memory),
        ("database", RateLimitStorage::Database),
    ] {
        let settings =
            Settings::load(AppEnv::Test, &[("security.rate_limit_store", value)]).unwrap();
        for backend in [Backend::Sqlite, Backend::Postgres] {
            assert_eq!(settings.security.rate_limit_store(backend), storage);
        }
    }
    for wrong in ["redis", "Database", "1"] {
        let err = format!(
            "{:#}",
            Settings::load(AppEnv::Test, &[("security.rate_limit_store", wrong)]).unwrap_err()
        );
        assert!(
            err.contains("security.rate_limit_store") && err.contains("\"memory\" or \"database\""),
            "{err}"
        );
    }
}

#[test]
fn inconsistent_token_lifetimes_are_refused() {
    assert!(Settings::load(AppEnv::Development, &[("jwt.access_ttl_secs", "99999")]).is_err());
}
