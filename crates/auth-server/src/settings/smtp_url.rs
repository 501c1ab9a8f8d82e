//! `mail.smtp_url`: lettre's URL form, checked before lettre reads it, and shown only without
//! its password.
//!
//! lettre reads `smtp://[user[:password]@]host[:port][/ehlo-name][?tls=required|opportunistic]`
//! or `smtps://…`. Some mistakes there would silently weaken delivery: `?tsl=required` (a typo)
//! means no TLS at all, and a password with an unescaped `/` makes the rest of it the EHLO name,
//! sent to the server in clear and printed in its logs. So a URL is refused unless lettre reads
//! it exactly as written, and every message about it shows it as
//! `smtp://user:***@host:587?tls=required`.

use std::{fmt, net::IpAddr};

use url::{Host, Url};

/// How a connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtp://` without `tls`: no TLS at all.
    None,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it, else in clear.
    Opportunistic,
    /// `smtp://…?tls=required`: STARTTLS, or no delivery.
    Required,
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Wrapper,
}

impl SmtpTls {
    /// Whether a connection is always encrypted.
    pub fn always(self) -> bool {
        matches!(self, SmtpTls::Required | SmtpTls::Wrapper)
    }
}

/// A checked `mail.smtp_url`. `Debug` and `Display` show it with its password as `***`.
#[derive(Clone)]
pub struct SmtpUrl {
    raw: String,
    redacted: String,
    host: String,
    loopback: bool,
    tls: SmtpTls,
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl SmtpUrl {
    /// Checks `raw`. The error says what is wrong and shows the URL without its password.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let redacted = redacted(raw);
        let refuse = |why: &str| Err(format!("{why}; got {redacted}"));
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return refuse("it has white space: percent-encode a space in the password as %20");
        }
        let Some((_, rest)) = raw.split_once("://") else {
            return Err("expected smtp://… or smtps://… (the value is not shown)".into());
        };
        if let Some((userinfo, _)) = rest.rsplit_once('@')
            && userinfo.contains(['@', '/', '?', '#'])
        {
            return refuse(
                "the user name or password has an unescaped @, /, ? or #: percent-encode it \
                 (%40, %2F, %3F, %23)",
            );
        }
        let url = match Url::parse(raw) {
            Ok(url) => url,
            Err(e) => return refuse(&format!("not a URL ({e})")),
        };
        let tls_values: Vec<String> = url
            .query_pairs()
            .filter(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned())
            .collect();
        if let Some((key, _)) = url.query_pairs().find(|(key, _)| key != "tls") {
            return refuse(&format!(
                "unknown parameter {key:?}: the only one is tls=required or tls=opportunistic"
            ));
        }
        let tls = match (url.scheme(), tls_values.as_slice()) {
            ("smtp", []) => SmtpTls::None,
            ("smtp", [value]) if value == "opportunistic" => SmtpTls::Opportunistic,
            ("smtp", [value]) if value == "required" => SmtpTls::Required,
            ("smtps", []) => SmtpTls::Wrapper,
            ("smtp", _) => return refuse("tls must be given once, as required or opportunistic"),
            ("smtps", _) => return refuse("smtps:// is TLS from the start: drop ?tls="),
            _ => return refuse("expected smtp:// or smtps://"),
        };
        let host = match url.host() {
            Some(Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return refuse("no host"),
        };
        let loopback = match host.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => host.eq_ignore_ascii_case("localhost"),
        };
        // lettre sends the path as the EHLO name: allow a host name there, nothing else.
        let ehlo = url.path().trim_matches('/');
        if !ehlo.is_empty()
            && !ehlo
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return refuse("the path (lettre's EHLO name) may only be a host name");
        }
        if url.fragment().is_some() {
            return refuse("a URL fragment (#…) means nothing here");
        }
        match url.password() {
            Some(password) if percent_decodes(password) && percent_decodes(url.username()) => {}
            Some(_) => {
                return refuse(
                    "the user name or password has a % that does not start a valid escape \
                     of UTF-8: write % itself as %25",
                );
            }
            None if !url.username().is_empty() => {
                return refuse(
                    "a user name without a password (lettre would not log in): give \
                     user:password@ or neither",
                );
            }
            None => {}
        }
        Ok(Self {
            raw: raw.to_owned(),
            redacted,
            host,
            loopback,
            tls,
        })
    }

    /// The URL as given, password included: for lettre only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The host (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// How connections are protected.
    pub fn tls(&self) -> SmtpTls {
        self.tls
    }
}

/// `raw` with everything after the first `:` of its user-info (the password) as `***`; the
/// user-info is what comes before the last `@`. Without `://`, nothing of it is shown.
fn redacted(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return "(a value that is not a URL; not shown)".into();
    };
    match rest.rsplit_once('@') {
        None => raw.to_owned(),
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) if !user.contains(['/', '?', '#']) => {
                format!("{scheme}://{user}:***@{host}")
            }
            Some(_) => format!("{scheme}://***@{host}"),
            None => format!("{scheme}://{userinfo}@{host}"),
        },
    }
}

/// Whether `s` percent-decodes to UTF-8 with every `%` starting an escape (as lettre needs).
fn percent_decodes(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => decoded.push(byte),
                None => return false,
            }
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lettres_forms_are_read_with_their_tls() {
        for (raw, tls, host, loopback) in [
            ("smtp://127.0.0.1:2525", SmtpTls::None, "127.0.0.1", true),
            (
                "smtp://u:p@mail.example.com:587?tls=required",
                SmtpTls::Required,
                "mail.example.com",
                false,
            ),
            (
                "smtp://mail.example.com?tls=opportunistic",
                SmtpTls::Opportunistic,
                "mail.example.com",
                false,
            ),
            (
                "smtps://u:p%40x@mail.example.com",
                SmtpTls::Wrapper,
                "mail.example.com",
                false,
            ),
            (
                "smtp://[::1]:25/client.example.com",
                SmtpTls::None,
                "::1",
                true,
            ),
            ("smtp://LocalHost", SmtpTls::None, "LocalHost", true),
        ] {
            let url = SmtpUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(url.tls(), tls, "{raw}");
            assert_eq!(url.host(), host, "{raw}");
            assert_eq!(url.is_loopback(), loopback, "{raw}");
            assert_eq!(url.expose(), raw);
        }
    }

    #[test]
    fn urls_lettre_would_read_otherwise_are_refused_without_the_password() {
        for (raw, why) in [
            (
                "smtp://u:Pw0rd1@mail.example.com?tsl=required",
                "unknown parameter \"tsl\"",
            ),
            (
                "smtp://u:Pw0rd1@mail.example.com?tls=yes",
                "tls must be given once",
            ),
            (
                "smtp://u:Pw0rd1@mail.example.com?tls=required&tls=opportunistic",
                "tls must be given once",
            ),
            (
                "smtps://u:Pw0rd1@mail.example.com?tls=required",
                "drop ?tls=",
            ),
            ("smtp://u:Pw/0rd1@mail.example.com", "unescaped"),
            ("smtp://u:Pw@0rd1@mail.example.com", "unescaped"),
            ("smtp://u:Pw0rd1%zz@mail.example.com", "valid escape"),
            ("smtp://u:Pw0rd1@mail.example.com:99999", "not a URL"),
            ("smtp://u:Pw0rd1@/x", "not a URL"),
            ("smtp://u:Pw 0rd1@mail.example.com", "white space"),
            ("http://u:Pw0rd1@mail.example.com", "expected smtp://"),
            ("smtp://u:Pw0rd1@mail.example.com/a_b", "EHLO"),
            ("smtp://u:Pw0rd1@mail.example.com#frag", "fragment"),
            ("smtp://justauser@mail.example.com", "without a password"),
        ] {
            let err = SmtpUrl::parse(raw).unwrap_err();
            assert!(err.contains(why), "{raw}: {err}");
            for piece in ["Pw0rd1", "0rd1"] {
                assert!(!err.contains(piece), "{raw}: {err}");
            }
        }
        let err = SmtpUrl::parse("Pw0rd1").unwrap_err();
        assert!(!err.contains("Pw0rd1"), "{err}");
    }

    #[test]
    fn the_password_is_never_displayed() {
        let url =
            SmtpUrl::parse("smtp://mailer:S3cr%2Fet@mail.example.com:587?tls=required").unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert_eq!(shown, "smtp://mailer:***@mail.example.com:587?tls=required");
        }
    }
}
