-- Failed logins per (lower-cased) username, whether or not the account exists, so that lockout
-- behaves the same for unknown names and reveals nothing.
CREATE TABLE login_throttles (
    username_normalized TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
