-- Email changes confirmed by a link (issue 19, section 3).

-- The address an email change waits to move to: set when an email_change link is sent to it,
-- cleared when the link is redeemed (the address then becomes users.email) or the address is
-- changed otherwise. Not unique: the first account to confirm an address gets it.
ALTER TABLE users ADD COLUMN pending_email TEXT;
