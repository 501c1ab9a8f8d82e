-- Token Status List entries (docs/revocation.md): one per access token issued with a `status`
-- claim (a session's entry changes at each refresh). `status` 0 is VALID and 1 INVALID, set in
-- the transaction of any change after which the token's claims no longer hold: its session
-- ended, its user disabled or deleted, the user's role or username changed. No foreign keys:
-- an entry outlives its session and user until its token has expired, and is then reused.
CREATE TABLE status_list_entries (
    list_id INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    session_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    username TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    status SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_list_entries_session_idx ON status_list_entries (session_id);
CREATE INDEX status_list_entries_user_idx ON status_list_entries (user_id);
CREATE INDEX status_list_entries_revoked_idx ON status_list_entries (status, expires_at);
