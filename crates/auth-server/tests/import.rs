//! `auth-server import-users`, the real binary, against a database made the way the FastAPI
//! apps make theirs (SQLAlchemy and passlib, run by tests/import/make_fastapi_users.py), on
//! SQLite and PostgreSQL; then the imported users log in through the real app.
//!
//! The interop tests need python3 with the packages the script imports, and run only with
//! AUTH_TEST_REQUIRE_INTEROP set (and, for PostgreSQL, AUTH_TEST_DATABASE_URL): see build.rs.
//! `python3 -m pip install -r crates/auth-server/tests/import/requirements.txt`

use std::{
    path::Path,
    process::{Command, Output},
};

use actix_web::test::{self, TestRequest};
use auth_actix::AuthState;
use auth_core::Registration;
use auth_diesel::testing::TestDatabase;
use auth_domain::{AuditQuery, Password};
use auth_server::{
    settings::{AppEnv, Settings},
    startup,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// `auth-server import-users ARGS` over our database `target`, run in `dir`.
fn import(dir: &Path, target: &str, args: &[&str]) -> (Output, String, String) {
    let output = Command::new(BIN)
        .current_dir(dir)
        .env("AUTH_ENV", "test")
        .env("AUTH_CONFIG_DIR", dir)
        .env("AUTH__DATABASE__URL", target)
        .env("AUTH__JWT__SECRET", SECRET)
        .arg("import-users")
        .args(args)
        .output()
        .expect("cannot run auth-server");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for secret in ["hunter2", "$2a$", "$2b$", "$2y$", "$5$", "S3cretPw"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} shown:\n{stdout}\n{stderr}"
        );
    }
    (output, stdout, stderr)
}

/// The state of the server over `target`, with a bcrypt cost above the imported hashes' 4
/// and 5, so that a login upgrades them.
fn state(target: &str) -> AuthState {
    let settings = Settings::load(
        AppEnv::Test,
        &[
            ("database.url", target),
            ("jwt.secret", SECRET),
            ("password.bcrypt_cost", "6"),
        ],
    )
    .unwrap();
    startup::build_state(&settings, AppEnv::Test).unwrap()
}

async fn login(state: &AuthState, username: &str, password: &str) -> (u16, Value) {
    let app = test::init_service(auth_actix::app(state.clone())).await;
    let request = TestRequest::post()
        .uri("/login")
        .set_json(json!({"username": username, "password": password}));
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn get(state: &AuthState, path: &str, token: &str) -> u16 {
    let app = test::init_service(auth_actix::app(state.clone())).await;
    let request = TestRequest::get()
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")));
    test::call_service(&app, request.to_request())
        .await
        .status()
        .as_u16()
}

/// Runs the script that makes the FastAPI apps' table at `sqlalchemy_url`.
fn make_fastapi_users(sqlalchemy_url: &str) {
    fastapi_script(sqlalchemy_url, &[]);
}

/// Runs the script on `sqlalchemy_url` with `args`.
fn fastapi_script(sqlalchemy_url: &str, args: &[&str]) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/import/make_fastapi_users.py"
    );
    let output = Command::new("python3")
        .arg(script)
        .arg(sqlalchemy_url)
        .args(args)
        .output()
        .expect("the import interop test needs python3");
    assert!(
        output.status.success(),
        "make_fastapi_users.py failed (python3 -m pip install -r \
         crates/auth-server/tests/import/requirements.txt):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The report's section `label`: its count and its lines.
fn section(report: &str, label: &str) -> Vec<String> {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{label}: ")));
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no {label}:\n{report}"));
    let rows: Vec<String> = lines
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_owned())
        .collect();
    assert_eq!(header, format!("{label}: {}", rows.len()), "{report}");
    rows
}

const EXISTS: &str = "exists (imported earlier, same hash)";
const CONFLICT: &str = "conflict (a different account holds this name)";
const OUTDATED: &str =
    "outdated (imported earlier, hash changed in the source; --update-hashes replaces it)";
const UPDATED: &str = "updated (hash from the source; sessions and API keys ended)";
const KEPT: &str = "kept (password changed here)";

const IMPORTED: [&str; 6] = [
    "alice (id 1)",
    "bob (id 2)",
    "carol (id 3)",
    "erin (id 9)",
    "heidi (id 13)",
    "ivan (id 14)",
];

/// The whole story on one source and one target.
async fn import_the_fastapi_apps_users(source: &str, target: &str, dir: &Path) -> AuthState {
    // A user of ours already has one of the names: a squatter, as far as the import can tell.
    let ours = state(target);
    ours.service
        .register(
            Registration {
                username: "Grace".into(),
                password: Password::new("our grace's passphrase"),
                email: None,
            },
            auth_domain::ClientInfo::default(),
        )
        .await
        .unwrap();
    let args = ["--from", source, "--email-column", "email"];

    // A dry run reports and writes nothing.
    let (output, dry, stderr) = import(dir, target, &[&args[..], &["--dry-run"]].concat());
    assert_eq!(
        output.status.code(),
        Some(3),
        "{:?}\n{dry}\n{stderr}",
        output.status
    );
    assert!(dry.starts_with("DRY RUN"), "{dry}");
    assert_eq!(section(&dry, "imported"), IMPORTED);
    assert_eq!(section(&dry, CONFLICT), ["grace (id 12)"]);
    assert!(section(&dry, EXISTS).is_empty());
    let users = ours
        .service
        .list_users(auth_domain::UserQuery {
            limit: 200,
            count: auth_domain::Count::All,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(users.total, Some(1));

    // The squatted name is a conflict, not "exists": the run says so and exits with 3.
    let (output, report, stderr) = import(dir, target, &args);
    assert_eq!(output.status.code(), Some(3), "{report}\n{stderr}");
    assert!(stderr.contains("1 name(s) held by an account"), "{stderr}");
    assert!(report.contains("in order of id"), "{report}");
    assert!(report.contains("read 14 rows"), "{report}");
    assert_eq!(section(&report, "imported"), IMPORTED);
    assert_eq!(
        section(&report, "duplicate"),
        [
            "Alice (id 4); the name of id 1",
            "bob (id 5); the name of id 2"
        ]
    );
    assert_eq!(
        section(&report, "invalid username"),
        [
            "\"bad name!\" (id 6)",
            "\"x\" (id 7)",
            "(no username) (id 11)"
        ]
    );
    assert_eq!(
        section(&report, "not a bcrypt hash"),
        ["dave (id 8)", "frank (id 10)"]
    );
    assert_eq!(section(&report, CONFLICT), ["grace (id 12)"]);
    assert!(section(&report, EXISTS).is_empty());
    assert_eq!(
        section(&report, "role empty or unknown, imported as user"),
        [
            "carol (id 3): role \"\"",
            "erin (id 9): role \"superuser\"",
            "ivan (id 14): no role"
        ]
    );
    assert_eq!(
        section(&report, "email not kept"),
        [
            "bob (id 2): not a valid email",
            "heidi (id 13): another user has it"
        ]
    );

    // Again: nothing twice. Those imported before exist, with the same hash; grace is still
    // someone else's.
    let (output, again, stderr) = import(dir, target, &args);
    assert_eq!(output.status.code(), Some(3), "{again}\n{stderr}");
    assert!(section(&again, "imported").is_empty(), "{again}");
    assert_eq!(section(&again, EXISTS), IMPORTED);
    assert_eq!(section(&again, CONFLICT), ["grace (id 12)"]);
    assert_eq!(section(&again, "duplicate").len(), 2);

    // Every import is audited.
    let query = AuditQuery {
        limit: 200,
        ..Default::default()
    };
    let events = ours.service.audit_log(query).await.unwrap().items;
    let imported = events
        .iter()
        .filter(|e| e.action == "user.imported")
        .count();
    assert_eq!(imported, IMPORTED.len());

    // The users log in with their old passwords, whatever the prefix and cost...
    for (name, password) in [
        ("alice", "alice old password"),
        ("bob", "bob old password"),
        ("carol", "carol old password"),
        ("erin", "erin old password"),
    ] {
        let (status, body) = login(&ours, name, password).await;
        assert_eq!(status, 200, "{name}: {body}");
        // ...and the login rehashed at our cost.
        let user = ours.service.user_by_username(name).await.unwrap();
        assert!(user.password_hash.expose().starts_with("$2b$06$"), "{name}");
    }
    // The refused twin's password is not alice's, and ours is untouched.
    assert_eq!(login(&ours, "alice", "alice's other password").await.0, 401);
    assert_eq!(login(&ours, "grace", "grace old password").await.0, 401);
    assert_eq!(login(&ours, "Grace", "our grace's passphrase").await.0, 200);
    // Roles came over: alice is an admin, erin ("superuser") is not.
    let (_, alice) = login(&ours, "alice", "alice old password").await;
    let (_, erin) = login(&ours, "erin", "erin old password").await;
    assert_eq!(
        get(&ours, "/admin", alice["access_token"].as_str().unwrap()).await,
        200
    );
    assert_eq!(
        get(&ours, "/admin", erin["access_token"].as_str().unwrap()).await,
        403
    );
    ours
}

/// Second review, item 6: passwords changed in the old app after the import come over with
/// `--update-hashes` (ending the sessions made with the old one), unless changed here too.
async fn update_hashes_changed_in_the_old_app(
    ours: &AuthState,
    (source, sqlalchemy_url): (&str, &str),
    target: &str,
    dir: &Path,
) {
    let args = &["--from", source, "--email-column", "email"][..];
    // Sessions made with the old passwords (alice's hash was upgraded at her login above: the
    // update does not take that for a change here).
    let (status, alice) = login(ours, "alice", "alice old password").await;
    assert_eq!(status, 200, "{alice}");
    let alice_token = alice["access_token"].as_str().unwrap();
    assert_eq!(get(ours, "/users/me", alice_token).await, 200);
    // Bob changes his password here; then both change theirs in the old app.
    let (_, bob) = login(ours, "bob", "bob old password").await;
    let app = test::init_service(auth_actix::app(ours.clone())).await;
    let request = TestRequest::put()
        .uri("/profile")
        .insert_header((
            "Authorization",
            format!("Bearer {}", bob["access_token"].as_str().unwrap()),
        ))
        .set_json(json!({
            "password": "bob's own new passphrase",
            "current_password": "bob old password"
        }));
    let changed = test::call_service(&app, request.to_request()).await;
    assert_eq!(changed.status().as_u16(), 200);
    fastapi_script(
        sqlalchemy_url,
        &["change-password", "alice", "alice new password"],
    );
    fastapi_script(
        sqlalchemy_url,
        &["change-password", "bob", "bob newer old-app password"],
    );

    // Without --update-hashes the change is only reported.
    let (output, report, stderr) = import(dir, target, args);
    assert_eq!(output.status.code(), Some(3), "{report}\n{stderr}");
    assert_eq!(section(&report, OUTDATED), ["alice (id 1)"]);
    assert_eq!(section(&report, KEPT), ["bob (id 2)"]);
    assert!(section(&report, UPDATED).is_empty());
    assert_eq!(login(ours, "alice", "alice new password").await.0, 401);

    let update = [args, &["--update-hashes"]].concat();
    let (output, dry, _) = import(dir, target, &[&update[..], &["--dry-run"]].concat());
    assert_eq!(output.status.code(), Some(3), "{dry}");
    assert_eq!(section(&dry, UPDATED), ["alice (id 1)"]);
    assert_eq!(login(ours, "alice", "alice new password").await.0, 401);

    let (output, report, stderr) = import(dir, target, &update);
    assert_eq!(output.status.code(), Some(3), "{report}\n{stderr}");
    assert_eq!(section(&report, UPDATED), ["alice (id 1)"]);
    assert_eq!(section(&report, KEPT), ["bob (id 2)"]);
    assert_eq!(section(&report, CONFLICT), ["grace (id 12)"]);
    assert_eq!(section(&report, EXISTS).len(), IMPORTED.len() - 2);
    // The old password is refused, the new one works, the session made before is dead.
    assert_eq!(login(ours, "alice", "alice old password").await.0, 401);
    assert_eq!(get(ours, "/users/me", alice_token).await, 401);
    let (status, body) = login(ours, "alice", "alice new password").await;
    assert_eq!(status, 200, "{body}");
    // Bob's password is his own, not the old app's.
    assert_eq!(
        login(ours, "bob", "bob newer old-app password").await.0,
        401
    );
    assert_eq!(login(ours, "bob", "bob's own new passphrase").await.0, 200);

    // Once brought over, the hash is the imported one again: nothing more to do.
    let (output, report, _) = import(dir, target, &update);
    assert_eq!(output.status.code(), Some(3), "{report}");
    assert!(section(&report, UPDATED).is_empty(), "{report}");
    assert_eq!(section(&report, EXISTS).len(), IMPORTED.len() - 1);
}

#[actix_web::test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "import interop: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with SQLAlchemy, \
              passlib, bcrypt==4.0.1)"
)]
async fn imports_a_fastapi_apps_sqlite_users() {
    let dir = tempfile::tempdir().unwrap();
    let source_file = dir.path().join("fastapi app.db");
    make_fastapi_users(&format!("sqlite:///{}", source_file.display()));
    let before = std::fs::read(&source_file).unwrap();
    let target = TestDatabase::sqlite();
    let source = format!("sqlite://{}", source_file.display());
    let sqlalchemy_url = format!("sqlite:///{}", source_file.display());
    let ours = import_the_fastapi_apps_users(&source, target.url(), dir.path()).await;
    assert_eq!(
        std::fs::read(&source_file).unwrap(),
        before,
        "the source was written to"
    );
    update_hashes_changed_in_the_old_app(
        &ours,
        (&source, &sqlalchemy_url),
        target.url(),
        dir.path(),
    )
    .await;
}

#[actix_web::test]
#[cfg_attr(
    not(all(auth_interop_tests, auth_pg_tests)),
    ignore = "import interop on PostgreSQL: set AUTH_TEST_REQUIRE_INTEROP=1 and \
              AUTH_TEST_DATABASE_URL (needs python3 with SQLAlchemy, passlib, bcrypt==4.0.1, \
              psycopg2-binary)"
)]
async fn imports_a_fastapi_apps_postgres_users() {
    let dir = tempfile::tempdir().unwrap();
    let source = TestDatabase::postgres().expect("AUTH_TEST_DATABASE_URL is not set");
    let sqlalchemy_url = source
        .url()
        .replacen("postgres://", "postgresql+psycopg2://", 1)
        .replacen("postgresql://", "postgresql+psycopg2://", 1);
    make_fastapi_users(&sqlalchemy_url);
    let target = TestDatabase::postgres().unwrap();
    let ours = import_the_fastapi_apps_users(source.url(), target.url(), dir.path()).await;
    update_hashes_changed_in_the_old_app(
        &ours,
        (source.url(), &sqlalchemy_url),
        target.url(),
        dir.path(),
    )
    .await;
}

#[test]
fn a_missing_table_or_column_is_named_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // Our own database is a source too: its `users` table has `password_hash`, not `password`.
    let source = TestDatabase::sqlite();
    auth_diesel::migrate(source.url()).unwrap();
    let target = TestDatabase::sqlite();
    let (output, _, stderr) = import(dir.path(), target.url(), &["--from", source.url()]);
    assert!(!output.status.success());
    assert!(
        stderr.contains("table \"users\" has no column \"password\"")
            && stderr.contains("password_hash"),
        "{stderr}"
    );
    let (output, _, stderr) = import(
        dir.path(),
        target.url(),
        &["--from", source.url(), "--table", "accounts"],
    );
    assert!(!output.status.success());
    assert!(stderr.contains("no table \"accounts\""), "{stderr}");
    // The default role column may be missing (everyone is a user); a named one may not.
    let named = [
        "--from",
        source.url(),
        "--table",
        "api_keys",
        "--username-column",
        "name",
        "--password-column",
        "key_hash",
    ];
    let (output, stdout, stderr) = import(dir.path(), target.url(), &named);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("no role column: every user is imported as user\nread 0 rows\n"),
        "{stdout}"
    );
    let (output, _, stderr) = import(
        dir.path(),
        target.url(),
        &[&named[..], &["--role-column", "rank"]].concat(),
    );
    assert!(!output.status.success());
    assert!(stderr.contains("no column \"rank\""), "{stderr}");
}

#[test]
fn a_source_that_cannot_be_opened_fails_the_run_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let target = TestDatabase::sqlite();
    let missing = dir.path().join("missing.db");
    let (output, _, stderr) = import(
        dir.path(),
        target.url(),
        &["--from", &format!("sqlite://{}", missing.display())],
    );
    assert!(!output.status.success());
    assert!(stderr.contains("missing.db"), "{stderr}");
    assert!(!missing.exists(), "the source was created");
    // An ambiguous URL is refused before any connection, its password as ***.
    let (output, _, stderr) = import(
        dir.path(),
        target.url(),
        &["--from", "postgres://app:Sl4sh/S3cretPw@127.0.0.1:1/db"],
    );
    assert!(!output.status.success());
    assert!(stderr.contains("postgres://app:***@"), "{stderr}");
    // A server that refuses: its error, never the password (`import` checks every output).
    let (output, _, stderr) = import(
        dir.path(),
        target.url(),
        &["--from", "postgres://app:S3cretPw@127.0.0.1:1/db"],
    );
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot connect to the PostgreSQL database"),
        "{stderr}"
    );
}

/// Second review, item 2: a hash above `password.max_verify_cost` (a `$2b$31$` would hold a
/// hashing thread for 35 hours at its first login) is refused as an invalid hash; one at the
/// limit is imported. The source is a database of ours (its `password_hash` column).
#[test]
fn a_hash_above_the_max_verify_cost_is_refused_as_invalid() {
    use auth_domain::{NewUser, PasswordHash, Role, UserId, UserStore, Username, now};
    let dir = tempfile::tempdir().unwrap();
    let source = TestDatabase::sqlite();
    let store = auth_diesel::DieselStore::connect(source.url(), 1).unwrap();
    let digest = "UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96";
    for (name, cost) in [("mallory", "31"), ("trent", "14"), ("victor", "15")] {
        store
            .create_user(NewUser {
                id: UserId::new(),
                username: Username::parse(name).unwrap(),
                email: None,
                password_hash: PasswordHash::new(format!("$2b${cost}${digest}")),
                role: Role::User,
                created_at: now(),
            })
            .unwrap();
    }
    drop(store);
    let target = TestDatabase::sqlite();
    let args = ["--from", source.url(), "--password-column", "password_hash"];
    let (output, report, stderr) = import(dir.path(), target.url(), &args);
    assert!(output.status.success(), "{report}\n{stderr}");
    let imported = section(&report, "imported");
    assert_eq!(imported.len(), 1, "{report}");
    assert!(imported[0].starts_with("trent "), "{report}");
    let refused = section(&report, "not a bcrypt hash");
    assert_eq!(refused.len(), 2, "{report}");
    // In the source's order of id (random ids here): each named with its cost.
    for (name, cost) in [("mallory", "31"), ("victor", "15")] {
        let row = refused.iter().find(|row| row.starts_with(name)).unwrap();
        assert!(
            row.ends_with(&format!(
                ": cost {cost}, above password.max_verify_cost (14)"
            )),
            "{report}"
        );
    }
    // The limit is a setting: at 16, a cost-15 hash comes in too.
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .env("AUTH_ENV", "test")
        .env("AUTH_CONFIG_DIR", dir.path())
        .env("AUTH__DATABASE__URL", target.url())
        .env("AUTH__JWT__SECRET", SECRET)
        .env("AUTH__PASSWORD__MAX_VERIFY_COST", "16")
        .arg("import-users")
        .args(args)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    let imported = section(&report, "imported");
    assert_eq!(imported.len(), 1, "{report}");
    assert!(imported[0].starts_with("victor "), "{report}");
}

/// Imported emails are unverified unless `--emails-verified` says the source confirmed them.
/// The source is a database of ours (its `password_hash` and `email` columns).
#[test]
fn imported_emails_are_verified_only_when_asked() {
    use auth_domain::{
        Email, NewUser, PasswordHash, RecoveryStore, Role, UserId, UserStore, Username, now,
    };
    let dir = tempfile::tempdir().unwrap();
    let source = TestDatabase::sqlite();
    let store = auth_diesel::DieselStore::connect(source.url(), 1).unwrap();
    let hash = "$2b$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96";
    for name in ["alice", "bob"] {
        store
            .create_user(NewUser {
                id: UserId::new(),
                username: Username::parse(name).unwrap(),
                email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
                password_hash: PasswordHash::new(hash),
                role: Role::User,
                created_at: now(),
            })
            .unwrap();
    }
    drop(store);
    let verified_of = |target: &TestDatabase, name: &str| {
        let store = auth_diesel::DieselStore::connect(target.url(), 1).unwrap();
        let email = Email::parse(&format!("{name}@example.com")).unwrap();
        store.user_by_email(&email).unwrap().unwrap().email_verified
    };
    let args = [
        "--from",
        source.url(),
        "--password-column",
        "password_hash",
        "--email-column",
        "email",
    ];
    let plain = TestDatabase::sqlite();
    let (output, report, stderr) = import(dir.path(), plain.url(), &args);
    assert!(output.status.success(), "{report}\n{stderr}");
    assert_eq!(section(&report, "imported").len(), 2, "{report}");
    assert!(!verified_of(&plain, "alice") && !verified_of(&plain, "bob"));

    let vouched = TestDatabase::sqlite();
    let (output, report, stderr) = import(
        dir.path(),
        vouched.url(),
        &[&args[..], &["--emails-verified"]].concat(),
    );
    assert!(output.status.success(), "{report}\n{stderr}");
    assert_eq!(section(&report, "imported").len(), 2, "{report}");
    assert!(verified_of(&vouched, "alice") && verified_of(&vouched, "bob"));
}
