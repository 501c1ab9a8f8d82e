//! Signing access tokens, with the `status` claim of the Token Status List draft when the
//! request said where lists are published (docs/revocation.md).

use std::time::Duration;

use auth_domain::{Claims, NewStatusEntry, SessionId, TokenStatus, User};
use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    AuthService,
    error::AuthError,
    published::{PublishedStatusList, STATUS_LIST_SIZE, StatusListWindow},
    service::Inner,
};

impl Inner {
    /// Signs an access token for `user` in `session`, valid from `at` for `ttl`, with `amr`
    /// when the session passed a second factor. With an `origin`, the token gets a fresh
    /// status list entry (allocated while the session is live and the user's role and
    /// username are the token's) and the `status` claim pointing at it under
    /// `{origin}/statuslists/`.
    pub(crate) fn sign_access_token(
        &self,
        user: &User,
        session: SessionId,
        ttl: TimeDelta,
        at: DateTime<Utc>,
        mfa: bool,
        origin: Option<&str>,
    ) -> Result<(String, Claims), AuthError> {
        let mut claims = self.issuer.claims(user, session, ttl, at);
        claims.amr = crate::mfa::amr(mfa);
        if let Some(origin) = origin {
            let entry = self.store.allocate_status_entry(&NewStatusEntry {
                session,
                user: user.id,
                role: user.role,
                username: claims.username.clone(),
                expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or(at + ttl),
                at,
                list_size: STATUS_LIST_SIZE,
            })?;
            self.status_lists.know(entry.list);
            claims.status = Some(TokenStatus::list_entry(
                status_list_uri(origin, entry.list),
                entry.idx,
            ));
        }
        let token = self.issuer.sign(&claims).map_err(AuthError::signing)?;
        Ok((token, claims))
    }
}

/// The URL of list `list` published by the server at `origin` (no trailing slash).
pub fn status_list_uri(origin: &str, list: u32) -> String {
    format!("{}/statuslists/{list}", origin.trim_end_matches('/'))
}

impl AuthService {
    /// The status lists this process publishes, for the listener that hears other processes'
    /// changes.
    pub fn status_lists(&self) -> &std::sync::Arc<crate::PublishedStatusLists> {
        &self.inner.status_lists
    }

    /// Status list `id` as published now (brought up to date from the store's announced
    /// changes first); `None` for a list that holds no entries.
    pub async fn published_status_list(
        &self,
        id: u32,
    ) -> Result<Option<PublishedStatusList>, AuthError> {
        self.blocking(move |inner| {
            Ok(inner
                .status_lists
                .get(inner.store.as_ref(), id, auth_domain::now())?)
        })
        .await
    }

    /// The Status List Token publishing `list` at `uri`, signed with the access tokens' key:
    /// `sub` = `uri`, `iat` = `window.iat`, `ttl`. Signed once per list, bits, URL, `ttl`, key
    /// and window, and kept: a request in the same window gets the same token
    /// ([`PublishedStatusLists::signed`](crate::PublishedStatusLists::signed)).
    pub fn sign_status_list(
        &self,
        uri: &str,
        list: &PublishedStatusList,
        ttl: Duration,
        window: StatusListWindow,
    ) -> Result<std::sync::Arc<str>, AuthError> {
        let issuer = &self.inner.issuer;
        let ttl_secs = ttl.as_secs().max(1);
        self.inner
            .status_lists
            .signed(list, uri, issuer.kid(), ttl_secs, window, || {
                let iat = DateTime::from_timestamp(window.iat, 0).unwrap_or_else(auth_domain::now);
                let mut claims = issuer.status_list_claims(uri, &list.list, ttl, iat);
                claims.status_list.lst = list.lst.to_string();
                issuer.sign_status_list(&claims).map_err(AuthError::signing)
            })
    }

    /// The `kid` of the signing key (part of a published list's `ETag`).
    pub fn signing_kid(&self) -> &str {
        self.inner.issuer.kid()
    }
}
