//! `POST /login/mfa`'s body: the `mfa_token` of a `403 mfa_required` and exactly one second
//! factor, each factor in a field of its own. The server reads the fields into
//! [`MfaLoginBody`]; the document describes the body as `oneOf` one shape per factor
//! ([`MfaLoginRequest`]), so that a generated client cannot send two factors, or none, which
//! the server refuses (422). Both follow [`FACTORS`]: a new factor (a passkey, say) is one more
//! entry there, one more field of [`MfaLoginBody`], and one more arm in
//! [`MfaLoginBody::into_parts`].

use actix_web::http::StatusCode;
use auth_core::SecondFactor;
use serde::Deserialize;
#[cfg(feature = "openapi")]
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr, Schema,
        schema::{ObjectBuilder, OneOfBuilder, Type},
    },
};
#[cfg(feature = "openapi")]
use {
    serde_json::{Value, json},
    std::borrow::Cow,
};

use crate::error::{ApiError, ErrorCode};

/// A second factor `POST /login/mfa` takes.
struct Factor {
    /// The body's field that carries it.
    field: &'static str,
    /// The title of its shape (what a generated client names the type).
    #[cfg(feature = "openapi")]
    title: &'static str,
    /// The schema of its field, without the example.
    #[cfg(feature = "openapi")]
    schema: fn() -> ObjectBuilder,
    /// An example of its field.
    #[cfg(feature = "openapi")]
    example: fn() -> Value,
}

/// The second factors, in the order the document lists their shapes.
const FACTORS: [Factor; 2] = [
    Factor {
        field: "code",
        #[cfg(feature = "openapi")]
        title: "MfaLoginWithCode",
        #[cfg(feature = "openapi")]
        schema: || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("A current TOTP code of the user's app (6 digits)."))
        },
        #[cfg(feature = "openapi")]
        example: || json!("492039"),
    },
    Factor {
        field: "recovery_code",
        #[cfg(feature = "openapi")]
        title: "MfaLoginWithRecoveryCode",
        #[cfg(feature = "openapi")]
        schema: || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "One of the user's unused recovery codes (`xxxx-xxxx-xxxx-xxxx`).",
                ))
        },
        #[cfg(feature = "openapi")]
        example: || json!("k7m3-q9p2-x8a4-r6t1"),
    },
];

#[cfg(feature = "openapi")]
const MFA_TOKEN_EXAMPLE: &str = "Jt9fXc2LrV7bN0kWz5yHd8sE1uA4gP6oKmTqRiQ3vYw";

/// `POST /login/mfa` as the server reads it: the fields of every shape, each optional, so that
/// a body with none or several factors is answered with a 422 that says so (see
/// [`MfaLoginBody::into_parts`]).
#[derive(Deserialize)]
pub(crate) struct MfaLoginBody {
    mfa_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

impl MfaLoginBody {
    /// The `mfa_token` and the one second factor sent; 422 `validation_error` for none, or
    /// more than one (a `null` field counts as not sent).
    pub(crate) fn into_parts(self) -> Result<(String, SecondFactor), ApiError> {
        let sent = [
            self.code.map(SecondFactor::Totp),
            self.recovery_code.map(SecondFactor::RecoveryCode),
        ];
        let mut sent = sent.into_iter().flatten();
        match (sent.next(), sent.next()) {
            (Some(factor), None) => Ok((self.mfa_token, factor)),
            _ => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationError,
                format!(
                    "body: send exactly one of {}",
                    FACTORS.map(|factor| factor.field).join(", ")
                ),
            )),
        }
    }
}

/// The document's `MfaLoginRequest`: `oneOf` a shape per factor. Each shape requires
/// `mfa_token` and its factor's field, and allows the other factors' fields only as `null`
/// (as the server reads them: not sent), so that exactly one shape matches a body the server
/// takes, and none matches a body it refuses.
#[cfg(feature = "openapi")]
pub(crate) struct MfaLoginRequest;

#[cfg(feature = "openapi")]
impl PartialSchema for MfaLoginRequest {
    fn schema() -> RefOr<Schema> {
        let mfa_token = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The `mfa_token` of the `403 mfa_required` answer (43 base64url characters; valid \
             5 minutes, for 5 wrong codes).",
            ))
            .build();
        let shapes = FACTORS.iter().map(|factor| {
            let mut shape = ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some(factor.title))
                .required("mfa_token")
                .required(factor.field)
                .property("mfa_token", mfa_token.clone())
                .property(
                    factor.field,
                    (factor.schema)().examples([(factor.example)()]),
                );
            for other in FACTORS.iter().filter(|other| other.field != factor.field) {
                let absent = ObjectBuilder::new()
                    .schema_type(Type::Null)
                    .description(Some(format!("Not with `{}`.", factor.field)));
                shape = shape.property(other.field, absent);
            }
            let mut example = serde_json::Map::new();
            example.insert("mfa_token".to_owned(), json!(MFA_TOKEN_EXAMPLE));
            example.insert(factor.field.to_owned(), (factor.example)());
            shape.examples([Value::Object(example)])
        });
        let one_of = shapes.fold(OneOfBuilder::new(), |one_of, shape| one_of.item(shape));
        RefOr::T(Schema::OneOf(
            one_of
                .description(Some(
                    "`POST /login/mfa`: the `mfa_token` of a `403 mfa_required` answer with \
                     exactly one second factor: a TOTP `code` or a `recovery_code`.",
                ))
                .build(),
        ))
    }
}

#[cfg(feature = "openapi")]
impl ToSchema for MfaLoginRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("MfaLoginRequest")
    }
}
