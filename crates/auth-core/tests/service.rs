//! AuthService behaviour against the in-memory store.

use std::sync::Arc;

use auth_core::{
    AdminOutcome, Algorithm, AuthConfig, AuthError, AuthService, JwtKey, LoginAttempt, LogoutScope,
    MemoryStore, PasswordHasher, ProfileUpdate, Registration, TokenKeys, TokenPair,
};
use auth_domain::{
    ClientInfo, Password, PasswordChange, PasswordHash, Role, SessionRevocation, UserChanges,
    UserStore, now,
};
use chrono::TimeDelta;

struct Harness {
    service: AuthService,
    store: Arc<MemoryStore>,
}

fn harness_with_cost(store: Arc<MemoryStore>, cost: u32) -> Harness {
    let key = JwtKey::hmac(Algorithm::HS256, &[7u8; 32]).unwrap();
    let keys = TokenKeys::new(key, "test-issuer", "test-audience").unwrap();
    let service = AuthService::new(
        store.clone(),
        PasswordHasher::new(cost).unwrap(),
        &keys,
        AuthConfig::default(),
    );
    Harness { service, store }
}

fn harness() -> Harness {
    harness_with_cost(Arc::new(MemoryStore::new()), 4)
}

const PASSWORD: &str = "correct horse battery";

impl Harness {
    async fn register(&self, username: &str) -> Result<auth_domain::User, AuthError> {
        self.service
            .register(
                Registration {
                    username: username.into(),
                    password: Password::new(PASSWORD),
                    email: None,
                },
                ClientInfo::default(),
            )
            .await
    }

    async fn login_with(&self, username: &str, password: &str) -> Result<TokenPair, AuthError> {
        self.service
            .login(
                LoginAttempt {
                    username: username.into(),
                    password: Password::new(password),
                    expires_in: None,
                },
                ClientInfo::default(),
            )
            .await
    }

    async fn login(&self, username: &str) -> TokenPair {
        self.login_with(username, PASSWORD).await.unwrap()
    }
}

#[tokio::test]
async fn registered_user_logs_in_and_is_authenticated_by_token() {
    let h = harness();
    let user = h.register("alice").await.unwrap();
    assert_eq!(user.role, Role::User);
    let tokens = h.login("alice").await;
    assert_eq!(tokens.expires_in, 900);
    assert!(tokens.refresh_token.is_some());
    let caller = h
        .service
        .authenticate(&tokens.access_token, ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(caller.user.id, user.id);
    assert_eq!(caller.session().unwrap().1.sub, user.id);
}

#[tokio::test]
async fn login_is_case_insensitive_on_the_username() {
    let h = harness();
    h.register("Alice").await.unwrap();
    h.login("aLICE").await;
}

#[tokio::test]
async fn duplicate_username_in_another_case_is_taken() {
    let h = harness();
    h.register("alice").await.unwrap();
    assert!(matches!(
        h.register("ALICE").await,
        Err(AuthError::UsernameTaken)
    ));
}

#[tokio::test]
async fn registration_parses_every_field() {
    let h = harness();
    let register = |username: &str, password: &str, email: Option<&str>| {
        h.service.register(
            Registration {
                username: username.into(),
                password: Password::new(password),
                email: email.map(Into::into),
            },
            ClientInfo::default(),
        )
    };
    assert!(matches!(
        register("a", PASSWORD, None).await,
        Err(AuthError::InvalidUsername(_))
    ));
    assert!(matches!(
        register("alice", "short", None).await,
        Err(AuthError::InvalidPassword(_))
    ));
    assert!(matches!(
        register("alice", &"x".repeat(73), None).await,
        Err(AuthError::InvalidPassword(_))
    ));
    assert!(matches!(
        register("alice", PASSWORD, Some("nope")).await,
        Err(AuthError::InvalidEmail(_))
    ));
    register("alice", PASSWORD, Some("alice@example.com"))
        .await
        .unwrap();
    assert!(matches!(
        register("bob", PASSWORD, Some("ALICE@example.com")).await,
        Err(AuthError::EmailTaken)
    ));
}

#[tokio::test]
async fn unknown_user_and_wrong_password_fail_alike() {
    let h = harness();
    h.register("alice").await.unwrap();
    let unknown = h.login_with("nobody", PASSWORD).await.unwrap_err();
    let wrong = h.login_with("alice", "wrong password!").await.unwrap_err();
    let malformed = h.login_with("x", PASSWORD).await.unwrap_err();
    for err in [&unknown, &wrong, &malformed] {
        assert!(matches!(err, AuthError::InvalidCredentials), "{err:?}");
    }
    assert_eq!(unknown.to_string(), wrong.to_string());
}

#[tokio::test]
async fn overlong_password_at_login_is_refused_not_truncated() {
    let h = harness();
    // Exactly 72 bytes, and strong enough for the policy.
    let seventy_two =
        "quartz-violet-harbor-lemon-tugboat-marble-ginger-canyon-whistle-pepper-x".to_owned();
    assert_eq!(seventy_two.len(), 72);
    h.service
        .register(
            Registration {
                username: "alice".into(),
                password: Password::new(seventy_two.clone()),
                email: None,
            },
            ClientInfo::default(),
        )
        .await
        .unwrap();
    h.login_with("alice", &seventy_two).await.unwrap();
    let err = h
        .login_with("alice", &format!("{seventy_two}extra"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidPassword(_)), "{err:?}");
}

#[tokio::test]
async fn disabled_account_is_reported_only_after_the_right_password() {
    let h = harness();
    let user = h.register("alice").await.unwrap();
    let mut disable = UserChanges::at(now());
    disable.is_active = Some(false);
    h.store.update_user(user.id, &disable).unwrap();
    assert!(matches!(
        h.login_with("alice", "wrong password!").await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        h.login_with("alice", PASSWORD).await,
        Err(AuthError::AccountDisabled)
    ));
}

#[tokio::test]
async fn disabling_a_user_ends_their_tokens_at_the_next_request() {
    let h = harness();
    let user = h.register("alice").await.unwrap();
    let tokens = h.login("alice").await;
    let mut disable = UserChanges::at(now());
    disable.is_active = Some(false);
    h.store.update_user(user.id, &disable).unwrap();
    // The store ended the session with the disabling (a cached copy would be refused for the
    // inactive user).
    assert!(matches!(
        h.service
            .authenticate(&tokens.access_token, ClientInfo::default())
            .await,
        Err(AuthError::SessionEnded)
    ));
}

#[tokio::test]
async fn login_upgrades_a_hash_made_with_another_cost() {
    let store = Arc::new(MemoryStore::new());
    let old = harness_with_cost(store.clone(), 4);
    let user = old.register("alice").await.unwrap();
    assert!(user.password_hash.expose().starts_with("$2b$04$"));

    let new = harness_with_cost(store.clone(), 5);
    new.login("alice").await;
    let upgraded = store.user_by_id(user.id).unwrap().unwrap();
    assert!(upgraded.password_hash.expose().starts_with("$2b$05$"));
    new.login("alice").await;
}

#[tokio::test]
async fn requested_access_token_lifetime_is_clamped_to_the_bounds() {
    let h = harness();
    let config = AuthConfig::default();
    assert_eq!(h.service.access_ttl(None), config.access_ttl);
    assert_eq!(h.service.access_ttl(Some(120)), TimeDelta::seconds(120));
    assert_eq!(h.service.access_ttl(Some(1)), config.min_access_ttl);
    assert_eq!(h.service.access_ttl(Some(-5)), config.min_access_ttl);
    assert_eq!(h.service.access_ttl(Some(i64::MAX)), config.max_access_ttl);

    h.register("alice").await.unwrap();
    let tokens = h
        .service
        .login(
            LoginAttempt {
                username: "alice".into(),
                password: Password::new(PASSWORD),
                expires_in: Some(120),
            },
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(tokens.expires_in, 120);
    assert_eq!(tokens.claims.exp - tokens.claims.iat, 120);
}

#[tokio::test]
async fn logout_scopes_end_the_right_sessions() {
    let h = harness();
    h.register("alice").await.unwrap();
    let service = h.service.clone();
    let ok = move |t: &TokenPair| {
        let (service, token) = (service.clone(), t.access_token.clone());
        async move { service.authenticate(&token, ClientInfo::default()).await }
    };

    let (a, b, c) = (
        h.login("alice").await,
        h.login("alice").await,
        h.login("alice").await,
    );
    let caller = ok(&a).await.unwrap();
    h.service
        .logout(&caller, LogoutScope::Others)
        .await
        .unwrap();
    assert!(ok(&a).await.is_ok());
    assert!(ok(&b).await.is_err() && ok(&c).await.is_err());

    h.service.logout(&caller, LogoutScope::Local).await.unwrap();
    assert!(matches!(ok(&a).await, Err(AuthError::SessionEnded)));

    let (d, e) = (h.login("alice").await, h.login("alice").await);
    let caller = ok(&d).await.unwrap();
    h.service
        .logout(&caller, LogoutScope::Global)
        .await
        .unwrap();
    assert!(ok(&d).await.is_err() && ok(&e).await.is_err());
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_ends_other_sessions() {
    let h = harness();
    h.register("alice").await.unwrap();
    let (mine, other) = (h.login("alice").await, h.login("alice").await);
    let caller = h
        .service
        .authenticate(&mine.access_token, ClientInfo::default())
        .await
        .unwrap();
    let change = |current: Option<&str>| ProfileUpdate {
        password: Some(Password::new("a brand new passphrase")),
        current_password: current.map(Password::new),
        ..ProfileUpdate::default()
    };

    assert!(matches!(
        h.service.update_profile(&caller, change(None)).await,
        Err(AuthError::CurrentPasswordRequired)
    ));
    assert!(matches!(
        h.service
            .update_profile(&caller, change(Some("not it at all")))
            .await,
        Err(AuthError::InvalidCurrentPassword)
    ));
    h.login("alice").await; // nothing changed yet

    h.service
        .update_profile(&caller, change(Some(PASSWORD)))
        .await
        .unwrap();
    assert!(
        h.service
            .authenticate(&mine.access_token, ClientInfo::default())
            .await
            .is_ok()
    );
    assert!(
        h.service
            .authenticate(&other.access_token, ClientInfo::default())
            .await
            .is_err()
    );
    assert!(matches!(
        h.login_with("alice", PASSWORD).await,
        Err(AuthError::InvalidCredentials)
    ));
    h.login_with("alice", "a brand new passphrase")
        .await
        .unwrap();
}

#[tokio::test]
async fn renaming_keeps_tokens_bound_to_the_user_id() {
    let h = harness();
    let alice = h.register("alice").await.unwrap();
    let tokens = h.login("alice").await;
    let caller = h
        .service
        .authenticate(&tokens.access_token, ClientInfo::default())
        .await
        .unwrap();
    let update = ProfileUpdate {
        username: Some("alicia".into()),
        email: Some(Some("alicia@example.com".into())),
        current_password: Some(Password::new(PASSWORD)),
        ..ProfileUpdate::default()
    };
    let renamed = h.service.update_profile(&caller, update).await.unwrap();
    assert_eq!(renamed.username.as_str(), "alicia");
    // Someone else takes the old name; the old token still acts as the original user only.
    let newcomer = h.register("alice").await.unwrap();
    let caller = h
        .service
        .authenticate(&tokens.access_token, ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(caller.user.id, alice.id);
    assert_ne!(caller.user.id, newcomer.id);
}

#[tokio::test]
async fn profile_email_can_be_removed() {
    let h = harness();
    h.service
        .register(
            Registration {
                username: "alice".into(),
                password: Password::new(PASSWORD),
                email: Some("alice@example.com".into()),
            },
            ClientInfo::default(),
        )
        .await
        .unwrap();
    let caller = h
        .service
        .authenticate(&h.login("alice").await.access_token, ClientInfo::default())
        .await
        .unwrap();
    // Removing the address needs the password, as changing it does.
    let update = ProfileUpdate {
        email: Some(None),
        ..ProfileUpdate::default()
    };
    assert!(matches!(
        h.service.update_profile(&caller, update).await,
        Err(AuthError::CurrentPasswordRequired)
    ));
    let update = ProfileUpdate {
        email: Some(None),
        current_password: Some(Password::new(PASSWORD)),
        ..ProfileUpdate::default()
    };
    assert_eq!(
        h.service
            .update_profile(&caller, update)
            .await
            .unwrap()
            .email,
        None
    );
}

#[tokio::test]
async fn ensure_admin_creates_then_promotes_without_touching_passwords() {
    let h = harness();
    let (admin, outcome) = h
        .service
        .ensure_admin("root", Password::new(PASSWORD))
        .await
        .unwrap();
    assert_eq!((admin.role, outcome), (Role::Admin, AdminOutcome::Created));
    let (_, outcome) = h
        .service
        .ensure_admin("ROOT", Password::new("ignored"))
        .await
        .unwrap();
    assert_eq!(outcome, AdminOutcome::AlreadyAdmin);

    let bob = h.register("bob").await.unwrap();
    let (promoted, outcome) = h
        .service
        .ensure_admin("bob", Password::new("other password"))
        .await
        .unwrap();
    assert_eq!(
        (promoted.role, outcome),
        (Role::Admin, AdminOutcome::Promoted)
    );
    assert_eq!(promoted.password_hash, bob.password_hash);
    h.login("bob").await;
}

#[tokio::test]
async fn a_forged_hash_in_the_store_never_verifies() {
    let h = harness();
    let user = h.register("alice").await.unwrap();
    h.store
        .change_password(&PasswordChange {
            user: user.id,
            expected: user.credential_generation,
            new_hash: PasswordHash::new("plaintext-password"),
            sessions: SessionRevocation::All,
            at: now(),
        })
        .unwrap();
    assert!(matches!(
        h.login_with("alice", "plaintext-password").await,
        Err(AuthError::InvalidCredentials)
    ));
}

/// A service whose hashing pool has more threads than the lockout limit, so that attempts
/// really overlap: no lock is held while bcrypt runs (second review, item 2).
fn wide_harness() -> Harness {
    let store = Arc::new(MemoryStore::new());
    let key = JwtKey::hmac(Algorithm::HS256, &[7u8; 32]).unwrap();
    let keys = TokenKeys::new(key, "test-issuer", "test-audience").unwrap();
    let mut config = AuthConfig::default();
    config.hashing.threads = 16;
    let service = AuthService::new(
        store.clone(),
        PasswordHasher::new(4).unwrap(),
        &keys,
        config,
    );
    Harness { service, store }
}

/// `n` logins of alice with `password`, all started at once.
async fn all_at_once(
    service: &AuthService,
    password: &str,
    n: usize,
) -> Vec<Result<TokenPair, AuthError>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (service, password) = (service.clone(), Password::new(password));
            tokio::spawn(async move {
                let attempt = LoginAttempt {
                    username: "alice".into(),
                    password,
                    expires_in: None,
                };
                service.login(attempt, ClientInfo::default()).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn overlapping_right_logins_from_one_client_are_never_locked_out() {
    let h = wide_harness();
    h.register("alice").await.unwrap();
    for round in 0..5 {
        let results = all_at_once(&h.service, PASSWORD, 24).await;
        let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(refused.is_empty(), "round {round}: {refused:?}");
    }
}

#[tokio::test]
async fn overlapping_wrong_guesses_never_pass_the_limit() {
    let h = wide_harness();
    h.register("alice").await.unwrap();
    let results = all_at_once(&h.service, "not the password", 24).await;
    let checked = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::InvalidCredentials)))
        .count();
    let locked = results
        .iter()
        .filter(|r| matches!(r, Err(AuthError::TooManyAttempts { .. })))
        .count();
    assert_eq!((checked, locked), (5, 19));
    // The right password too, now.
    assert!(matches!(
        h.login_with("alice", PASSWORD).await,
        Err(AuthError::TooManyAttempts { .. })
    ));
}
