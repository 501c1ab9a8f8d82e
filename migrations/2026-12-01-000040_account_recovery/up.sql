-- Account recovery by email (issue 19, section 2).

-- Whether the user has shown they read their address (by redeeming a link sent to it). A new
-- address is not verified; existing addresses start unverified.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Single-use tokens sent by email, as SHA-256 digests: a copy of the database opens nothing.
-- A row is deleted when its token is used or voided (a newer token of the same purpose, any
-- password change for reset tokens), so a row found is unused; expires_at says whether it is
-- still live. email is the address the token was sent to.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX email_tokens_user_id_idx ON email_tokens (user_id, purpose);

-- The messages requests asked for (a forgotten password, an admin's reset), per account: what
-- mail.min_interval_secs and mail.max_per_account_per_hour count, shared by every instance.
-- Rows older than an hour are deleted when the account asks again.
CREATE TABLE mail_requests (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_requests_user_id_idx ON mail_requests (user_id, requested_at);
