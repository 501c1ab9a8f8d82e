//! Importing users from another application (`auth-server import-users`): bcrypt hashes are
//! kept as they are, so users log in with their old passwords, and the next successful login
//! rehashes them at the configured cost (as for any hash of another cost).

use auth_domain::{
    AuditAction, Conflict, Email, NewUser, PasswordHash, Role, StoreError, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    service::AuthService,
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
}

/// What became of one [`ImportedUser`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Created, with an audit event `user.imported`.
    Imported,
    /// Created without its email, which another user has.
    ImportedWithoutEmail,
    /// A user of that name (without regard to case) exists already: left alone.
    Exists,
}

impl AuthService {
    /// Creates `batch`'s users, in order, in one hop to the store: each with its hash as it is,
    /// active, and an audit event `user.imported` (detail `cli`). A user whose name is taken is
    /// left alone ([`ImportOutcome::Exists`]), so running an import again creates nothing twice;
    /// a user whose email is taken is created without it. A hash that is not an importable
    /// bcrypt hash is refused with [`AuthError::InvalidInput`] before anything is written.
    pub async fn import_users(
        &self,
        batch: Vec<ImportedUser>,
    ) -> Result<Vec<ImportOutcome>, AuthError> {
        if let Some(bad) = batch
            .iter()
            .find(|user| !is_importable_bcrypt(user.password_hash.expose()))
        {
            return Err(AuthError::InvalidInput(format!(
                "the password hash of {} is not an importable bcrypt hash",
                bad.username
            )));
        }
        self.blocking(move |inner| {
            let mut outcomes = Vec::with_capacity(batch.len());
            for user in batch {
                let mut new = NewUser {
                    id: UserId::new(),
                    username: user.username,
                    email: user.email,
                    password_hash: user.password_hash,
                    role: user.role,
                    created_at: now(),
                };
                let mut outcome = ImportOutcome::Imported;
                let created = loop {
                    match inner.store.create_user(new.clone()) {
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
                        outcomes.push(outcome);
                    }
                    Err(StoreError::Conflict(Conflict::Username)) => {
                        outcomes.push(ImportOutcome::Exists);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(outcomes)
        })
        .await
    }

    /// For each name, whether a user of that name (without regard to case) exists: what an
    /// import would find, without writing anything (`import-users --dry-run`).
    pub async fn usernames_taken(&self, names: Vec<Username>) -> Result<Vec<bool>, AuthError> {
        self.blocking(move |inner| {
            names
                .iter()
                .map(|name| Ok(inner.store.user_by_username(name)?.is_some()))
                .collect()
        })
        .await
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
