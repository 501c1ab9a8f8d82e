//! [`AuthService`]: register, login, authenticate, profile changes and logout over a [`Store`].

use std::{fmt, sync::Arc};

use auth_domain::{
    ApiKey, AttemptVerdict, Claims, ClientInfo, Email, EmailError, LockoutPolicy, NewPassword,
    NewSession, NewUser, Password, PasswordError, RefreshOutcome, RefreshRotation, Role, Session,
    SessionId, SessionRevocation, Store, StoreError, User, UserChanges, UserId, Username,
    UsernameError, now,
};
use chrono::TimeDelta;
use uuid::Uuid;

use crate::{
    audit::{self, EventBuilder},
    password::{HashError, PasswordHasher},
    strength,
    token::{RefreshToken, TokenError, TokenIssuer, TokenVerifier},
};

/// Lifetimes and limits of the service. Every default is documented on [`AuthConfig::default`].
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Access-token lifetime when the client does not ask for one.
    pub access_ttl: TimeDelta,
    /// The shortest access-token lifetime a client may ask for.
    pub min_access_ttl: TimeDelta,
    /// The longest access-token lifetime a client may ask for.
    pub max_access_ttl: TimeDelta,
    /// The fewest characters a new password may have.
    pub password_min_length: usize,
    /// A session ends after this long without a refresh.
    pub session_idle_ttl: TimeDelta,
    /// A session ends this long after login, whatever the refreshes.
    pub session_max_lifetime: TimeDelta,
    /// How long after its rotation a refresh token may be presented again (so that two
    /// concurrent refreshes from one client both succeed) before reuse revokes the session.
    pub refresh_reuse_grace: TimeDelta,
    /// The least zxcvbn score (0–4) a new password needs; 0 disables the check.
    pub password_min_strength: u8,
    /// When failed logins lock a username.
    pub lockout: LockoutPolicy,
}

impl Default for AuthConfig {
    /// 15-minute access tokens (clamped to 1 minute – 1 hour), passwords of 8 characters or
    /// more with a zxcvbn score of 3 or more, sessions idle for 14 days at most and 90 days in
    /// all, a 10-second reuse grace, and a 30-second lock after 5 failed logins in a row,
    /// doubling with each further failure up to an hour.
    fn default() -> Self {
        Self {
            access_ttl: TimeDelta::minutes(15),
            min_access_ttl: TimeDelta::minutes(1),
            max_access_ttl: TimeDelta::hours(1),
            password_min_length: 8,
            session_idle_ttl: TimeDelta::days(14),
            session_max_lifetime: TimeDelta::days(90),
            refresh_reuse_grace: TimeDelta::seconds(10),
            password_min_strength: 3,
            lockout: LockoutPolicy {
                max_failures: 5,
                base_delay: TimeDelta::seconds(30),
                max_delay: TimeDelta::hours(1),
            },
        }
    }
}

/// Why an operation failed. Only the HTTP adapter knows status codes; the texts are safe to show.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The username breaks the rules.
    #[error("{0}")]
    InvalidUsername(#[from] UsernameError),
    /// The email is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// The new password breaks the rules.
    #[error("{0}")]
    InvalidPassword(#[from] PasswordError),
    /// The new password is too easy to guess; the text says why and what would do.
    #[error("{0}")]
    WeakPassword(String),
    /// Too many failed logins for this username: try again after `retry_after` seconds.
    #[error("Too many failed login attempts; try again in {retry_after} seconds")]
    TooManyAttempts {
        /// Seconds until the lock ends.
        retry_after: u64,
    },
    /// The username is taken (without regard to case).
    #[error("Username already registered")]
    UsernameTaken,
    /// The email is taken (without regard to case).
    #[error("Email already registered")]
    EmailTaken,
    /// Unknown user or wrong password: deliberately indistinguishable.
    #[error("Incorrect username or password")]
    InvalidCredentials,
    /// The password was right but the account is disabled.
    #[error("Account is disabled")]
    AccountDisabled,
    /// The refresh token is unknown, rotated, or its session has ended.
    #[error("The refresh token is invalid or expired")]
    InvalidGrant,
    /// The access token was refused.
    #[error("{0}")]
    InvalidToken(#[from] TokenError),
    /// A new password was given without the current one.
    #[error("current_password is required to change the password")]
    CurrentPasswordRequired,
    /// The current password given with a change is wrong.
    #[error("Current password is incorrect")]
    InvalidCurrentPassword,
    /// Authenticated, but not allowed.
    #[error("Forbidden")]
    Forbidden,
    /// The route needs a bearer session; an API key cannot manage keys, sessions or passwords.
    #[error("This needs a bearer token from a login; API keys cannot be used here")]
    SessionRequired,
    /// The API key is unknown, revoked or expired, or its user is disabled.
    #[error("Invalid, revoked or expired API key")]
    InvalidApiKey,
    /// The change would leave no active admin.
    #[error("The last active admin cannot be demoted, disabled or deleted")]
    LastAdmin,
    /// An input outside the rules, with the reason.
    #[error("{0}")]
    InvalidInput(String),
    /// The addressed record does not exist (or is not the caller's).
    #[error("Not found")]
    NotFound,
    /// The store cannot be reached; the text is for logs.
    #[error("The service is temporarily unavailable")]
    Unavailable(String),
    /// A bug or an environment failure; the text is for logs.
    #[error("Internal server error")]
    Internal(String),
}

impl AuthError {
    /// The text for logs: for `Unavailable` and `Internal` it includes the cause, which responses
    /// never show.
    pub fn log_text(&self) -> String {
        match self {
            AuthError::Unavailable(cause) | AuthError::Internal(cause) => {
                format!("{self}: {cause}")
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(auth_domain::Conflict::Username) => AuthError::UsernameTaken,
            StoreError::Conflict(auth_domain::Conflict::Email) => AuthError::EmailTaken,
            StoreError::Conflict(auth_domain::Conflict::LastAdmin) => AuthError::LastAdmin,
            StoreError::NotFound => AuthError::NotFound,
            StoreError::Unavailable(cause) => AuthError::Unavailable(cause),
            other => AuthError::Unavailable(other.to_string()),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        AuthError::Internal(e.to_string())
    }
}

/// `POST /register`'s input, before parsing.
#[derive(Clone)]
pub struct Registration {
    /// Requested username.
    pub username: String,
    /// Chosen password.
    pub password: Password,
    /// Optional email.
    pub email: Option<String>,
}

/// A login attempt.
#[derive(Clone)]
pub struct LoginAttempt {
    /// The username as typed.
    pub username: String,
    /// The password as typed.
    pub password: Password,
    /// The access-token lifetime the client asks for, in seconds (clamped to the bounds).
    pub expires_in: Option<i64>,
}

impl fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("username", &self.username)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Changes a user asks for on their own profile; `None` leaves a field alone.
#[derive(Clone, Default)]
pub struct ProfileUpdate {
    /// A new username.
    pub username: Option<String>,
    /// `Some(None)` removes the email; `Some(Some(e))` sets it.
    pub email: Option<Option<String>>,
    /// A new password; needs `current_password`.
    pub password: Option<Password>,
    /// The current password, required with a new password.
    pub current_password: Option<Password>,
}

/// The tokens handed to a client after login.
#[derive(Clone)]
pub struct TokenPair {
    /// The signed access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// The refresh token, where the flow grants one.
    pub refresh_token: Option<RefreshToken>,
    /// The access token's claims.
    pub claims: Claims,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// How a caller authenticated.
// One per request, moved once: boxing the session variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Credential {
    /// A bearer access token of a live session.
    Session {
        /// The session the token belongs to.
        session: Session,
        /// The verified claims.
        claims: Claims,
    },
    /// An API key. It acts as its owner, but cannot manage keys, sessions or the password.
    ApiKey(ApiKey),
}

/// An authenticated caller: the user as stored now (current role and state) and how they
/// authenticated.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user as stored now.
    pub user: User,
    /// The credential used.
    pub credential: Credential,
    /// Where the request came from (filled in by the HTTP adapter; empty otherwise).
    pub client: ClientInfo,
}

impl Principal {
    /// The session and claims of a caller who logged in; [`AuthError::SessionRequired`] for an
    /// API-key caller, and for a token obtained by exchanging an API key (it has the key's
    /// limits).
    pub fn session(&self) -> Result<(&Session, &Claims), AuthError> {
        match &self.credential {
            Credential::Session { session, claims } if session.api_key.is_none() => {
                Ok((session, claims))
            }
            _ => Err(AuthError::SessionRequired),
        }
    }
}

/// Which sessions a logout ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogoutScope {
    /// Only the current session.
    #[default]
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user.
    Global,
}

/// What `ensure_admin` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// A new admin was created.
    Created,
    /// An existing user became admin (password unchanged).
    Promoted,
    /// The user was already an active admin.
    AlreadyAdmin,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) issuer: TokenIssuer,
    pub(crate) verifier: TokenVerifier,
    pub(crate) config: AuthConfig,
    // Login attempts for one username are checked one at a time (by stripe of the name's
    // hash): each then sees the outcome of the one before, so concurrent guesses cannot pass
    // the lockout limit, and a burst of correct logins is queued, not locked out.
    login_stripes: Vec<std::sync::Mutex<()>>,
}

const LOGIN_STRIPES: usize = 64;

impl Inner {
    /// [`AuthError::WeakPassword`] when zxcvbn, knowing `context` (username, email), judges
    /// `password` below the configured strength.
    fn check_strength(&self, password: &NewPassword, context: &[&str]) -> Result<(), AuthError> {
        match strength::weakness(password, self.config.password_min_strength, context) {
            Some(why) => Err(AuthError::WeakPassword(why)),
            None => Ok(()),
        }
    }

    fn login_stripe(&self, username: &str) -> std::sync::MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(username);
        let stripe = &self.login_stripes[(hash % LOGIN_STRIPES as u64) as usize];
        // Nothing is left half-done under this lock, so a poisoned one is still usable.
        stripe
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The authentication service. Cheap to clone; share one per process.
///
/// Its async methods never block the caller's executor: bcrypt and store calls run on tokio's
/// blocking pool, so they must be called inside a tokio runtime (actix-web provides one).
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Composes a service from its parts.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        config: AuthConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                hasher,
                issuer,
                verifier,
                config,
                login_stripes: (0..LOGIN_STRIPES)
                    .map(|_| std::sync::Mutex::new(()))
                    .collect(),
            }),
        }
    }

    /// The token verifier (for JWKS and for embedders).
    pub fn verifier(&self) -> &TokenVerifier {
        &self.inner.verifier
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// Runs blocking work (bcrypt, store calls) on the blocking pool.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, AuthError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| AuthError::Internal(format!("blocking task failed: {e}")))?
    }

    /// Creates a user with the `user` role.
    pub async fn register(&self, registration: Registration) -> Result<User, AuthError> {
        let username = Username::parse(&registration.username)?;
        let email = registration
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()?;
        let password = NewPassword::parse(
            registration.password.expose(),
            self.inner.config.password_min_length,
        )?;
        let context: Vec<&str> = [Some(username.as_str()), email.as_ref().map(Email::as_str)]
            .into_iter()
            .flatten()
            .collect();
        self.inner.check_strength(&password, &context)?;
        self.blocking(move |inner| {
            let password_hash = inner.hasher.hash(&password)?;
            let user = inner.store.create_user(NewUser {
                id: UserId::new(),
                username,
                email,
                password_hash,
                role: Role::User,
                created_at: now(),
            })?;
            inner.record(audit::event("register", true).by(user.id).on(user.id));
            Ok(user)
        })
        .await
    }

    /// Checks credentials, opens a session and signs an access token.
    ///
    /// An unknown user costs one bcrypt verification like a wrong password, and both give
    /// [`AuthError::InvalidCredentials`]. A disabled account is reported only after the right
    /// password, so the state of an account is never revealed to someone who does not own it.
    pub async fn login(
        &self,
        attempt: LoginAttempt,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        if !attempt.password.fits_bcrypt() {
            // Independent of the account, so it reveals nothing; and such a password can never
            // have been set.
            return Err(PasswordError::TooLong.into());
        }
        let ttl = self.access_ttl(attempt.expires_in);
        self.blocking(move |inner| {
            let username = Username::parse(&attempt.username).ok();
            // Failures count per name, existing or not, so a lock says nothing about accounts.
            // The attempt is taken (counted) before bcrypt runs, atomically in the store, so
            // that even several server processes cannot let guesses slip past the limit; within
            // this process attempts on one name run one at a time, and a success clears the
            // count before the next one is taken.
            let throttle_key = username.as_ref().map(Username::normalized);
            let _one_at_a_time = throttle_key.as_deref().map(|key| inner.login_stripe(key));
            if let Some(key) = &throttle_key {
                let verdict =
                    inner
                        .store
                        .take_login_attempt(key, &inner.config.lockout, now())?;
                match verdict {
                    AttemptVerdict::Locked(throttle) => {
                        let retry_after = throttle.retry_after(now()).unwrap_or(1);
                        inner.record(
                            audit::event("login", false)
                                .ip(client.ip.clone())
                                .detail(format!("locked; retry after {retry_after}s")),
                        );
                        return Err(AuthError::TooManyAttempts { retry_after });
                    }
                    AttemptVerdict::Counted(throttle) => {
                        if let Some(until) = throttle.locked_until
                            && inner.config.lockout.delay_after(throttle.failures).is_some()
                        {
                            inner.record(
                                audit::event("login.locked", true)
                                    .ip(client.ip.clone())
                                    .detail(format!(
                                        "{} failures; locked until {until} unless this attempt succeeds",
                                        throttle.failures
                                    )),
                            );
                        }
                    }
                }
            }
            let user = match &username {
                Some(username) => inner.store.user_by_username(username)?,
                None => None,
            };
            let audit_failure = |user: Option<UserId>, why: &str| {
                let event = audit::event("login", false)
                    .ip(client.ip.clone())
                    .detail(why);
                inner.record(match user {
                    Some(user) => event.on(user),
                    None => event,
                });
            };
            let Some(user) = user else {
                inner.hasher.verify_dummy(&attempt.password);
                audit_failure(None, "unknown_user");
                return Err(AuthError::InvalidCredentials);
            };
            if !inner.hasher.verify(&attempt.password, &user.password_hash) {
                audit_failure(Some(user.id), "wrong_password");
                return Err(AuthError::InvalidCredentials);
            }
            if let Some(key) = &throttle_key {
                inner.store.clear_login_failures(key)?;
            }
            if !user.is_active {
                audit_failure(Some(user.id), "disabled");
                return Err(AuthError::AccountDisabled);
            }
            let user = inner.upgrade_hash(user, &attempt.password);
            let ip = client.ip.clone();
            let pair = inner.open_session(&user, client, ttl, None)?;
            inner.record(
                audit::event("login", true)
                    .by(user.id)
                    .on(user.id)
                    .ip(ip)
                    .detail("password"),
            );
            Ok(pair)
        })
        .await
    }

    /// Verifies a bearer token, then loads its live session and active user in one store call.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let claims = self.inner.verifier.verify(token)?;
        let (Ok(session_id), Ok(user_id)) =
            (Uuid::parse_str(&claims.sid), Uuid::parse_str(&claims.sub))
        else {
            return Err(TokenError::Claims.into());
        };
        let (session, user) = self
            .blocking(move |inner| Ok(inner.store.session_with_user(SessionId(session_id))?))
            .await?
            .ok_or(TokenError::SessionEnded)?;
        if session.user_id != UserId(user_id) || !session.is_live_at(now()) {
            return Err(TokenError::SessionEnded.into());
        }
        if !user.is_active {
            return Err(TokenError::UserInactive.into());
        }
        Ok(Principal {
            user,
            credential: Credential::Session { session, claims },
            client: ClientInfo::default(),
        })
    }

    /// Ends the caller's session, their other sessions, or all of them.
    pub async fn logout(&self, principal: &Principal, scope: LogoutScope) -> Result<(), AuthError> {
        let (user, session) = (principal.user.id, principal.session()?.0.id);
        let ip = principal.client.ip.clone();
        self.blocking(move |inner| {
            let at = now();
            let ended = match scope {
                LogoutScope::Local => {
                    inner.store.revoke_session(session, at)?;
                    1
                }
                LogoutScope::Others => inner.store.revoke_user_sessions(
                    user,
                    SessionRevocation::AllExcept(session),
                    at,
                )?,
                LogoutScope::Global => {
                    inner
                        .store
                        .revoke_user_sessions(user, SessionRevocation::All, at)?
                }
            };
            inner.record(
                audit::event("logout", true)
                    .by(user)
                    .on(user)
                    .ip(ip)
                    .detail(format!("scope={scope:?}, ended={ended}").to_lowercase()),
            );
            Ok(())
        })
        .await
    }

    /// Exchanges a refresh token for a new access token and a new refresh token (rotation).
    ///
    /// Presenting a token that was rotated longer ago than the grace period is treated as theft:
    /// the whole session is revoked, its access tokens included, and the answer is
    /// [`AuthError::InvalidGrant`].
    pub async fn refresh(
        &self,
        presented: RefreshToken,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        // Ours are 43 characters; anything much longer is not ours and is not worth hashing.
        if presented.expose().len() > 256 {
            return Err(AuthError::InvalidGrant);
        }
        let ttl = self.inner.config.access_ttl;
        self.blocking(move |inner| {
            let replacement = RefreshToken::generate();
            let at = now();
            let outcome = inner.store.rotate_refresh_token(&RefreshRotation {
                presented: presented.digest(),
                replacement: replacement.digest(),
                at,
                reuse_grace: inner.config.refresh_reuse_grace,
                idle_ttl: inner.config.session_idle_ttl,
            })?;
            let (session, user) = match outcome {
                RefreshOutcome::Rotated { session, user } => (session, user),
                RefreshOutcome::ReuseDetected { session, user } => {
                    tracing::warn!(user_id = %user, session_id = %session, "refresh token reuse detected; session revoked");
                    inner.record(
                        audit::event("refresh", false)
                            .on(user)
                            .ip(client.ip)
                            .detail(format!("reuse_detected; session {session} revoked")),
                    );
                    return Err(AuthError::InvalidGrant);
                }
                RefreshOutcome::Invalid => {
                    inner.record(audit::event("refresh", false).ip(client.ip).detail("invalid"));
                    return Err(AuthError::InvalidGrant);
                }
            };
            if !user.is_active {
                inner.record(
                    audit::event("refresh", false)
                        .on(user.id)
                        .ip(client.ip)
                        .detail("disabled"),
                );
                return Err(AuthError::InvalidGrant);
            }
            let (access_token, claims) = inner
                .issuer
                .issue(&user, session.id, ttl, at)
                .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))?;
            inner.record(audit::event("refresh", true).by(user.id).on(user.id).ip(client.ip));
            Ok(TokenPair {
                access_token,
                expires_in: ttl.num_seconds(),
                refresh_token: Some(replacement),
                claims,
            })
        })
        .await
    }

    /// The caller's live sessions, newest first.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>, AuthError> {
        principal.session()?;
        let user = principal.user.id;
        let sessions = self
            .blocking(move |inner| Ok(inner.store.user_sessions(user)?))
            .await?;
        let at = now();
        Ok(sessions.into_iter().filter(|s| s.is_live_at(at)).collect())
    }

    /// Ends one of the caller's own sessions; another user's session is [`AuthError::NotFound`]
    /// (so that its existence is not revealed).
    pub async fn revoke_own_session(
        &self,
        principal: &Principal,
        session: SessionId,
    ) -> Result<(), AuthError> {
        principal.session()?;
        let user = principal.user.id;
        let ip = principal.client.ip.clone();
        self.blocking(move |inner| match inner.store.session_with_user(session)? {
            Some((found, _)) if found.user_id == user && found.revoked_at.is_none() => {
                inner.store.revoke_session(session, now())?;
                inner.record(
                    audit::event("session.revoked", true)
                        .by(user)
                        .on(user)
                        .ip(ip)
                        .detail(format!("session {session}")),
                );
                Ok(())
            }
            _ => Err(AuthError::NotFound),
        })
        .await
    }

    /// Changes the caller's own username, email or password. A new password needs the current
    /// one, and ends every other session of the user.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        update: ProfileUpdate,
    ) -> Result<User, AuthError> {
        let mut changes = UserChanges::at(now());
        changes.username = update
            .username
            .as_deref()
            .map(Username::parse)
            .transpose()?;
        changes.email = update
            .email
            .map(|email| email.as_deref().map(Email::parse).transpose())
            .transpose()?;
        let new_password = update
            .password
            .map(|p| NewPassword::parse(p.expose(), self.inner.config.password_min_length))
            .transpose()?;
        if let Some(new_password) = &new_password {
            let user = &principal.user;
            let username = changes.username.as_ref().unwrap_or(&user.username);
            let email = match &changes.email {
                Some(email) => email.as_ref(),
                None => user.email.as_ref(),
            };
            let context: Vec<&str> = [Some(username.as_str()), email.map(Email::as_str)]
                .into_iter()
                .flatten()
                .collect();
            self.inner.check_strength(new_password, &context)?;
        }
        let current = match (&new_password, update.current_password) {
            (Some(_), None) => return Err(AuthError::CurrentPasswordRequired),
            (_, current) => current,
        };
        let (user, session) = (principal.user.clone(), principal.session()?.0.id);
        let ip = principal.client.ip.clone();
        self.blocking(move |inner| {
            if let (Some(new_password), Some(current)) = (&new_password, &current) {
                if !inner.hasher.verify(current, &user.password_hash) {
                    inner.record(
                        audit::event("password.changed", false)
                            .by(user.id)
                            .on(user.id)
                            .ip(ip.clone())
                            .detail("wrong_current_password"),
                    );
                    return Err(AuthError::InvalidCurrentPassword);
                }
                changes.password_hash = Some(inner.hasher.hash(new_password)?);
            }
            let updated = inner.store.update_user(user.id, &changes)?;
            if changes.password_hash.is_some() {
                let ended = inner.store.revoke_user_sessions(
                    user.id,
                    SessionRevocation::AllExcept(session),
                    changes.updated_at,
                )?;
                inner.record(
                    audit::event("password.changed", true)
                        .by(user.id)
                        .on(user.id)
                        .ip(ip)
                        .detail(format!("other_sessions_ended={ended}")),
                );
            }
            Ok(updated)
        })
        .await
    }

    /// Creates an active admin, or promotes (and re-enables) an existing user, for the CLI.
    /// An existing user's password is left unchanged; `password` is only used to create.
    pub async fn ensure_admin(
        &self,
        username: &str,
        password: Password,
    ) -> Result<(User, AdminOutcome), AuthError> {
        let username = Username::parse(username)?;
        let min = self.inner.config.password_min_length;
        self.blocking(move |inner| {
            if let Some(user) = inner.store.user_by_username(&username)? {
                if user.role == Role::Admin && user.is_active {
                    return Ok((user, AdminOutcome::AlreadyAdmin));
                }
                let mut changes = UserChanges::at(now());
                changes.role = Some(Role::Admin);
                changes.is_active = Some(true);
                let user = inner.store.update_user(user.id, &changes)?;
                inner.record(
                    audit::event("admin.promoted", true)
                        .on(user.id)
                        .detail("cli"),
                );
                return Ok((user, AdminOutcome::Promoted));
            }
            let password = NewPassword::parse(password.expose(), min)?;
            inner.check_strength(&password, &[username.as_str()])?;
            let user = inner.store.create_user(NewUser {
                id: UserId::new(),
                username,
                email: None,
                password_hash: inner.hasher.hash(&password)?,
                role: Role::Admin,
                created_at: now(),
            })?;
            inner.record(
                audit::event("admin.created", true)
                    .on(user.id)
                    .detail("cli"),
            );
            Ok((user, AdminOutcome::Created))
        })
        .await
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

impl Inner {
    /// Replaces a hash made with another cost. A failure is logged, not fatal: the old hash
    /// still works.
    fn upgrade_hash(&self, user: User, verified: &Password) -> User {
        if !self.hasher.needs_rehash(&user.password_hash) {
            return user;
        }
        // Compare-and-set: a password change committed since the verify is never undone.
        let at = now();
        let result = self
            .hasher
            .rehash(verified)
            .map_err(AuthError::from)
            .and_then(|hash| {
                let replaced =
                    self.store
                        .replace_password_hash(user.id, &user.password_hash, &hash, at)?;
                Ok((replaced, hash))
            });
        match result {
            Ok((true, hash)) => {
                tracing::info!(user_id = %user.id, cost = self.hasher.cost(), "password hash upgraded");
                User {
                    password_hash: hash,
                    updated_at: at,
                    ..user
                }
            }
            Ok((false, _)) => user,
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e.log_text(), "password hash upgrade failed");
                user
            }
        }
    }

    /// Opens a session and signs its first access token. A login's session gets a refresh token
    /// and the configured lifetimes; an API-key exchange's session (`via_api_key`) has none,
    /// ends with its access token, and keeps the key's limits.
    pub(crate) fn open_session(
        &self,
        user: &User,
        client: ClientInfo,
        ttl: TimeDelta,
        via_api_key: Option<&ApiKey>,
    ) -> Result<TokenPair, AuthError> {
        let at = now();
        let refresh = via_api_key.is_none().then(RefreshToken::generate);
        let (idle, lifetime) = match via_api_key {
            None => (
                self.config.session_idle_ttl,
                self.config.session_max_lifetime,
            ),
            // Ends with its access token, and never outlives the key.
            Some(key) => {
                let end = key.expires_at.map_or(ttl, |end| (end - at).min(ttl));
                (end, end)
            }
        };
        let session = self.store.create_session(NewSession {
            session: Session {
                id: SessionId::new(),
                user_id: user.id,
                created_at: at,
                last_used_at: at,
                idle_expires_at: at + idle,
                expires_at: at + lifetime,
                revoked_at: None,
                client,
                api_key: via_api_key.map(|key| key.id),
            },
            refresh_token_hash: refresh.as_ref().map(RefreshToken::digest),
        })?;
        let (access_token, claims) = self
            .issuer
            .issue(user, session.id, ttl, at)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))?;
        Ok(TokenPair {
            access_token,
            expires_in: ttl.num_seconds(),
            refresh_token: refresh,
            claims,
        })
    }

    /// Writes an audit event to the store and to the log (`target: "audit"`). A store failure
    /// is logged, not returned: the action it describes has already happened.
    pub(crate) fn record(&self, event: auth_domain::AuditEvent) {
        tracing::info!(
            target: "audit",
            action = %event.action,
            outcome = %event.outcome,
            actor = ?event.actor.map(|u| u.to_string()),
            target_user = ?event.target.map(|u| u.to_string()),
            ip = ?event.ip,
            detail = ?event.detail,
            "audit"
        );
        if let Err(e) = self.store.record(&event) {
            tracing::error!(error = %e, action = %event.action, "audit event not stored");
        }
    }
}
