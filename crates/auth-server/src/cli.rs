//! What the command line prints: errors (a message and its causes, never a backtrace) and the
//! user table.

use std::fmt::Write;

use auth_core::AdminOutcome;
use auth_domain::User;
use chrono::{DateTime, Utc};

/// The help text's note on where settings come from.
pub const SETTINGS_HELP: &str = "\
Settings are read in three layers, each overriding the one before:
  1. config/default.toml, built into the binary (every setting, with its default);
  2. config/{AUTH_ENV}.toml if it exists: AUTH_ENV is development (the default), production
     or test, and the folder is ./config, or the one AUTH_CONFIG_DIR names (which must exist);
  3. environment variables AUTH__SECTION__KEY: AUTH__JWT__SECRET sets jwt.secret.
RUST_LOG filters the log (default info). Every setting and command: docs/operations.md";

/// `error` for a person: its message, then each cause on its own line. Never a backtrace, even
/// with `RUST_BACKTRACE` set (anyhow's `{:?}` would print one).
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = format!("error: {error}");
    for cause in error.chain().skip(1) {
        let _ = write!(text, "\n  caused by: {cause}");
    }
    text
}

/// What `users promote` prints: what became of the account, and what identifies it (id,
/// creation time, last login) so that the operator can check it is the account they meant.
pub fn promoted(user: &User, outcome: AdminOutcome, last_login: Option<DateTime<Utc>>) -> String {
    let what = match outcome {
        AdminOutcome::AlreadyAdmin => "is already an admin; nothing changed",
        _ => "is now an admin; password unchanged",
    };
    let time = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    format!(
        "{} {what}\n  id:         {}\n  created:    {}\n  last login: {}\n",
        user.username,
        user.id,
        time(user.created_at),
        last_login.map_or_else(|| "none recorded".to_owned(), time),
    )
}

/// The users as a table, one per line under a header, each column as wide as its widest value.
pub fn users_table(users: &[User]) -> String {
    let header = ["id", "username", "role", "active", "created", "email"];
    let rows: Vec<[String; 6]> = users
        .iter()
        .map(|user| {
            [
                user.id.to_string(),
                user.username.as_str().to_owned(),
                user.role.to_string(),
                if user.is_active { "yes" } else { "no" }.to_owned(),
                user.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                user.email
                    .as_ref()
                    .map_or("-", |email| email.as_str())
                    .to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(|title| title.chars().count());
    for row in &rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |values: &mut dyn Iterator<Item = &str>| {
        let mut cells = Vec::new();
        for (i, value) in values.enumerate() {
            let pad = widths[i] - value.chars().count();
            // The last column is not padded: no trailing spaces.
            cells.push(if i + 1 == widths.len() {
                value.to_owned()
            } else {
                format!("{value}{}", " ".repeat(pad))
            });
        }
        text.push_str(&cells.join("  "));
        text.push('\n');
    };
    line(&mut header.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    text
}

#[cfg(test)]
mod tests {
    use auth_domain::{Email, PasswordHash, Role, UserId, Username, now};

    use super::*;

    #[test]
    fn errors_show_their_causes_one_per_line() {
        let error = anyhow::anyhow!("connection refused").context("cannot open the database");
        assert_eq!(
            error_text(&error),
            "error: cannot open the database\n  caused by: connection refused"
        );
    }

    #[test]
    fn columns_are_as_wide_as_their_values() {
        let user = |name: &str, email: Option<&str>| User {
            id: UserId::new(),
            username: Username::parse(name).unwrap(),
            email: email.map(|e| Email::parse(e).unwrap()),
            email_verified: false,
            pending_email: None,
            password_hash: PasswordHash::new("x"),
            role: Role::User,
            is_active: true,
            mfa_enabled: false,
            credential_generation: Default::default(),
            created_at: now(),
            updated_at: now(),
        };
        let table = users_table(&[
            user("bob", None),
            user("a_much_longer_name", Some("b@example.com")),
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        let email_column = lines[0].find("email").unwrap();
        assert_eq!(lines[1].find(" -").map(|i| i + 1), Some(email_column));
        assert_eq!(lines[2].find("b@example.com"), Some(email_column));
        assert_eq!(lines[0].find("role"), lines[1].find("user"));
        assert!(table.lines().all(|l| !l.ends_with(' ')), "{table}");
    }
}
