//! Secret settings: never printed, and HMAC secrets judged for guessability.

use std::fmt;

use serde::{Deserialize, Deserializer, de};

use super::strict::{Raw, secret_text};

/// A secret setting: its `Debug` prints nothing of it, and neither does an error about it.
///
/// It is taken verbatim: an environment variable of digits stays those digits.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        secret_text(Raw::deserialize(deserializer)?)
            .map(Secret)
            .map_err(de::Error::custom)
    }
}

/// The least estimated strength, in bits, of an HMAC secret in production.
pub const MIN_HMAC_SECRET_BITS: f64 = 128.0;

/// zxcvbn counts guesses in a `u64`: it never estimates more than 2^64 (about 64 bits).
const ZXCVBN_SATURATED: u64 = u64::MAX;
/// So a secret beyond that is judged in pieces this long (at most 10^16 guesses each).
const PIECE_CHARS: usize = 16;
/// Only this many characters are judged (see [`estimated_bits`]).
const MAX_JUDGED_CHARS: usize = 1024;

/// The estimated strength of `secret` in bits, from zxcvbn: `guesses_log10 × log2(10)`.
///
/// zxcvbn judges only the first 100 characters, and saturates at 2^64 guesses. So: if zxcvbn
/// finds the secret (its first 100 characters) weaker than 2^64 guesses, that is the estimate.
/// Otherwise the secret is cut into 16-character pieces, each judged by zxcvbn knowing the
/// pieces before it (so a repeated piece counts for almost nothing), and their bits are added.
/// Only the first 1024 characters are judged. Judging a prefix errs on the safe side: guessing
/// a secret means guessing its prefix too.
pub fn estimated_bits(secret: &str) -> f64 {
    let bits = |entropy: &zxcvbn::Entropy| entropy.guesses_log10() * std::f64::consts::LOG2_10;
    if secret.is_empty() {
        return 0.0;
    }
    let whole = zxcvbn::zxcvbn(secret, &[]);
    if whole.guesses() < ZXCVBN_SATURATED {
        return bits(&whole);
    }
    let chars: Vec<char> = secret.chars().take(MAX_JUDGED_CHARS).collect();
    let pieces: Vec<String> = chars
        .chunks(PIECE_CHARS)
        .map(|piece| piece.iter().collect())
        .collect();
    let mut total = 0.0;
    for (index, piece) in pieces.iter().enumerate() {
        let earlier: Vec<&str> = pieces[..index].iter().map(String::as_str).collect();
        total += bits(&zxcvbn::zxcvbn(piece, &earlier));
    }
    total
}

/// `None` if `secret` is estimated at [`MIN_HMAC_SECRET_BITS`] or more; otherwise why not,
/// without any of the secret.
pub fn hmac_secret_weakness(secret: &str) -> Option<String> {
    let bits = estimated_bits(secret);
    (bits < MIN_HMAC_SECRET_BITS).then(|| {
        format!(
            "is too guessable: zxcvbn estimates about {bits:.0} bits, at least \
             {MIN_HMAC_SECRET_BITS:.0} are needed; use `auth-server gen-secret` or 64 random \
             hex digits"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterned_and_dictionary_secrets_are_weak() {
        for weak in [
            "a".repeat(32),
            "changeme".repeat(4),
            "password".repeat(8),
            "0123456789".repeat(5),
            "abcdefghijklmnopqrstuvwxyz0123456789".into(),
            "correct-horse-battery-staple-2024".into(),
            // 38 random digits: about 126 bits, just short.
            "98765432109876543210123456789012345678".into(),
            // A patterned start is weak, whatever follows.
            format!("{}{}", "a".repeat(100), "q8Z2kP0vX4mN7rT1wY6u"),
            // Two random-looking halves, the same: as strong as one.
            "q8Z2kP0vX4mN7rT1q8Z2kP0vX4mN7rT1".repeat(2),
            String::new(),
        ] {
            let reason = hmac_secret_weakness(&weak).unwrap_or_else(|| panic!("{weak} passed"));
            assert!(!reason.contains(&weak) || weak.is_empty(), "{reason}");
        }
    }

    #[test]
    fn random_secrets_are_strong() {
        for _ in 0..20 {
            // What `auth-server gen-secret` prints: 64 random bytes, base64url.
            let generated = crate::startup::generate_secret();
            assert_eq!(hmac_secret_weakness(&generated), None, "{generated}");
            // 64 random hex digits (`openssl rand -hex 32`).
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hmac_secret_weakness(&hex), None, "{hex}");
            // Long, with a patterned end: judged piece by piece.
            let long = format!("{generated}{hex}{}", "x".repeat(100));
            assert_eq!(hmac_secret_weakness(&long), None, "{long}");
        }
    }
}
