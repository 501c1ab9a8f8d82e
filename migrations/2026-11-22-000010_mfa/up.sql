-- A second factor (TOTP with recovery codes). users.mfa_enabled is what logins and the
-- credential cache read; it changes only in the transactions that enable or remove the TOTP
-- enrolment below.
ALTER TABLE users ADD COLUMN mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- One TOTP enrolment per user, pending until confirmed_at is set. The secret is sealed by the
-- service (AES-256-GCM with mfa.encryption_key), so the database alone does not reveal it.
-- last_step is the last 30-second step whose code was accepted: only later steps are.
CREATE TABLE mfa_totp (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT
);

-- Recovery codes, as SHA-256 digests; each works once (used_at).
CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);

-- Logins waiting for their second factor: the mfa_token as a SHA-256 digest, bound to the
-- user and to the password hash it was checked against.
CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_check TEXT NOT NULL,
    access_ttl_secs BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    failures INTEGER NOT NULL
);
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);

-- A session opened by a login that passed a second factor: its access tokens, refreshed ones
-- too, carry amr ["pwd", "otp"].
ALTER TABLE sessions ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT FALSE;
