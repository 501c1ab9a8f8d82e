-- The credential generation: moves on with every password change, when a user is disabled and
-- when a second factor is turned on, and never with a hash upgrade. What a credential check
-- produces (a session, an API key, an mfa_token's challenge) is stored only while the user's
-- generation is still the one the check saw, in the same transaction; the change that moves it
-- ends what exists in its own. So nothing checked against an old password outlives the change.
ALTER TABLE users ADD COLUMN credential_generation BIGINT NOT NULL DEFAULT 0;

-- Challenges were bound to a digest of the password hash; now to the generation. Those waiting
-- now (five minutes' worth at most) are dropped: their users log in again.
DELETE FROM mfa_challenges;
ALTER TABLE mfa_challenges DROP COLUMN password_check;
ALTER TABLE mfa_challenges ADD COLUMN credential_generation BIGINT NOT NULL DEFAULT 0;
