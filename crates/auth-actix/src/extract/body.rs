//! Request bodies whose every failure is the contract's JSON error.

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    body::{BodyStream, to_bytes_limited},
    dev::Payload,
    http::{StatusCode, header},
    web,
};
use serde::de::DeserializeOwned;

use super::{LocalFuture, state};
use crate::{
    HttpSettings,
    error::{ApiError, ErrorCode},
};

/// Reads the whole body, refusing more than the configured limit with 413, and a body that has
/// not arrived whole within `server.body_timeout_secs` with 408 (the connection is closed).
/// Every extractor of a body reads it here, so every route has the deadline.
pub(crate) async fn read_body(
    http: &HttpSettings,
    payload: Payload,
    declared: Option<usize>,
) -> Result<web::Bytes, ApiError> {
    let max_bytes = http.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("Request body must be at most {max_bytes} bytes"),
        )
    };
    if declared.is_some_and(|len| len > max_bytes) {
        return Err(too_large());
    }
    let read = to_bytes_limited(BodyStream::new(payload), max_bytes);
    let Ok(read) = actix_web::rt::time::timeout(http.body_timeout, read).await else {
        return Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTimeout,
            format!(
                "The request body did not arrive within {} s",
                http.body_timeout.as_secs_f64()
            ),
        ));
    };
    match read {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidBody,
            "The request body could not be read",
        )),
        Err(_) => Err(too_large()),
    }
}

pub(crate) fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A JSON object body. Unlike `web::Json`, every failure is the contract's JSON error: 400 for a
/// wrong content type or malformed JSON, 422 for JSON that is not an object (an array, a string,
/// `null`...) and, naming the field, for a missing or mistyped field, 413 beyond
/// `server.max_body_bytes`, 408 when the body is not all there within
/// `server.body_timeout_secs`. Unknown fields are ignored.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req.content_type().to_ascii_lowercase();
        let is_json = content_type == "application/json"
            || (content_type.starts_with("application/") && content_type.ends_with("+json"));
        let state = state(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            let state = state?;
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidContentType,
                    "Content-Type must be application/json",
                ));
            }
            let bytes = read_body(&state.http, payload, declared).await?;
            // Syntax first (400), then shape (422, naming the field), so that each failure is
            // reported as what it is.
            let document: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::MalformedJson,
                    format!("The body is not valid JSON: {e}"),
                )
            })?;
            // serde reads a struct from an array too (`["alice", "pw"]` as a `RegisterBody`):
            // every body of the contract is an object, so nothing else gets that far.
            if !document.is_object() {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationError,
                    "body: must be a JSON object",
                ));
            }
            let value = serde_path_to_error::deserialize(document).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationError,
                    format!("{field}: {}", e.into_inner()),
                )
            })?;
            Ok(JsonBody(value))
        })
    }
}

/// An `application/x-www-form-urlencoded` body, for the OAuth2 token endpoint. Failures are in
/// RFC 6749's format (with `error_description`): 400 `invalid_request`, 413
/// `payload_too_large` beyond `server.max_body_bytes`, or 408 `request_timeout` when the body
/// is not all there within `server.body_timeout_secs`.
#[derive(Debug)]
pub struct FormBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for FormBody<T> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .content_type()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded");
        let state = state(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            let state = state?;
            if !is_form {
                return Err(ApiError::oauth(
                    ErrorCode::InvalidRequest,
                    "Content-Type must be application/x-www-form-urlencoded",
                ));
            }
            let bytes = read_body(&state.http, payload, declared)
                .await
                .map_err(|e| match e.code() {
                    ErrorCode::PayloadTooLarge | ErrorCode::RequestTimeout => e.in_oauth_format(),
                    _ => ApiError::oauth(ErrorCode::InvalidRequest, e.detail().to_owned()),
                })?;
            serde_urlencoded::from_bytes(&bytes)
                .map(FormBody)
                .map_err(|e| {
                    ApiError::oauth(
                        ErrorCode::InvalidRequest,
                        format!("Malformed form body: {e}"),
                    )
                })
        })
    }
}
