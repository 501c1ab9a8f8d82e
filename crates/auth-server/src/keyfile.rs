//! What a PEM key file holds, so that a key of the wrong kind is reported as what it is
//! ("an EC P-256 key (for ES256)") instead of as an unusable key.

use auth_core::Algorithm;
use base64::{Engine, engine::general_purpose::STANDARD};

/// The kinds of key a PEM file may hold, as far as choosing an algorithm goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA (RS256/384/512, PS256/384/512).
    Rsa,
    /// EC on P-256 (ES256).
    P256,
    /// EC on P-384 (ES384).
    P384,
    /// EC on another curve (none of our algorithms).
    OtherCurve,
    /// Ed25519 (EdDSA).
    Ed25519,
    /// A certificate, not a key.
    Certificate,
    /// A PEM block of some other kind, or a key of an algorithm we do not know.
    Unknown,
}

impl KeyKind {
    /// What it is, for a person: "an EC P-256 key (for ES256)".
    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::Rsa => "an RSA key (for RS256, RS384, RS512, PS256, PS384 or PS512)",
            KeyKind::P256 => "an EC P-256 key (for ES256)",
            KeyKind::P384 => "an EC P-384 key (for ES384)",
            KeyKind::OtherCurve => "an EC key on a curve no supported algorithm uses",
            KeyKind::Ed25519 => "an Ed25519 key (for EdDSA)",
            KeyKind::Certificate => "a certificate, not a key (give the key file)",
            KeyKind::Unknown => "a PEM block of an unknown kind",
        }
    }

    /// Whether a key of this kind can be used with `algorithm`.
    pub fn fits(self, algorithm: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            KeyKind::Rsa => matches!(algorithm, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            KeyKind::P256 => algorithm == ES256,
            KeyKind::P384 => algorithm == ES384,
            KeyKind::Ed25519 => algorithm == EdDSA,
            KeyKind::OtherCurve | KeyKind::Certificate | KeyKind::Unknown => false,
        }
    }
}

// DER encodings of the object identifiers that name a key's algorithm (and an EC key's curve).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The kind of key in the first PEM block of `pem`; `None` when it is not PEM at all.
pub fn kind_of(pem: &[u8]) -> Option<KeyKind> {
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label = &rest[..rest.find("-----")?];
    let body_start = rest.find('\n')? + 1;
    let end = rest.find("-----END ")?;
    let body: String = rest
        .get(body_start..end)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).unwrap_or_default();
    let ec = |der: &[u8]| {
        if contains(der, P256) {
            KeyKind::P256
        } else if contains(der, P384) {
            KeyKind::P384
        } else {
            KeyKind::OtherCurve
        }
    };
    Some(match label {
        "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => KeyKind::Rsa,
        "EC PRIVATE KEY" => ec(&der),
        "CERTIFICATE" | "TRUSTED CERTIFICATE" => KeyKind::Certificate,
        "PRIVATE KEY" | "PUBLIC KEY" => {
            if contains(&der, RSA_ENCRYPTION) || contains(&der, RSASSA_PSS) {
                KeyKind::Rsa
            } else if contains(&der, EC_PUBLIC_KEY) {
                ec(&der)
            } else if contains(&der, ED25519) {
                KeyKind::Ed25519
            } else {
                KeyKind::Unknown
            }
        }
        _ => KeyKind::Unknown,
    })
}

/// Why `pem`, read from `path` as `role` for `algorithm`, cannot be that key, if its kind says
/// so: "jwt.private_key_file data/es.pem holds an EC P-256 key (for ES256), not a key for
/// RS256".
pub fn mismatch(
    role: &str,
    path: &std::path::Path,
    pem: &[u8],
    algorithm: Algorithm,
) -> Option<String> {
    let shown = path.display();
    match kind_of(pem) {
        None => Some(format!(
            "{role} {shown} is not a PEM file (expected -----BEGIN … KEY-----)"
        )),
        Some(kind) if !kind.fits(algorithm) => Some(format!(
            "{role} {shown} holds {}, not a key for {algorithm:?}",
            kind.describe()
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_recognised_by_kind() {
        for (algorithm, kind) in [
            (Algorithm::RS256, KeyKind::Rsa),
            (Algorithm::ES256, KeyKind::P256),
            (Algorithm::ES384, KeyKind::P384),
            (Algorithm::EdDSA, KeyKind::Ed25519),
        ] {
            let pair = auth_core::generate_key_pair(algorithm).unwrap();
            assert_eq!(
                kind_of(pair.private_pem.as_bytes()),
                Some(kind),
                "{algorithm:?}"
            );
            assert_eq!(
                kind_of(pair.public_pem.as_bytes()),
                Some(kind),
                "{algorithm:?}"
            );
            assert!(kind.fits(algorithm));
        }
        assert!(!KeyKind::P256.fits(Algorithm::RS256));
        assert_eq!(kind_of(b"not a key"), None);
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(kind_of(cert.as_bytes()), Some(KeyKind::Certificate));
    }
}
