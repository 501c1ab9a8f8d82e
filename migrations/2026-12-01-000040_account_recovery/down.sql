DROP TABLE mail_requests;
DROP TABLE email_tokens;
ALTER TABLE users DROP COLUMN email_verified;
