//! Account recovery by email: asking for a reset link, and setting a new password with it.

#[cfg(feature = "openapi")]
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use serde_json::json;
#[cfg(feature = "openapi")]
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr, Schema,
        schema::{ObjectBuilder, OneOfBuilder, Type},
    },
};

/// `POST /password/forgot` as the server reads it: both fields optional, so that a body with
/// neither or both is answered with a 422 that says so. The document describes it as
/// [`ForgotPasswordRequest`].
#[derive(Deserialize)]
pub(crate) struct ForgotPasswordBody {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// The document's `ForgotPasswordRequest`: `oneOf` a shape with `email` and a shape with
/// `username`, each allowing the other field only as `null` (not sent), so that exactly one
/// shape matches a body the server takes and none matches one it refuses.
#[cfg(feature = "openapi")]
pub(crate) struct ForgotPasswordRequest;

#[cfg(feature = "openapi")]
impl PartialSchema for ForgotPasswordRequest {
    fn schema() -> RefOr<Schema> {
        let email = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The account's address (any case)."))
                .max_length(Some(254))
                .pattern(Some(
                    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
                ))
                .examples([json!("alice@example.com")])
        };
        let username = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The account's username (any case)."))
                .pattern(Some(r"^[A-Za-z0-9_.-]{3,32}$"))
                .examples([json!("alice")])
        };
        let absent = |with: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Null)
                .description(Some(format!("Not with `{with}`.")))
        };
        let by_email = ObjectBuilder::new()
            .schema_type(Type::Object)
            .title(Some("ForgotPasswordByEmail"))
            .required("email")
            .property("email", email())
            .property("username", absent("email"))
            .examples([json!({"email": "alice@example.com"})]);
        let by_username = ObjectBuilder::new()
            .schema_type(Type::Object)
            .title(Some("ForgotPasswordByUsername"))
            .required("username")
            .property("username", username())
            .property("email", absent("username"))
            .examples([json!({"username": "alice"})]);
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(by_email)
                .item(by_username)
                .description(Some(
                    "`POST /password/forgot`: the account's `email` or its `username`, exactly one.",
                ))
                .build(),
        ))
    }
}

#[cfg(feature = "openapi")]
impl ToSchema for ForgotPasswordRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ForgotPasswordRequest")
    }
}

/// `POST /password/reset`: the token from the link, and the new password.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ResetPasswordRequest, example = json!({
    "token": "k3QxZ9vLrT2mWq8sYb4nHc6dJf0pGa1eUo5iKz7yXw_",
    "new_password": "a new horse battery staple"
})))]
pub(crate) struct ResetPasswordBody {
    /// The `token` query parameter of the link in the `password_reset` message.
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub token: String,
    /// At least `password.min_length` characters, at most 72 bytes of UTF-8, and strong enough
    /// (zxcvbn score `password.min_strength`): the rules of registration.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 8, max_length = 72, pattern = r"^[^\u0000]*$")
    )]
    pub new_password: String,
}

/// What `POST /password/forgot` and `POST /admin/users/{id}/password-reset` answer.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Accepted, example = json!({"detail": "If an account matches, a message is on its way"})))]
pub(crate) struct AcceptedResponse {
    /// What happens next, in words.
    pub detail: &'static str,
}

/// `POST /email/verify`: the token from an `email_verification` or `email_change` link.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = VerifyEmailRequest, example = json!({
    "token": "k3QxZ9vLrT2mWq8sYb4nHc6dJf0pGa1eUo5iKz7yXw_"
})))]
pub(crate) struct VerifyEmailBody {
    /// The `token` query parameter of the link (`{mail.link_base}/verify-email?token=…`).
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub token: String,
}
