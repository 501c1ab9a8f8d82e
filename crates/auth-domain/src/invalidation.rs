use std::fmt;

use uuid::Uuid;

use crate::{ApiKeyId, SessionId, UserId};

/// What a committed change made invalid, for the caches that hold credentials: a session, a
/// user (their sessions and API keys), an API key (and the sessions opened with it), or
/// everything.
///
/// Its text form (`s:<uuid>`, `u:<uuid>`, `k:<uuid>`, `*`) travels between instances, e.g. as
/// a PostgreSQL notification payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invalidation {
    /// One session ended.
    Session(SessionId),
    /// A user changed (role, state, password, deletion) or all their sessions or keys ended.
    User(UserId),
    /// One API key was revoked.
    ApiKey(ApiKeyId),
    /// Anything may have changed.
    All,
}

impl Invalidation {
    /// Reads the text form; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "*" {
            return Some(Invalidation::All);
        }
        let (kind, id) = text.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "s" => Some(Invalidation::Session(SessionId(id))),
            "u" => Some(Invalidation::User(UserId(id))),
            "k" => Some(Invalidation::ApiKey(ApiKeyId(id))),
            _ => None,
        }
    }
}

impl fmt::Display for Invalidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalidation::Session(id) => write!(f, "s:{id}"),
            Invalidation::User(id) => write!(f, "u:{id}"),
            Invalidation::ApiKey(id) => write!(f, "k:{}", id.0),
            Invalidation::All => f.write_str("*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_round_trips_and_refuses_garbage() {
        for what in [
            Invalidation::Session(SessionId::new()),
            Invalidation::User(UserId::new()),
            Invalidation::ApiKey(ApiKeyId::new()),
            Invalidation::All,
        ] {
            assert_eq!(Invalidation::parse(&what.to_string()), Some(what));
        }
        for bad in [
            "",
            "s:",
            "x:00000000-0000-0000-0000-000000000000",
            "u:nope",
            "**",
        ] {
            assert_eq!(Invalidation::parse(bad), None, "{bad:?}");
        }
    }
}
