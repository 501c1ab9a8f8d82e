//! [`AuthService`]: the parts it is composed of, and how its methods reach them. The
//! operations live in the modules named for them: `login`, `sessions`, `profile`, `api_keys`,
//! `admin` and `recovery`.

use std::{
    fmt,
    sync::{Arc, RwLock},
};

use auth_domain::{AuditEvent, Invalidation, NewPassword, Store};
use chrono::TimeDelta;

use crate::{
    api_keys::KeyRefusals,
    cache::CredentialCache,
    config::AuthConfig,
    error::AuthError,
    hashing::HashPool,
    lockout::AttemptsInFlight,
    observer::{Observer, Unobserved},
    password::PasswordHasher,
    recovery::MailSetup,
    strength,
    token::{TokenIssuer, TokenKeys, TokenVerifier},
};

/// What every operation shares; reached through [`AuthService::blocking`].
pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) cache: CredentialCache,
    pub(crate) hasher: PasswordHasher,
    pub(crate) issuer: TokenIssuer,
    pub(crate) verifier: TokenVerifier,
    pub(crate) config: AuthConfig,
    pub(crate) attempts: AttemptsInFlight,
    pub(crate) key_refusals: KeyRefusals,
    pub(crate) status_lists: Arc<crate::PublishedStatusLists>,
    observer: RwLock<Arc<dyn Observer>>,
    pub(crate) mail: RwLock<Option<Arc<MailSetup>>>,
    /// Permits for work a request leaves running after its answer ([`AuthService::idle`]).
    pub(crate) behind_answers: Arc<tokio::sync::Semaphore>,
}

impl Inner {
    /// How mail is sent, when the email features are on ([`AuthService::send_mail_with`] with
    /// an enabled mailer).
    pub(crate) fn mail_setup(&self) -> Option<Arc<MailSetup>> {
        self.mail
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|setup| setup.mailer.enabled())
    }

    /// Where outcomes are reported ([`AuthService::observe_with`]).
    pub(crate) fn observer(&self) -> Arc<dyn Observer> {
        Arc::clone(&self.observer.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// [`AuthError::WeakPassword`] when zxcvbn, knowing `context` (username, email), judges
    /// `password` below the configured strength.
    pub(crate) fn check_strength(
        &self,
        password: &NewPassword,
        context: &[&str],
    ) -> Result<(), AuthError> {
        match strength::weakness(password, self.config.password_min_strength, context) {
            Some(why) => Err(AuthError::WeakPassword(why)),
            None => Ok(()),
        }
    }

    /// Forgets cached credentials that a committed change made invalid (see [`crate::cache`]).
    pub(crate) fn invalidate(&self, what: Invalidation) {
        self.cache.invalidate(what);
        self.status_lists.invalidate(what);
    }

    /// Writes an audit event to the store and to the log (`target: "audit"`), inside the
    /// current span (a request's, with its id). A store failure is logged, not returned: the
    /// action it describes has already happened. Absent fields are left out of the log line;
    /// present ones are written as plain values.
    pub(crate) fn record(&self, event: AuditEvent) {
        tracing::info!(
            target: "audit",
            action = %event.action,
            outcome = %event.outcome,
            actor = event.actor.map(tracing::field::display),
            target_user = event.target.map(tracing::field::display),
            ip = event.ip.as_deref(),
            detail = event.detail.as_deref(),
            "audit"
        );
        if let Err(e) = self.store.record(&event) {
            tracing::error!(error = %crate::error::cause_chain(&e), action = %event.action, "audit event not stored");
        }
    }
}

/// The authentication service. Cheap to clone; share one per process.
///
/// Its async methods never block the caller's executor: bcrypt and store calls run on tokio's
/// blocking pool, so they must be called inside a tokio runtime (actix-web provides one).
#[derive(Clone)]
pub struct AuthService {
    pub(crate) inner: Arc<Inner>,
    hash_pool: Arc<HashPool>,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// At most this many requests' work runs on after their answers; beyond it, a request does its
/// work before answering (under such a flood, timing is not what an attacker can read).
pub(crate) const BEHIND_ANSWERS: usize = 256;

impl AuthService {
    /// Composes a service from its parts. The issuer and the verifier both come from `keys`,
    /// so the service always accepts the tokens it signs. Starts the hashing pool's threads
    /// (`config.hashing`).
    ///
    /// # Panics
    /// If the operating system cannot start a thread.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        keys: &TokenKeys,
        config: AuthConfig,
    ) -> Self {
        let hash_pool = HashPool::new(config.hashing).expect("cannot start the hashing threads");
        Self {
            inner: Arc::new(Inner {
                store,
                cache: CredentialCache::new(config.cache),
                hasher,
                issuer: keys.issuer(),
                verifier: keys.verifier(),
                config,
                attempts: AttemptsInFlight::new(),
                key_refusals: KeyRefusals::new(),
                status_lists: Arc::default(),
                observer: RwLock::new(Arc::new(Unobserved)),
                mail: RwLock::new(None),
                behind_answers: Arc::new(tokio::sync::Semaphore::new(BEHIND_ANSWERS)),
            }),
            hash_pool: Arc::new(hash_pool),
        }
    }

    /// The credential cache, for the listener that hears of other instances' changes (and for
    /// metrics).
    pub fn cache(&self) -> &CredentialCache {
        &self.inner.cache
    }

    /// Reports outcomes (logins, refreshes, store failures) to `observer` from now on, in place
    /// of any earlier one, on every clone of this service. For metrics: see [`Observer`].
    pub fn observe_with(&self, observer: Arc<dyn Observer>) {
        *self
            .inner
            .observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = observer;
    }

    /// Password operations waiting for a hashing thread.
    pub fn queued_hashes(&self) -> usize {
        self.hash_pool.queued()
    }

    /// The token verifier (for JWKS and for embedders).
    pub fn verifier(&self) -> &TokenVerifier {
        &self.inner.verifier
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// Runs blocking work (store calls) on the blocking pool, inside the caller's tracing span
    /// (so that its log lines and audit events carry the request's id).
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, AuthError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let span = tracing::Span::current();
        let result = tokio::task::spawn_blocking(move || span.in_scope(|| work(&inner)))
            .await
            .map_err(AuthError::internal)
            .and_then(|result| result);
        self.report_store_failure(result)
    }

    /// Runs work that hashes or verifies a password (and the store calls around it) on the
    /// hashing pool, inside the caller's tracing span; [`AuthError::Overloaded`] at once when
    /// its queue is full.
    pub(crate) async fn hashing<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, AuthError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let span = tracing::Span::current();
        let result = self
            .hash_pool
            .run(move || span.in_scope(|| work(&inner)))
            .await
            .and_then(|result| result);
        self.report_store_failure(result)
    }

    fn report_store_failure<T>(&self, result: Result<T, AuthError>) -> Result<T, AuthError> {
        if let Err(AuthError::Unavailable(_)) = &result {
            self.inner.observer().store_unavailable();
        }
        result
    }

    /// Waits until the work that requests left running after their answers is done (today: a
    /// forgotten password's lookup and message, [`AuthService::forgot_password`]). For tests
    /// that read the message next, and for a graceful shutdown.
    pub async fn idle(&self) {
        let all = u32::try_from(BEHIND_ANSWERS).expect("a small number");
        // Never closed, so acquiring only waits.
        if let Ok(permits) = self.inner.behind_answers.acquire_many(all).await {
            drop(permits);
        }
    }

    /// Whether the store answers.
    pub async fn health(&self) -> Result<(), AuthError> {
        self.blocking(|inner| Ok(inner.store.ping()?)).await
    }

    /// The access-token lifetime for a requested `expires_in`, clamped to the configured bounds.
    pub fn access_ttl(&self, requested_secs: Option<i64>) -> TimeDelta {
        let config = &self.inner.config;
        requested_secs.map_or(config.access_ttl, |secs| {
            TimeDelta::try_seconds(secs)
                .unwrap_or(config.max_access_ttl)
                .clamp(config.min_access_ttl, config.max_access_ttl)
        })
    }
}
