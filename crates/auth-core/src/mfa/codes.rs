//! The codes of a second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, what
//! every authenticator app reads), the `otpauth://` URI that enrols an app, and recovery codes.
//! The TOTP arithmetic is totp-rs's; base32 is the `base32` crate's (RFC 4648).

use std::fmt::Write;

use auth_domain::RecoveryCodeHash;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// Seconds per time step.
pub(crate) const STEP_SECS: i64 = 30;
/// Digits of a code.
pub(crate) const DIGITS: usize = 6;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
pub(crate) const SECRET_BYTES: usize = 20;
/// Recovery codes handed out at enrolment.
pub(crate) const RECOVERY_CODES: usize = 10;
/// Random bytes in a recovery code: 80 bits, 16 base32 characters.
const RECOVERY_CODE_BYTES: usize = 10;

const BASE32: base32::Alphabet = base32::Alphabet::Rfc4648 { padding: false };

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness");
    bytes
}

/// A new random secret.
pub(crate) fn new_secret() -> [u8; SECRET_BYTES] {
    random()
}

/// `secret` in base32 without padding, as authenticator apps take it.
pub(crate) fn base32(secret: &[u8]) -> String {
    base32::encode(BASE32, secret)
}

/// The time step of a Unix time.
pub(crate) fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of `secret` for time step `step`.
pub(crate) fn code_at(secret: &[u8], step: i64) -> String {
    // Built for each use and dropped at once: totp-rs's `TOTP` prints its secret in `Debug`.
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECS as u64,
        secret.to_vec(),
    );
    totp.generate(u64::try_from(step).unwrap_or_default() * STEP_SECS as u64)
}

/// The step, of the current one and one either side and later than `last_used`, whose code is
/// `code`; `None` if there is none (wrong, stale or replayed). Each candidate is compared in
/// constant time.
pub(crate) fn matching_step(
    secret: &[u8],
    code: &str,
    now_unix: i64,
    last_used: Option<i64>,
) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now_unix);
    (current - 1..=current + 1)
        .filter(|step| last_used.is_none_or(|last| *step > last))
        .find(|step| bool::from(code_at(secret, *step).as_bytes().ct_eq(code.as_bytes())))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The `otpauth://totp/…` URI (Google Authenticator's key URI format) that enrols an app, with
/// every parameter spelled out.
pub(crate) fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret_base32}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account),
    )
}

/// New recovery codes, shown as `xxxx-xxxx-xxxx-xxxx` (lower-case base32).
pub(crate) fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = base32::encode(BASE32, &random::<RECOVERY_CODE_BYTES>()).to_lowercase();
            let groups: Vec<&str> = [0, 4, 8, 12].iter().map(|i| &raw[*i..*i + 4]).collect();
            groups.join("-")
        })
        .collect()
}

/// The digest stores keep of a recovery code, read as typed: case, spaces and dashes do not
/// matter. `None` for what cannot be one of ours. SHA-256 is enough: a code has 80 random bits.
pub(crate) fn recovery_code_digest(typed: &str) -> Option<RecoveryCodeHash> {
    if typed.len() > 64 {
        return None;
    }
    let normalized: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ours = normalized.len() == 16 && base32::decode(BASE32, &normalized).is_some();
    ours.then(|| RecoveryCodeHash::new(URL_SAFE_NO_PAD.encode(Sha256::digest(normalized))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, Appendix B: the SHA-1 secret and times, with the 8-digit codes there. A
    /// 6-digit code is the 8-digit one modulo 10^6 (RFC 4226 §5.3), i.e. its last six digits.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                code_at(secret, step_of(time)),
                &eight_digits[2..],
                "T = {time}"
            );
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_but_never_an_earlier_one_again() {
        let secret = new_secret();
        let now = 1_700_000_015;
        let current = step_of(now);
        for step in [current - 1, current, current + 1] {
            let code = code_at(&secret, step);
            assert_eq!(matching_step(&secret, &code, now, None), Some(step));
            // Once a step is used, neither it nor an earlier one matches again.
            assert_eq!(matching_step(&secret, &code, now, Some(step)), None);
        }
        let stale = code_at(&secret, current - 2);
        let early = code_at(&secret, current + 2);
        for code in [stale, early] {
            // (Unless it happens to equal a code in the window: one chance in 10^6 each.)
            if (current - 1..=current + 1).all(|s| code_at(&secret, s) != code) {
                assert_eq!(matching_step(&secret, &code, now, None), None);
            }
        }
        for junk in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(matching_step(&secret, junk, now, None), None, "{junk:?}");
        }
    }

    #[test]
    fn secrets_are_160_bits_and_the_uri_names_every_parameter() {
        let secret = new_secret();
        let encoded = base32(&secret);
        assert_eq!(encoded.len(), 32);
        assert_eq!(base32::decode(BASE32, &encoded).unwrap(), secret);
        assert_eq!(
            otpauth_uri("Example Co", "alice", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Example%20Co:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Co\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_are_random_and_read_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let digests: std::collections::HashSet<_> = codes
            .iter()
            .map(|c| recovery_code_digest(c).unwrap())
            .collect();
        assert_eq!(digests.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        let loose = code.to_uppercase().replace('-', " ");
        assert_eq!(recovery_code_digest(&loose), recovery_code_digest(code));
        for junk in ["", "not-a-code", "0000-0000-0000-0000", &"a".repeat(100)] {
            assert_eq!(recovery_code_digest(junk), None, "{junk:?}");
        }
    }
}
