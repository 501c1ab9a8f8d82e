//! PostgreSQL URLs without their passwords.
//!
//! libpq's own messages may quote a URL whole (`…in URI: "postgres://user:pw@[::1/db"`) or a
//! piece of it (`invalid percent-encoded token: "pw%ZZ"`); and a password with an unescaped
//! `/` or `@` is split by libpq somewhere unexpected, so the pieces it quotes as host or port
//! are pieces of the password. So a URL is first checked here, the way libpq reads it, and
//! refused unless its user name and password are unambiguous; every driver message is then
//! scrubbed of the URL and withheld if it still holds the password.

/// What a driver message becomes when it still contains the password after scrubbing.
const WITHHELD: &str = "(the driver's message is not shown because it contains the password)";

/// A PostgreSQL URL that libpq will split as we do, with what must never be printed.
#[derive(Clone)]
pub(crate) struct PgUrl {
    raw: String,
    redacted: String,
    /// The password as written and as decoded, and every `password=` parameter value.
    secrets: Vec<String>,
}

impl PgUrl {
    /// Checks `url` (`postgres://` or `postgresql://`). On error, the message shows the URL with
    /// its password replaced by `***`.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let mut secrets = Vec::new();
        // libpq takes the user-info to end at the first `@` (before any `/`). Requiring at most
        // one `@` (others percent-encoded as %40) makes that the only reading.
        let (userinfo, hostpart) = match rest.rsplit_once('@') {
            Some((userinfo, hostpart)) => (Some(userinfo), hostpart),
            None => (None, rest),
        };
        let mut shown_userinfo = String::new();
        let mut problem = None;
        if let Some(userinfo) = userinfo {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            shown_userinfo = match password {
                Some(_) => format!("{user}:***@"),
                None => format!("{user}@"),
            };
            if let Some(password) = password.filter(|p| !p.is_empty()) {
                secrets.push(password.to_owned());
                secrets.push(percent_decode_lossy(password));
            }
            if userinfo.contains(['@', '/', '?', '#', ' ']) {
                problem = Some(
                    "the user name or password has an unescaped @, /, ?, # or space: \
                     percent-encode it (%40, %2F, %3F, %23, %20)",
                );
            } else if !percent_escapes_are_valid(userinfo) {
                problem = Some(
                    "the user name or password has a % that does not start a valid escape: \
                     write % itself as %25",
                );
            }
        }
        let shown_hostpart = redact_query_passwords(hostpart, &mut secrets);
        if problem.is_none() && secrets.iter().any(|s| !percent_escapes_are_valid(s)) {
            problem = Some("a password= parameter has an invalid % escape: write % as %25");
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        let parsed = Self {
            raw: url.to_owned(),
            redacted: format!("{scheme}://{shown_userinfo}{shown_hostpart}"),
            secrets,
        };
        match problem {
            Some(problem) => Err(format!(
                "malformed PostgreSQL URL {}: {problem}",
                parsed.redacted
            )),
            None => Ok(parsed),
        }
    }

    /// The whole URL, for the driver only.
    pub(crate) fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with its password (user-info and `password=` parameters) shown as `***`.
    pub(crate) fn redacted(&self) -> &str {
        &self.redacted
    }

    /// `message` with the URL redacted; withheld entirely if it still holds the password.
    pub(crate) fn scrub(&self, message: &str) -> String {
        let message = message.replace(&self.raw, &self.redacted);
        if self.secrets.iter().any(|secret| message.contains(secret)) {
            WITHHELD.to_owned()
        } else {
            message
        }
    }
}

/// `hostpart` with the value of each `password=` query parameter replaced by `***`; the values
/// are added to `secrets`, as written and decoded.
fn redact_query_passwords(hostpart: &str, secrets: &mut Vec<String>) -> String {
    let Some((path, query)) = hostpart.split_once('?') else {
        return hostpart.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, value)) if percent_decode_lossy(key) == "password" => {
                secrets.push(value.to_owned());
                secrets.push(percent_decode_lossy(value));
                format!("{key}=***")
            }
            _ => param.to_owned(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

fn percent_escapes_are_valid(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let pair = bytes.get(i + 1..i + 3);
            if !pair.is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn percent_decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_redacted_and_the_rest_kept() {
        let url = PgUrl::parse("postgres://app:s3cr%40t@db.example:5432/auth").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db.example:5432/auth");
        let url = PgUrl::parse("postgresql://app@db/auth?password=pw%21x&sslmode=require").unwrap();
        assert_eq!(
            url.redacted(),
            "postgresql://app@db/auth?password=***&sslmode=require"
        );
        assert_eq!(url.scrub("bad pw!x here"), WITHHELD);
        let url = PgUrl::parse("postgres://db/auth").unwrap();
        assert_eq!(url.redacted(), "postgres://db/auth");
    }

    #[test]
    fn ambiguous_or_badly_escaped_user_info_is_refused_without_the_password() {
        for (url, password_pieces) in [
            (
                "postgres://u:TopS3cr%ZZetPW@h:1/db",
                &["TopS3cr", "ZZetPW"][..],
            ),
            ("postgres://u:Sl4sh/S3cretPW@h:1/db", &["Sl4sh", "S3cretPW"]),
            ("postgres://u:At@S3cretPW@h:1/db", &["S3cretPW"]),
            ("postgres://u:Sp4ce S3cretPW@h:1/db", &["Sp4ce", "S3cretPW"]),
            ("postgres://u:Trail%4@h:1/db", &["Trail"]),
            ("postgres://u@h/db?password=Qu3ry%G0", &["Qu3ry"]),
        ] {
            let err = PgUrl::parse(url)
                .err()
                .unwrap_or_else(|| panic!("{url} accepted"));
            assert!(
                err.starts_with("malformed PostgreSQL URL postgres://"),
                "{err}"
            );
            for piece in password_pieces {
                assert!(!err.contains(piece), "{err}");
            }
        }
    }

    #[test]
    fn driver_messages_lose_the_url_and_never_keep_the_password() {
        let url = PgUrl::parse("postgres://u:pa55word@[::1/db").unwrap();
        let scrubbed = url.scrub(
            "end of string reached when looking for matching \"]\" in IPv6 host address in \
             URI: \"postgres://u:pa55word@[::1/db\"",
        );
        assert!(
            scrubbed.ends_with("\"postgres://u:***@[::1/db\""),
            "{scrubbed}"
        );
        assert_eq!(url.scrub("no \"pa55word\" here"), WITHHELD);
        assert_eq!(url.scrub("connection refused"), "connection refused");
    }
}
