//! Fetching a Status List Token: the [`StatusListFetcher`] an embedder may implement with their
//! own HTTP client, and the default one, [`UreqFetcher`].

use std::{fmt, sync::Arc, time::Duration};

use ureq::{
    Agent,
    http::{StatusCode, header},
    tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider},
};

use crate::status_list::STATUS_LIST_JWT_MEDIA_TYPE;

/// Fetches Status List Tokens over HTTP. Implement it to use your own HTTP client; the
/// checker calls it from its refresh thread, and from a request's thread only for the first
/// fetch of a list (see [`TokenVerifier::verify`](crate::TokenVerifier::verify)).
///
/// An implementation sends `GET uri` with `Accept: application/statuslist+jwt`
/// ([`FetchRequest::ACCEPT`]) and, when [`FetchRequest::if_none_match`] is set,
/// `If-None-Match` with it; it answers [`FetchResponse::NotModified`] for a `304`, the body
/// and the `ETag` for a `200`, and an error for anything else. It must not follow redirects
/// (the checker has already checked the URL against its allow-list), must give up after
/// [`FetchRequest::timeout`], and must not read more than [`FetchRequest::max_bytes`].
pub trait StatusListFetcher: Send + Sync + 'static {
    /// Fetches one Status List Token.
    fn fetch(&self, request: &FetchRequest<'_>) -> Result<FetchResponse, FetchError>;
}

/// What to fetch.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FetchRequest<'a> {
    /// The URL of the list: the `uri` a token referenced, within the allow-list.
    pub uri: &'a str,
    /// The `ETag` of the cached copy, to send as `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// Give up after this long.
    pub timeout: Duration,
    /// Refuse a body longer than this.
    pub max_bytes: usize,
}

impl FetchRequest<'_> {
    /// The `Accept` header to send.
    pub const ACCEPT: &'static str = STATUS_LIST_JWT_MEDIA_TYPE;
}

/// What the publisher answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchResponse {
    /// `200`: a Status List Token (the JWT, as text) and its `ETag`, if any.
    Fetched {
        /// The response body: the compact JWT.
        body: String,
        /// The `ETag` header, as sent.
        etag: Option<String>,
    },
    /// `304 Not Modified`: the cached copy is still current.
    NotModified,
}

/// Why a fetch failed. The text goes to logs; it must not carry secrets (lists and their URLs
/// are public).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError(String);

impl FetchError {
    /// An error with this description.
    pub fn new(reason: impl fmt::Display) -> Self {
        Self(reason.to_string())
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FetchError {}

/// The default fetcher: ureq over rustls with the aws-lc-rs provider (no OpenSSL), trusting
/// Mozilla's root certificates ([`UreqFetcher::new`]) or the ones given
/// ([`UreqFetcher::with_root_certificates`]). It follows no redirect and takes proxies from
/// the usual environment variables.
#[derive(Clone)]
pub struct UreqFetcher {
    agent: Agent,
}

impl fmt::Debug for UreqFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqFetcher").finish_non_exhaustive()
    }
}

impl Default for UreqFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl UreqFetcher {
    /// A fetcher that trusts Mozilla's root certificates (compiled in, from `webpki-roots`).
    pub fn new() -> Self {
        Self::with_roots(RootCerts::WebPki)
    }

    /// A fetcher that trusts only the certificates of `pem` (one or more `CERTIFICATE`
    /// blocks): for a publisher behind a private certificate authority.
    pub fn with_root_certificates(pem: &[u8]) -> Result<Self, FetchError> {
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(cert)) => Some(Ok(cert)),
                Ok(_) => None,
                Err(e) => Some(Err(FetchError::new(e))),
            })
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err(FetchError::new("no certificate in the PEM given"));
        }
        Ok(Self::with_roots(RootCerts::Specific(Arc::new(certs))))
    }

    fn with_roots(roots: RootCerts) -> Self {
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(roots)
            .build();
        let agent = Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!(
                "auth-core/",
                env!("CARGO_PKG_VERSION"),
                " status-list"
            ))
            .build()
            .new_agent();
        Self { agent }
    }
}

impl StatusListFetcher for UreqFetcher {
    fn fetch(&self, request: &FetchRequest<'_>) -> Result<FetchResponse, FetchError> {
        let mut get = self
            .agent
            .get(request.uri)
            .config()
            .timeout_global(Some(request.timeout))
            .build()
            .header(header::ACCEPT, FetchRequest::ACCEPT);
        if let Some(etag) = request.if_none_match {
            get = get.header(header::IF_NONE_MATCH, etag);
        }
        let mut response = get.call().map_err(FetchError::new)?;
        match response.status() {
            StatusCode::NOT_MODIFIED => return Ok(FetchResponse::NotModified),
            StatusCode::OK => {}
            other => return Err(FetchError::new(format!("HTTP status {other}"))),
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case(STATUS_LIST_JWT_MEDIA_TYPE) {
            return Err(FetchError::new(format!(
                "Content-Type {content_type:?} is not {STATUS_LIST_JWT_MEDIA_TYPE}"
            )));
        }
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(request.max_bytes as u64)
            .read_to_string()
            .map_err(FetchError::new)?;
        Ok(FetchResponse::Fetched { body, etag })
    }
}
