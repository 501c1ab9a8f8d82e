DELETE FROM mfa_challenges;
ALTER TABLE mfa_challenges DROP COLUMN credential_generation;
ALTER TABLE mfa_challenges ADD COLUMN password_check TEXT NOT NULL DEFAULT '';
ALTER TABLE users DROP COLUMN credential_generation;
