//! `server.public_url`: where clients reach the server, for the RFC 8414 metadata.

use anyhow::bail;

/// `server.public_url` must be an absolute `http` or `https` URL: a host, perhaps a port and
/// a path, no query, fragment, user name or white space.
pub(super) fn check(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split('/').next().unwrap_or_default());
    let valid = rest.is_some()
        && host.is_some_and(|host| !host.is_empty())
        && !url.contains(['?', '#', '@'])
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        bail!(
            "invalid setting server.public_url (AUTH__SERVER__PUBLIC_URL): {url:?} is not an \
             absolute http(s) URL such as \"https://auth.example.com\""
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{AppEnv, Settings};

    #[test]
    fn public_url_must_be_an_absolute_http_url() {
        for good in ["https://auth.example.com", "http://127.0.0.1:8000/auth/"] {
            let settings = Settings::load(AppEnv::Test, &[("server.public_url", good)]).unwrap();
            assert_eq!(settings.server.public_url.as_deref(), Some(good));
        }
        for bad in [
            "auth.example.com",
            "ftp://x",
            "https://",
            "https://a/?q",
            "https://u@a",
        ] {
            let err = Settings::load(AppEnv::Test, &[("server.public_url", bad)]).unwrap_err();
            assert!(
                format!("{err:#}").contains("server.public_url"),
                "{bad}: {err:#}"
            );
        }
        assert!(
            Settings::load(AppEnv::Test, &[])
                .unwrap()
                .server
                .public_url
                .is_none()
        );
    }
}
