//! Strict deserializers for settings.
//!
//! Asked for a number or a boolean, the `config` crate converts whatever it holds: `"true"`
//! becomes 1, `false` becomes 0, `1.5` becomes 2. A mistyped value would then silently mean
//! something else (`password.min_strength = false` turned the strength check off). These
//! functions look at the raw kind of a value instead (`deserialize_any`) and accept only:
//!
//! - integers: a TOML integer, or a string of decimal digits (an environment variable), within
//!   the range the setting gives;
//! - booleans: a TOML boolean, or the string `true` or `false`;
//! - strings: a string, used verbatim (environment variables are never parsed);
//! - lists: a TOML array, or a comma-separated string.
//!
//! Errors say what was expected; `config` adds the setting's name.

use std::{fmt, marker::PhantomData, str::FromStr};

use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

/// A value as its source gave it.
#[derive(Debug, PartialEq)]
pub(super) enum Raw {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    Seq(Vec<Raw>),
    Table,
    Nothing,
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::Int(n) => write!(f, "the integer {n}"),
            Raw::Float(x) => write!(f, "the number {x}"),
            Raw::Bool(b) => write!(f, "the boolean {b}"),
            Raw::Str(s) if s.chars().count() > 40 => {
                write!(f, "a {}-character string", s.chars().count())
            }
            Raw::Str(s) => write!(f, "{s:?}"),
            Raw::Seq(_) => f.write_str("a list"),
            Raw::Table => f.write_str("a table"),
            Raw::Nothing => f.write_str("nothing"),
        }
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        // Beyond every range a setting allows; saturating keeps the "out of range" message.
        Ok(Raw::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Nothing)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Nothing)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Raw::Table)
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

/// An integer in `min..=max` that fits `T`, from a TOML integer or a string of digits.
pub(super) fn ranged<T: TryFrom<i128>>(raw: Raw, min: i128, max: i128) -> Result<T, String> {
    let value = match &raw {
        Raw::Int(n) => Some(*n),
        Raw::Str(s) if is_integer_text(s) => s.parse::<i128>().ok(),
        _ => None,
    };
    value
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("expected an integer from {min} to {max}, got {raw}"))
}

/// An optional minus sign, then decimal digits, and nothing else (no spaces, no `+`, no `_`).
fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `deserialize_with` for an integer setting in `MIN..=MAX`.
pub(super) fn int<'de, D, T, const MIN: i128, const MAX: i128>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    ranged(Raw::deserialize(d)?, MIN, MAX).map_err(de::Error::custom)
}

/// `deserialize_with` for an optional integer setting in `MIN..=MAX` (use with `default`).
pub(super) fn option_int<'de, D, T, const MIN: i128, const MAX: i128>(
    d: D,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    match Option::<Raw>::deserialize(d)? {
        None | Some(Raw::Nothing) => Ok(None),
        Some(raw) => ranged(raw, MIN, MAX).map(Some).map_err(de::Error::custom),
    }
}

fn boolean_of(raw: Raw) -> Result<bool, String> {
    match raw {
        Raw::Bool(b) => Ok(b),
        Raw::Str(s) if s == "true" => Ok(true),
        Raw::Str(s) if s == "false" => Ok(false),
        other => Err(format!("expected true or false, got {other}")),
    }
}

/// `deserialize_with` for a boolean setting.
pub(super) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    boolean_of(Raw::deserialize(d)?).map_err(de::Error::custom)
}

/// `deserialize_with` for a setting that is one of a few words (`T::from_str` says which, and
/// its error what is expected).
pub(super) fn parsed<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = String>,
{
    let raw = Raw::deserialize(d)?;
    let shown = raw.to_string();
    let text: String = text_of(raw).map_err(de::Error::custom)?;
    text.parse()
        .map_err(|expected| de::Error::custom(format!("{expected}, got {shown}")))
}

/// `deserialize_with` for an optional boolean setting (use with `default`).
pub(super) fn option_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Raw>::deserialize(d)? {
        None | Some(Raw::Nothing) => Ok(None),
        Some(raw) => boolean_of(raw).map(Some).map_err(de::Error::custom),
    }
}

fn text_of<T: From<String>>(raw: Raw) -> Result<T, String> {
    match raw {
        Raw::Str(s) => Ok(T::from(s)),
        other => Err(format!(
            "expected a string (put it in quotes in a TOML file), got {other}"
        )),
    }
}

/// `deserialize_with` for a string or path setting: a string, taken verbatim.
pub(super) fn text<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<T, D::Error> {
    text_of(Raw::deserialize(d)?).map_err(de::Error::custom)
}

/// `deserialize_with` for an optional string or path setting (use with `default`).
pub(super) fn option_text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<String>,
{
    match Option::<Raw>::deserialize(d)? {
        None | Some(Raw::Nothing) => Ok(None),
        Some(raw) => text_of(raw).map(Some).map_err(de::Error::custom),
    }
}

/// A string that is never shown, even when it has the wrong kind.
pub(super) fn secret_text(raw: Raw) -> Result<String, String> {
    match raw {
        Raw::Str(s) => Ok(s),
        _ => Err("expected a string (put it in quotes in a TOML file); \
                  the value is secret and not shown"
            .into()),
    }
}

/// `deserialize_with` for a list setting: a TOML array of strings, or one comma-separated
/// string (as in an environment variable); blank items are skipped.
pub(super) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let items: Vec<String> = match Raw::deserialize(d)? {
        Raw::Str(s) => s.split(',').map(|item| item.trim().to_owned()).collect(),
        Raw::Seq(items) => items
            .into_iter()
            .map(text_of::<String>)
            .collect::<Result<_, _>>()
            .map_err(de::Error::custom)?,
        other => {
            return Err(de::Error::custom(format!(
                "expected a list (comma-separated in an environment variable), got {other}"
            )));
        }
    };
    items
        .iter()
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .map_err(|e| de::Error::custom(format!("{item:?} in the list is invalid: {e}")))
        })
        .collect()
}

/// `deserialize_with` that keeps `T`'s own rules but never prints a string given in its place
/// (e.g. `jwt.keys`, which holds secrets, set from an environment variable).
pub(super) fn not_from_text<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct NotText<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for NotText<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of tables, set in a config file")
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
            Err(E::custom(
                "expected a list of tables, which only a config file can give (see \
                 docs/keys.md); the string given is not shown",
            ))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
            T::deserialize(de::value::SeqAccessDeserializer::new(seq))
        }
    }
    d.deserialize_any(NotText(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str(s: &str) -> Raw {
        Raw::Str(s.into())
    }

    #[test]
    fn integers_come_only_from_integers_or_digit_strings() {
        assert_eq!(ranged::<u8>(Raw::Int(3), 0, 4), Ok(3));
        assert_eq!(ranged::<u8>(str("4"), 0, 4), Ok(4));
        assert_eq!(ranged::<i64>(str("-2"), -5, 5), Ok(-2));
        for bad in [
            str("true"),
            str("false"),
            str("1.5"),
            str(" 1"),
            str("+1"),
            str("1_000"),
            str(""),
            str("-"),
            Raw::Bool(false),
            Raw::Float(1.0),
            Raw::Seq(vec![]),
            Raw::Nothing,
        ] {
            let shown = bad.to_string();
            let err = ranged::<u8>(bad, 0, 4).unwrap_err();
            assert!(err.contains("expected an integer from 0 to 4"), "{err}");
            assert!(err.contains(&shown), "{err}");
        }
    }

    #[test]
    fn integers_outside_the_range_or_the_type_are_refused() {
        assert!(ranged::<u8>(Raw::Int(5), 0, 4).is_err());
        assert!(ranged::<usize>(str("0"), 1, 1024).is_err());
        assert!(ranged::<u16>(str("65536"), 0, 70_000).is_err());
        let huge = "9".repeat(60);
        assert!(
            ranged::<i64>(str(&huge), 1, 10)
                .unwrap_err()
                .contains("60-character")
        );
    }

    #[test]
    fn booleans_are_only_true_or_false() {
        assert_eq!(boolean_of(str("true")), Ok(true));
        assert_eq!(boolean_of(Raw::Bool(false)), Ok(false));
        for bad in [str("1"), str("yes"), str("TRUE"), Raw::Int(1)] {
            assert!(boolean_of(bad).unwrap_err().contains("true or false"));
        }
    }

    #[test]
    fn a_secret_of_the_wrong_kind_is_not_shown() {
        let err = secret_text(Raw::Int(987_654_321)).unwrap_err();
        assert!(!err.contains("987654321"), "{err}");
    }
}
