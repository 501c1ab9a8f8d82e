//! The real app over a throwaway database, and typed request helpers that hide the plumbing.

use actix_web::{
    http::{StatusCode, header::HeaderMap},
    test::{self, TestRequest},
};
use std::sync::Arc;

use auth_actix::AuthState;
use auth_core::{MailTemplates, Mailer, MemoryMailer};
use auth_diesel::testing::TestDatabase;
use auth_server::{
    settings::{AppEnv, Settings},
    startup,
};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// The base of the links in the test app's messages.
pub const LINK_BASE: &str = "https://auth.example.com";

pub struct TestApp {
    pub state: AuthState,
    pub database: TestDatabase,
    /// What the app sent; `None` when mail is off ([`TestApp::without_mail`]).
    pub mailer: Option<Arc<MemoryMailer>>,
    _secret_dir: tempfile::TempDir,
}

/// A response, with the body parsed as JSON (`Value::Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the contract's error shape and returns the machine code.
    pub fn error_code(&self) -> &str {
        assert!(
            self.body["detail"].is_string(),
            "no detail in {}",
            self.text
        );
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", self.text))
    }

    #[track_caller]
    pub fn assert(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.error_code(), code, "{}", self.text);
        self
    }
}

fn build(
    database: &TestDatabase,
    secret_dir: &tempfile::TempDir,
    overrides: &[(&str, &str)],
    mailer: Option<&Arc<MemoryMailer>>,
) -> AuthState {
    let secret_file = secret_dir.path().join("jwt-secret");
    let secret_file = secret_file.to_string_lossy();
    // Generated on the first build, kept for the app's later builds (`with_settings`).
    let mfa_key_file = secret_dir.path().join("mfa-key");
    let mfa_key_file = mfa_key_file.to_string_lossy();
    let mut settings = vec![
        ("database.url", database.url()),
        ("database.pool_size", "4"),
        ("jwt.secret", SECRET),
        ("jwt.secret_file", &secret_file),
        ("mfa.encryption_key_file", &mfa_key_file),
        ("password.bcrypt_cost", "4"),
    ];
    settings.extend_from_slice(overrides);
    let settings = Settings::load(AppEnv::Test, &settings).unwrap();
    let state = startup::build_state(&settings, AppEnv::Test).unwrap();
    if let Some(mailer) = mailer {
        let mailer: Arc<dyn Mailer> = mailer.clone();
        let templates = Arc::new(MailTemplates::new());
        state.service.send_mail_with(auth_server::mail::mail_setup(
            &settings,
            mailer,
            templates,
            LINK_BASE.to_owned(),
        ));
    }
    state
}

impl TestApp {
    pub fn sqlite() -> Self {
        Self::on(TestDatabase::sqlite())
    }

    /// An app over a fresh PostgreSQL database. Panics when `AUTH_TEST_DATABASE_URL` is unset
    /// or the server cannot be reached: a PostgreSQL test never passes without PostgreSQL. (Such
    /// tests are ignored unless the variable was set at build time: see build.rs.)
    pub fn postgres() -> Self {
        let database = TestDatabase::postgres().unwrap_or_else(|| {
            panic!("PostgreSQL test run without AUTH_TEST_DATABASE_URL: set it to a server")
        });
        Self::on(database)
    }

    fn on(database: TestDatabase) -> Self {
        let secret_dir = tempfile::tempdir().unwrap();
        let mailer = Arc::new(MemoryMailer::new());
        let state = build(&database, &secret_dir, &[], Some(&mailer));
        Self {
            state,
            database,
            mailer: Some(mailer),
            _secret_dir: secret_dir,
        }
    }

    /// The same database, served with some settings changed.
    pub fn with_settings(mut self, overrides: &[(&str, &str)]) -> Self {
        self.state = build(
            &self.database,
            &self._secret_dir,
            overrides,
            self.mailer.as_ref(),
        );
        self
    }

    /// The same database, served with mail off (`mail.transport = "none"`).
    pub fn without_mail(mut self) -> Self {
        self.mailer = None;
        self.state = build(&self.database, &self._secret_dir, &[], None);
        self
    }

    /// The messages sent so far.
    pub fn mail(&self) -> &MemoryMailer {
        self.mailer.as_deref().expect("mail is on")
    }

    pub async fn send(&self, request: TestRequest) -> Reply {
        let app = test::init_service(auth_actix::app(self.state.clone())).await;
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(!text.contains("$2b$"), "a password hash leaked: {text}");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text:?}"))
        };
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        self.send(TestRequest::post().uri(path).set_json(body))
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(TestRequest::get().uri(path).insert_header(bearer(token)))
            .await
    }

    /// Registers `username` with [`PASSWORD`], asserting the 201.
    pub async fn register(&self, username: &str) -> Reply {
        let reply = self.try_register(username).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply
    }

    /// Attempts to register `username` with [`PASSWORD`]: the raw reply, for negative tests.
    pub async fn try_register(&self, username: &str) -> Reply {
        self.post_json(
            "/register",
            json!({"username": username, "password": PASSWORD}),
        )
        .await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> Reply {
        self.post_json(
            "/login",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn token(&self, username: &str) -> String {
        let reply = self.login_with(username, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Logs in and returns the whole token response.
    pub async fn login(&self, username: &str) -> Value {
        let reply = self.login_with(username, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body
    }

    pub async fn refresh(&self, refresh_token: &Value) -> Reply {
        self.post_json("/refresh", json!({"refresh_token": refresh_token}))
            .await
    }

    /// Disables a user as an operator does (`auth-server users disable`), to test what follows.
    pub async fn disable(&self, username: &str) {
        let service = &self.state.service;
        let user = service.user_by_username(username).await.unwrap();
        service
            .set_role_and_state(&auth_core::Actor::cli(), user.id, None, Some(false))
            .await
            .unwrap();
    }

    /// Creates an API key for the holder of `token` and returns the key.
    pub async fn api_key(&self, token: &str) -> String {
        let reply = self
            .send(
                TestRequest::post()
                    .uri("/api-keys")
                    .insert_header(bearer(token))
                    .set_json(json!({"name": "test key", "current_password": PASSWORD})),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["key"].as_str().unwrap().to_owned()
    }

    /// Registers and logs in.
    pub async fn user(&self, username: &str) -> String {
        self.register(username).await;
        self.token(username).await
    }

    /// Creates an admin (as `auth-server create-admin` does) and logs in.
    pub async fn admin(&self, username: &str) -> String {
        self.state
            .service
            .ensure_admin(username, auth_domain::Password::new(PASSWORD))
            .await
            .unwrap();
        self.token(username).await
    }
}

pub fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

/// Instantiates every listed test for SQLite and PostgreSQL. The PostgreSQL variants are
/// reported as ignored unless AUTH_TEST_DATABASE_URL was set at build time (build.rs turns it
/// into `cfg(auth_pg_tests)`); with it set, an unreachable server fails them.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                #[cfg_attr(
                    not(auth_pg_tests),
                    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
                )]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::postgres()).await;
                }
            )*
        }
    };
}

/// Makes a key file written by a test readable by its owner only, as the server requires.
pub fn owner_only(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
