//! Importing users from another application (`auth-server import-users`): bcrypt hashes are
//! kept as they are, so users log in with their old passwords, and the next successful login
//! rehashes them at the configured cost (as for any hash of another cost). Each import is
//! recorded with the user, so that a later run tells the accounts it imported from names
//! someone else holds, and can bring over a hash changed in the source.

use auth_domain::{
    AuditAction, Conflict, Email, Invalidation, NewUser, PasswordChange, PasswordHash, Role,
    SessionRevocation, StoreError, User, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    password::bcrypt_cost,
    service::{AuthService, Inner},
};

/// Whether `hash` is a bcrypt hash that can be imported and verified: `$2a$`, `$2b$` or `$2y$`,
/// any cost bcrypt accepts (4 to 31), a 22-character salt and a 31-character digest. `$2x$`
/// (the marker of crypt_blowfish's 8-bit bug) and the original `$2$` are not: they may not
/// verify the passwords they were made from.
pub fn is_importable_bcrypt(hash: &str) -> bool {
    let Some(rest) = hash
        .strip_prefix("$2a$")
        .or_else(|| hash.strip_prefix("$2b$"))
        .or_else(|| hash.strip_prefix("$2y$"))
    else {
        return false;
    };
    let bcrypt_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'/';
    let well_formed = hash.is_ascii()
        && hash.len() == 60
        && rest.as_bytes()[2] == b'$'
        && rest[3..].bytes().all(bcrypt_alphabet);
    well_formed
        && rest[..2]
            .parse::<u32>()
            .is_ok_and(|cost| (4..=31).contains(&cost))
        && hash.parse::<bcrypt::HashParts>().is_ok()
}

/// A user to import: parsed, with a hash that [`is_importable_bcrypt`] accepts.
#[derive(Clone, Debug)]
pub struct ImportedUser {
    /// The username.
    pub username: Username,
    /// The bcrypt hash, kept as it is.
    pub password_hash: PasswordHash,
    /// The email, if the source has a valid one.
    pub email: Option<Email>,
    /// The role.
    pub role: Role,
    /// Whether the email counts as verified (`import-users --emails-verified`); default false.
    pub email_verified: bool,
}

/// What became of one [`ImportedUser`].
///
/// When a user of that name (without regard to case) exists here already, what decides is the
/// record of its import ([`auth_domain::UserImport`]): an account without one was not created
/// by an import (someone registered the name, or an admin created it), so the source's user
/// does not own it: [`Self::Conflict`]. An account with one is the source's user, imported
/// earlier: [`Self::Exists`] if the source's hash is the one imported (or brought over) last;
/// otherwise the password changed in the source since, and the hash is replaced with
/// `update_hashes` ([`Self::Updated`]) unless the password was changed here since
/// ([`Self::Kept`]), or left for such a run ([`Self::Outdated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Created, with an audit event `user.imported`.
    Imported,
    /// Created without its email, which another user has.
    ImportedWithoutEmail,
    /// Imported earlier, with the same hash: left alone.
    Exists,
    /// A different account holds the name: one without an import record. Left alone.
    Conflict,
    /// Imported earlier; the source's hash has changed since. Left alone: `update_hashes`
    /// replaces it.
    Outdated,
    /// Imported earlier; the source's new hash replaced ours, as a password change does (every
    /// session and API key of the user ended), with an audit event `password.changed`.
    Updated,
    /// Imported earlier, and the source's hash changed since, but so did the password here (or
    /// the user was disabled, or turned a second factor on: the credential generation moved):
    /// ours is kept.
    Kept,
}

impl AuthService {
    /// Creates `batch`'s users, in order, in one hop to the store: each with its hash as it is,
    /// active, with the record of its import (in the same transaction) and an audit event
    /// `user.imported` (detail `cli`). A user whose name is taken gets the outcome
    /// [`ImportOutcome`] describes, so running an import again creates nothing twice; with
    /// `update_hashes`, hashes changed in the source since an earlier import are brought over.
    /// A user whose email is taken is created without it. A hash that is not an importable
    /// bcrypt hash, or that costs more than [`Self::max_verify_cost`] (it would never be
    /// verified), is refused with [`AuthError::InvalidInput`] before anything is written.
    pub async fn import_users(
        &self,
        batch: Vec<ImportedUser>,
        update_hashes: bool,
    ) -> Result<Vec<ImportOutcome>, AuthError> {
        let max_cost = self.max_verify_cost();
        if let Some(bad) = batch.iter().find(|user| {
            !is_importable_bcrypt(user.password_hash.expose())
                || bcrypt_cost(&user.password_hash).is_some_and(|cost| cost > max_cost)
        }) {
            return Err(AuthError::InvalidInput(format!(
                "the password hash of {} is not an importable bcrypt hash \
                 (or costs more than password.max_verify_cost, {max_cost})",
                bad.username
            )));
        }
        self.blocking(move |inner| {
            let mut outcomes = Vec::with_capacity(batch.len());
            for user in batch {
                outcomes.push(import_one(inner, user, update_hashes)?);
            }
            Ok(outcomes)
        })
        .await
    }

    /// What [`Self::import_users`] would do with each of `batch`'s users, without writing
    /// anything (`import-users --dry-run`). Emails taken by other users are not foreseen.
    pub async fn preview_import(
        &self,
        batch: Vec<ImportedUser>,
        update_hashes: bool,
    ) -> Result<Vec<ImportOutcome>, AuthError> {
        self.blocking(move |inner| {
            batch
                .iter()
                .map(|user| match inner.store.user_by_username(&user.username)? {
                    None => Ok(ImportOutcome::Imported),
                    Some(existing) => Ok(match holder(inner, &existing, user, update_hashes)? {
                        Holder::Replace(_) => ImportOutcome::Updated,
                        Holder::Leave(outcome) => outcome,
                    }),
                })
                .collect()
        })
        .await
    }

    /// The highest bcrypt cost of a hash that is verified at login (and imported):
    /// [`AuthConfig::max_verify_cost`](crate::AuthConfig::max_verify_cost), or the hasher's own
    /// cost if that is higher.
    pub fn max_verify_cost(&self) -> u32 {
        self.inner
            .config
            .max_verify_cost
            .max(self.inner.hasher.cost())
    }
}

/// What to do about the account that holds an imported user's name.
enum Holder {
    Leave(ImportOutcome),
    /// Replace its hash, at the recorded generation.
    Replace(auth_domain::CredentialGeneration),
}

fn holder(
    inner: &Inner,
    existing: &User,
    user: &ImportedUser,
    update_hashes: bool,
) -> Result<Holder, AuthError> {
    let Some(record) = inner.store.user_import(existing.id)? else {
        return Ok(Holder::Leave(ImportOutcome::Conflict));
    };
    Ok(if record.password_hash == user.password_hash {
        Holder::Leave(ImportOutcome::Exists)
    } else if existing.credential_generation != record.generation {
        Holder::Leave(ImportOutcome::Kept)
    } else if update_hashes {
        Holder::Replace(record.generation)
    } else {
        Holder::Leave(ImportOutcome::Outdated)
    })
}

fn import_one(
    inner: &Inner,
    user: ImportedUser,
    update_hashes: bool,
) -> Result<ImportOutcome, AuthError> {
    let mut new = NewUser {
        id: UserId::new(),
        username: user.username.clone(),
        email: user.email.clone(),
        password_hash: user.password_hash.clone(),
        role: user.role,
        created_at: now(),
    };
    let mut outcome = ImportOutcome::Imported;
    let created = loop {
        match inner.store.import_user(new.clone(), user.email_verified) {
            Err(StoreError::Conflict(Conflict::Email)) if new.email.is_some() => {
                new.email = None;
                outcome = ImportOutcome::ImportedWithoutEmail;
            }
            other => break other,
        }
    };
    match created {
        Ok(created) => {
            let detail = match outcome {
                ImportOutcome::ImportedWithoutEmail => "cli; email taken, not kept",
                _ => "cli",
            };
            inner.record(
                audit::event(AuditAction::UserImported, true)
                    .on(created.id)
                    .detail(detail),
            );
            Ok(outcome)
        }
        Err(StoreError::Conflict(Conflict::Username)) => {
            let Some(existing) = inner.store.user_by_username(&user.username)? else {
                // Deleted since: the next run imports it.
                return Ok(ImportOutcome::Conflict);
            };
            let expected = match holder(inner, &existing, &user, update_hashes)? {
                Holder::Leave(outcome) => return Ok(outcome),
                Holder::Replace(expected) => expected,
            };
            // A password change, with its semantics: one transaction moves the generation on,
            // ends every session, revokes every API key and announces the change.
            let change = PasswordChange {
                user: existing.id,
                expected,
                new_hash: user.password_hash,
                sessions: SessionRevocation::All,
                at: now(),
            };
            let changed = inner.store.update_imported_password(&change);
            inner.invalidate(Invalidation::User(existing.id));
            match changed {
                Ok(changed) => {
                    inner.record(
                        audit::event(AuditAction::PasswordChanged, true)
                            .on(existing.id)
                            .detail(format!(
                                "cli; import-users --update-hashes; sessions_ended={}, api_keys_revoked={}",
                                changed.ended_sessions.len(),
                                changed.revoked_api_keys.len()
                            )),
                    );
                    Ok(ImportOutcome::Updated)
                }
                // Changed here (or disabled) since it was read.
                Err(StoreError::CredentialsChanged) => Ok(ImportOutcome::Kept),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT_AND_DIGEST: &str = "UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96";

    #[test]
    fn the_three_bcrypt_prefixes_at_any_cost_are_importable() {
        for prefix in ["2a", "2b", "2y"] {
            for cost in ["04", "10", "12", "31"] {
                let hash = format!("${prefix}${cost}${SALT_AND_DIGEST}");
                assert!(is_importable_bcrypt(&hash), "{hash}");
            }
        }
    }

    #[test]
    fn anything_else_is_not() {
        for hash in [
            String::new(),
            "plaintext-password".into(),
            format!("$2x$04${SALT_AND_DIGEST}"),
            format!("$2$04${SALT_AND_DIGEST}"),
            format!("$2b$03${SALT_AND_DIGEST}"),
            format!("$2b$32${SALT_AND_DIGEST}"),
            format!("$2b$4${SALT_AND_DIGEST}"),
            format!("$2b$04${SALT_AND_DIGEST}x"),
            format!("$2b$04${}", &SALT_AND_DIGEST[1..]),
            format!("$2b$04${}!", &SALT_AND_DIGEST[1..]),
            format!("$2b$04${}é", &SALT_AND_DIGEST[2..]),
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
            "pbkdf2_sha256$600000$salt$hash".into(),
            "5f4dcc3b5aa765d61d8327deb882cf99".into(),
        ] {
            assert!(!is_importable_bcrypt(&hash), "{hash}");
        }
    }

    #[test]
    fn bcrypt_verifies_2a_and_2y_hashes_as_2b() {
        // The same password and salt under each prefix: the crate verifies all three.
        let password = "correct horse battery";
        let b = bcrypt::hash_with_salt(password, 4, [7u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        for prefix in ["$2a$", "$2y$", "$2b$"] {
            let hash = format!("{prefix}{}", &b[4..]);
            assert!(is_importable_bcrypt(&hash));
            assert!(bcrypt::verify(password, &hash).unwrap(), "{hash}");
            assert!(!bcrypt::verify("wrong horse battery", &hash).unwrap());
        }
        // A $2a$ hash made by another implementation (the crate's own test vector).
        let foreign = format!("$2a$04${SALT_AND_DIGEST}");
        assert!(bcrypt::verify("password", &foreign).unwrap());
    }
}
