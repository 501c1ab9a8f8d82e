//! Integers as JSON Schema counts them: `90` and `90.0` are the same integer there (a number
//! whose fraction is zero), while serde refuses a float where an `i64` is expected. A client, or
//! a generator following the OpenAPI document, may write either.

use std::fmt;

use serde::{
    Deserializer,
    de::{Error, Unexpected, Visitor},
};

/// An optional `i64` field: `null` is `None`; an integer, or a float whose fraction is zero
/// and that fits, is the integer; anything else is an error naming what was sent.
pub(crate) fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_option(OptionalInteger)
}

struct OptionalInteger;

impl<'de> Visitor<'de> for OptionalInteger {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<Self::Value, E> {
        i64::try_from(value).map(Some).map_err(|_| {
            E::invalid_value(
                Unexpected::Unsigned(value),
                &"an integer that fits in 64 bits",
            )
        })
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<Self::Value, E> {
        // 2^63 is exactly representable; every integral float strictly between -2^63 and 2^63
        // converts without loss. -2^63 itself is refused: an integer literal below i64::MIN
        // (-9223372036854775809) reaches us as a float rounded to exactly -2^63, and must not
        // pass for i64::MIN (i64::MIN written as an integer is read as an i64, not here).
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if value.fract() == 0.0 && value > -LIMIT && value < LIMIT {
            #[allow(clippy::cast_possible_truncation)] // integral and in range: exact
            Ok(Some(value as i64))
        } else {
            Err(E::invalid_type(Unexpected::Float(value), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional")]
        n: Option<i64>,
    }

    fn read(value: serde_json::Value) -> Result<Option<i64>, String> {
        serde_json::from_value::<Body>(value)
            .map(|body| body.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integral_numbers_are_integers_and_the_rest_is_refused() {
        assert_eq!(read(json!({})), Ok(None));
        assert_eq!(read(json!({"n": null})), Ok(None));
        assert_eq!(read(json!({"n": 90})), Ok(Some(90)));
        assert_eq!(read(json!({"n": -3})), Ok(Some(-3)));
        assert_eq!(read(json!({"n": 90.0})), Ok(Some(90)));
        assert_eq!(read(json!({"n": -0.0})), Ok(Some(0)));
        assert_eq!(
            read(json!({"n": 1e18})),
            Ok(Some(1_000_000_000_000_000_000))
        );
        for bad in [
            json!(1.5),
            json!(1e19),
            json!(u64::MAX),
            json!("9"),
            json!(true),
            json!([1]),
        ] {
            let error = read(json!({ "n": bad })).unwrap_err();
            assert!(error.contains("expected an integer"), "{bad}: {error}");
        }
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_even_when_they_round_into_range() {
        let parse = |text: &str| {
            serde_json::from_str::<Body>(text)
                .map(|body| body.n)
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse(r#"{"n": -9223372036854775808}"#), Ok(Some(i64::MIN)));
        assert_eq!(parse(r#"{"n": 9223372036854775807}"#), Ok(Some(i64::MAX)));
        for text in [
            r#"{"n": -9223372036854775809}"#,
            r#"{"n": -9223372036854775900}"#,
            r#"{"n": -100000000000000000000}"#,
            r#"{"n": 9223372036854775808}"#,
            r#"{"n": 100000000000000000000}"#,
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}
