//! Secret settings: never printed.

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
