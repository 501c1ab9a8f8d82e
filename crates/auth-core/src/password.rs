//! bcrypt password hashing with a configurable cost, the 72-byte rule, upgrade detection and a
//! dummy verification for unknown users.

use std::fmt;

use auth_domain::{NewPassword, Password, PasswordHash};

/// Why a hasher could not be built or could not hash.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// bcrypt accepts costs from 4 to 31.
    #[error("bcrypt cost must be between 4 and 31, got {0}")]
    Cost(u32),
    /// bcrypt itself failed (e.g. no randomness for the salt).
    #[error("bcrypt failed: {0}")]
    Bcrypt(String),
}

/// Hashes and verifies passwords with bcrypt.
///
/// Blocking and deliberately slow (≈ 240 ms at cost 12): call it from a blocking pool, never from
/// an async executor thread. [`crate::AuthService`] does so for you.
pub struct PasswordHasher {
    cost: u32,
    // Verified for unknown users, so that "no such user" costs as much as "wrong password".
    dummy: PasswordHash,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with the given bcrypt cost (4–31; 12 or more in production).
    pub fn new(cost: u32) -> Result<Self, HashError> {
        if !(4..=31).contains(&cost) {
            return Err(HashError::Cost(cost));
        }
        let mut seed = [0u8; 24];
        getrandom::fill(&mut seed).map_err(|e| HashError::Bcrypt(e.to_string()))?;
        let dummy = bcrypt::hash(seed, cost).map_err(|e| HashError::Bcrypt(e.to_string()))?;
        Ok(Self {
            cost,
            dummy: PasswordHash::new(dummy),
        })
    }

    /// The configured cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// Hashes a password that passed the length rules.
    pub fn hash(&self, password: &NewPassword) -> Result<PasswordHash, HashError> {
        self.hash_unchecked(password.as_password())
    }

    fn hash_unchecked(&self, password: &Password) -> Result<PasswordHash, HashError> {
        bcrypt::hash(password.expose(), self.cost)
            .map(PasswordHash::new)
            .map_err(|e| HashError::Bcrypt(e.to_string()))
    }

    /// Whether `password` matches `hash`. A password bcrypt would truncate never matches, so two
    /// passwords that share their first 72 bytes can never stand in for each other.
    ///
    /// A failed check against a hash cheaper than the configured cost (one made before the cost
    /// was raised, not yet upgraded) is padded with a dummy verification at the configured
    /// cost, so that a wrong password takes as long as an unknown user's.
    pub fn verify(&self, password: &Password, hash: &PasswordHash) -> bool {
        self.verify_padded(password, hash).0
    }

    /// [`Self::verify`], also saying the highest cost it spent.
    fn verify_padded(&self, password: &Password, hash: &PasswordHash) -> (bool, u32) {
        let stored_cost = hash
            .expose()
            .parse::<bcrypt::HashParts>()
            .map_or(0, |parts| parts.get_cost());
        if password.fits_bcrypt()
            && bcrypt::verify(password.expose(), hash.expose()).unwrap_or(false)
        {
            return (true, stored_cost);
        }
        if stored_cost >= self.cost {
            return (false, stored_cost);
        }
        self.verify_dummy(password);
        (false, self.cost)
    }

    /// Spends the time of one verification without a user, so that timing does not reveal
    /// whether an account exists.
    pub fn verify_dummy(&self, password: &Password) {
        let _ = bcrypt::verify(password.expose(), self.dummy.expose());
    }

    /// Whether `hash` was made with another cost than the configured one (or is unreadable), so
    /// that it should be replaced at the next successful login.
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        hash.expose()
            .parse::<bcrypt::HashParts>()
            .map_or(true, |parts| parts.get_cost() != self.cost)
    }

    /// A fresh hash of a password that just verified, for upgrading a stored hash.
    pub fn rehash(&self, verified: &Password) -> Result<PasswordHash, HashError> {
        self.hash_unchecked(verified)
    }
}

/// The cost of a bcrypt hash (`$2b$12$…` is 12), or `None` when it is not one.
pub fn bcrypt_cost(hash: &PasswordHash) -> Option<u32> {
    hash.expose()
        .parse::<bcrypt::HashParts>()
        .ok()
        .map(|parts| parts.get_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_check_against_a_cheaper_hash_costs_the_configured_cost() {
        let old = PasswordHasher::new(4).unwrap();
        let stale = old.hash(&new_password("correct horse")).unwrap();
        let hasher = PasswordHasher::new(6).unwrap();
        assert_eq!(
            hasher.verify_padded(&Password::new("wrong horse"), &stale),
            (false, 6)
        );
        // The right password is not padded (the upgrade at login rehashes it anyway), and an
        // unreadable hash is padded too.
        assert_eq!(
            hasher.verify_padded(&Password::new("correct horse"), &stale),
            (true, 4)
        );
        assert_eq!(
            hasher.verify_padded(&Password::new("x"), &PasswordHash::new("not bcrypt")),
            (false, 6)
        );
        let current = hasher.hash(&new_password("correct horse")).unwrap();
        assert_eq!(
            hasher.verify_padded(&Password::new("wrong horse"), &current),
            (false, 6)
        );
    }

    fn new_password(raw: &str) -> NewPassword {
        NewPassword::parse(raw, 8).unwrap()
    }

    #[test]
    fn hash_verifies_only_the_right_password() {
        let hasher = PasswordHasher::new(4).unwrap();
        let hash = hasher.hash(&new_password("correct horse")).unwrap();
        assert!(hash.expose().starts_with("$2b$04$"));
        assert!(hasher.verify(&Password::new("correct horse"), &hash));
        assert!(!hasher.verify(&Password::new("correct horsE"), &hash));
    }

    #[test]
    fn passwords_sharing_72_bytes_never_verify_against_each_other() {
        let hasher = PasswordHasher::new(4).unwrap();
        let exactly_72 = "a".repeat(72);
        let hash = hasher.hash(&new_password(&exactly_72)).unwrap();
        assert!(hasher.verify(&Password::new(exactly_72.clone()), &hash));
        // bcrypt alone would accept this one: it ignores byte 73 onwards.
        assert!(bcrypt::verify(format!("{exactly_72}b"), hash.expose()).unwrap());
        assert!(!hasher.verify(&Password::new(format!("{exactly_72}b")), &hash));
    }

    #[test]
    fn a_trailing_nul_cannot_stand_in_for_the_password() {
        let hasher = PasswordHasher::new(4).unwrap();
        let seventy_one = "a".repeat(71);
        let hash = hasher.hash(&new_password(&seventy_one)).unwrap();
        assert!(!hasher.verify(&Password::new(format!("{seventy_one}\0")), &hash));
    }

    #[test]
    fn needs_rehash_when_the_cost_differs() {
        let old = PasswordHasher::new(4).unwrap();
        let new = PasswordHasher::new(5).unwrap();
        let hash = old.hash(&new_password("correct horse")).unwrap();
        assert!(!old.needs_rehash(&hash));
        assert!(new.needs_rehash(&hash));
        assert!(new.needs_rehash(&PasswordHash::new("not a bcrypt hash")));
    }

    #[test]
    fn refuses_costs_bcrypt_does_not_accept() {
        assert!(matches!(PasswordHasher::new(3), Err(HashError::Cost(3))));
        assert!(matches!(PasswordHasher::new(32), Err(HashError::Cost(32))));
    }

    #[test]
    fn debug_shows_the_cost_but_not_the_dummy_hash() {
        let shown = format!("{:?}", PasswordHasher::new(4).unwrap());
        assert!(
            shown.contains("cost: 4") && !shown.contains("$2b$"),
            "{shown}"
        );
    }
}
