//! `auth-server import-users`: users from another application's database (the FastAPI apps'
//! `users` table by default) into ours, bcrypt hashes kept, every refused row counted and
//! named. Running it again imports nothing twice; it tells the accounts it imported earlier from
//! names someone else holds (a conflict: exit status 3), and with `--update-hashes` brings over
//! hashes changed in the source.

use std::{collections::HashMap, fmt::Write as _, io::Write};

use anyhow::Context;
use auth_core::{AuthService, ImportOutcome, ImportedUser, bcrypt_cost, is_importable_bcrypt};
use auth_diesel::source::{SourceError, SourceRow, SourceTable, SourceUsers, read_users};
use auth_domain::{Email, PasswordHash, Role, Username};

/// Users written per hop to the store.
const BATCH: usize = 500;
/// The longest username shown in a report; longer ones are cut.
const SHOWN_CHARS: usize = 40;

/// What to import, from the command line.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The source database URL (`sqlite://PATH` or `postgres://...`); may hold a password.
    pub from: String,
    /// The table and columns; `role: None` means "`role` if the table has it".
    pub table: SourceTable,
    /// Whether `--role-column` was given (else a missing `role` column means "all users").
    pub role_given: bool,
    /// Report without writing.
    pub dry_run: bool,
    /// Replace the hash of accounts imported earlier whose hash changed in the source, unless
    /// their password was changed here since (`--update-hashes`).
    pub update_hashes: bool,
    /// Imported emails count as verified (`--emails-verified`); otherwise they are not.
    pub emails_verified: bool,
}

/// The outcomes of a run, each with the rows it applies to, as shown.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Created.
    pub imported: Vec<String>,
    /// Refused: the name (without regard to case) repeats an earlier row's.
    pub duplicate: Vec<String>,
    /// Refused: the username is not valid here.
    pub invalid_username: Vec<String>,
    /// Refused: the password column does not hold an importable bcrypt hash, or one that costs
    /// more than `password.max_verify_cost`.
    pub not_bcrypt: Vec<String>,
    /// Left alone: imported by an earlier run, with the same hash.
    pub exists: Vec<String>,
    /// Left alone: a different account holds the name (one no import created). Exit status 3.
    pub conflict: Vec<String>,
    /// Left alone: imported earlier, and the source's hash changed since; `--update-hashes`
    /// replaces it.
    pub outdated: Vec<String>,
    /// Imported earlier; the hash changed in the source since, and replaced ours
    /// (`--update-hashes`): the user's sessions and API keys ended.
    pub updated: Vec<String>,
    /// Imported earlier; the hash changed in the source since, but the password was changed
    /// here too: ours is kept.
    pub kept: Vec<String>,
    /// Imported (or to be) as `user` because their role was empty or unknown.
    pub role_defaulted: Vec<String>,
    /// Imported (or to be) without the email of the source: not valid, or taken.
    pub email_dropped: Vec<String>,
}

impl ImportReport {
    /// The report as printed: one section per outcome, with how many and which rows.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (label, rows) in [
            ("imported", &self.imported),
            ("duplicate", &self.duplicate),
            ("invalid username", &self.invalid_username),
            ("not a bcrypt hash", &self.not_bcrypt),
            ("exists (imported earlier, same hash)", &self.exists),
            (
                "conflict (a different account holds this name)",
                &self.conflict,
            ),
            (
                "outdated (imported earlier, hash changed in the source; --update-hashes replaces it)",
                &self.outdated,
            ),
            (
                "updated (hash from the source; sessions and API keys ended)",
                &self.updated,
            ),
            ("kept (password changed here)", &self.kept),
            (
                "role empty or unknown, imported as user",
                &self.role_defaulted,
            ),
            ("email not kept", &self.email_dropped),
        ] {
            let _ = writeln!(out, "{label}: {}", rows.len());
            for row in rows {
                let _ = writeln!(out, "  {row}");
            }
        }
        out
    }
}

/// A username for a report: as it is when valid, quoted and escaped (and cut) otherwise, so
/// that a name with control characters cannot garble the terminal.
fn shown_name(raw: Option<&str>, valid: bool) -> String {
    match raw {
        None => "(no username)".to_owned(),
        Some(name) if valid => name.to_owned(),
        Some(name) if name.chars().count() > SHOWN_CHARS => {
            let cut: String = name.chars().take(SHOWN_CHARS).collect();
            format!("{cut:?}… ({} characters)", name.chars().count())
        }
        Some(name) => format!("{name:?}"),
    }
}

fn shown_key(row: &SourceRow) -> String {
    let key = row.key.as_deref().unwrap_or("NULL");
    let cut: String = key.chars().take(SHOWN_CHARS).collect();
    format!("{cut:?}").trim_matches('"').to_owned()
}

/// A row that may be imported, with how it is shown.
struct Candidate {
    shown: String,
    user: ImportedUser,
    role_note: Option<String>,
    email_note: bool,
}

/// Sorts the rows (in primary-key order) into candidates and refusals: an invalid username,
/// a name an earlier row has (the earlier row, the one the old application found first,
/// claims it whatever becomes of it), a password that is not a bcrypt hash.
fn plan(
    rows: &[SourceRow],
    key_name: &str,
    has_role_column: bool,
    max_cost: u32,
    report: &mut ImportReport,
) -> Vec<Candidate> {
    let mut claimed: HashMap<String, String> = HashMap::new();
    let mut candidates = Vec::new();
    for row in rows {
        let key = shown_key(row);
        let username = row.username.as_deref().map(Username::parse);
        let Some(Ok(username)) = username else {
            let name = shown_name(row.username.as_deref(), false);
            report
                .invalid_username
                .push(format!("{name} ({key_name} {key})"));
            continue;
        };
        let shown = format!("{username} ({key_name} {key})");
        if let Some(first) = claimed.get(&username.normalized()) {
            report
                .duplicate
                .push(format!("{shown}; the name of {key_name} {first}"));
            continue;
        }
        claimed.insert(username.normalized(), key.clone());
        let hash = row.password.as_deref().unwrap_or_default();
        if !is_importable_bcrypt(hash) {
            report.not_bcrypt.push(shown);
            continue;
        }
        let hash = PasswordHash::new(hash);
        if let Some(cost) = bcrypt_cost(&hash).filter(|cost| *cost > max_cost) {
            // It would never be verified (a $2b$31$ takes hours): as good as no hash.
            report.not_bcrypt.push(format!(
                "{shown}: cost {cost}, above password.max_verify_cost ({max_cost})"
            ));
            continue;
        }
        let (role, role_note) = match row.role.as_deref() {
            Some("admin") => (Role::Admin, None),
            Some("user") => (Role::User, None),
            None if !has_role_column => (Role::User, None),
            None => (Role::User, Some(format!("{shown}: no role"))),
            Some(other) => (
                Role::User,
                Some(format!("{shown}: role {}", shown_name(Some(other), false))),
            ),
        };
        let email_raw = row
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        let email = email_raw.and_then(|e| Email::parse(e).ok());
        let email_note = email_raw.is_some() && email.is_none();
        candidates.push(Candidate {
            shown,
            user: ImportedUser {
                username,
                password_hash: hash,
                email,
                role,
                email_verified: false,
            },
            role_note,
            email_note,
        });
    }
    candidates
}

/// Reads the source, and says whether it has a role column: a missing `role` column is no
/// error unless `--role-column` named it.
fn read(options: &ImportOptions) -> Result<(SourceUsers, bool), SourceError> {
    let has_role = options.table.role.is_some();
    match read_users(&options.from, &options.table) {
        Err(SourceError::NoColumn { column, .. })
            if !options.role_given && options.table.role.as_deref() == Some(column.as_str()) =>
        {
            let mut table = options.table.clone();
            table.role = None;
            Ok((read_users(&options.from, &table)?, false))
        }
        other => Ok((other?, has_role)),
    }
}

/// Runs the import (or, with `dry_run`, only finds what it would do) and writes the report to
/// `out`. An error means the run did not complete: the source cannot be read, or our store
/// failed (what was written stays, and a new run goes on from there).
pub async fn import_users(
    service: &AuthService,
    options: &ImportOptions,
    out: &mut impl Write,
) -> anyhow::Result<ImportReport> {
    let (source, has_role_column) = read(options).context("cannot read the source database")?;
    let mut report = ImportReport::default();
    let key_name = source.order.clone();
    writeln!(
        out,
        "{}users from {}, table {:?}, in order of {key_name}",
        if options.dry_run {
            "DRY RUN, nothing is written: "
        } else {
            ""
        },
        source.shown_url,
        options.table.table,
    )?;
    if !has_role_column {
        writeln!(out, "no role column: every user is imported as user")?;
    }
    writeln!(out, "read {} rows", source.rows.len())?;
    let candidates = plan(
        &source.rows,
        &key_name,
        has_role_column,
        service.max_verify_cost(),
        &mut report,
    );
    for batch in candidates.chunks(BATCH) {
        let users: Vec<ImportedUser> = batch
            .iter()
            .map(|c| ImportedUser {
                email_verified: options.emails_verified,
                ..c.user.clone()
            })
            .collect();
        let outcomes = if options.dry_run {
            service.preview_import(users, options.update_hashes).await?
        } else {
            service
                .import_users(users, options.update_hashes)
                .await
                .with_context(|| {
                    format!(
                        "the import stopped after {} users; run it again to go on",
                        report.imported.len()
                    )
                })?
        };
        for (candidate, outcome) in batch.iter().zip(outcomes) {
            let left = match outcome {
                ImportOutcome::Imported | ImportOutcome::ImportedWithoutEmail => None,
                ImportOutcome::Exists => Some(&mut report.exists),
                ImportOutcome::Conflict => Some(&mut report.conflict),
                ImportOutcome::Outdated => Some(&mut report.outdated),
                ImportOutcome::Updated => Some(&mut report.updated),
                ImportOutcome::Kept => Some(&mut report.kept),
            };
            if let Some(section) = left {
                section.push(candidate.shown.clone());
                continue;
            }
            report.imported.push(candidate.shown.clone());
            report.role_defaulted.extend(candidate.role_note.clone());
            if candidate.email_note {
                report
                    .email_dropped
                    .push(format!("{}: not a valid email", candidate.shown));
            } else if outcome == ImportOutcome::ImportedWithoutEmail {
                report
                    .email_dropped
                    .push(format!("{}: another user has it", candidate.shown));
            }
        }
    }
    out.write_all(report.render().as_bytes())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, username: Option<&str>, password: &str, role: Option<&str>) -> SourceRow {
        SourceRow {
            key: Some(key.to_owned()),
            username: username.map(str::to_owned),
            password: Some(password.to_owned()),
            email: None,
            role: role.map(str::to_owned),
        }
    }

    const HASH: &str = "$2b$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96";

    #[test]
    fn rows_are_sorted_into_candidates_and_refusals() {
        let rows = [
            row("1", Some("alice"), HASH, Some("admin")),
            row("2", Some("bad name"), HASH, None),
            row("3", Some("Alice"), HASH, Some("user")),
            row("4", Some("eve"), "plaintext", Some("user")),
            row("5", Some("eve"), HASH, Some("user")),
            row("6", None, HASH, None),
            row("7", Some("frank"), HASH, Some("superuser")),
            row("8", Some("\u{1b}[31mred"), HASH, None),
            row("9", Some("mallory"), &HASH.replace("$04$", "$31$"), None),
            row("10", Some("trent"), &HASH.replace("$04$", "$14$"), None),
        ];
        let mut report = ImportReport::default();
        let candidates = plan(&rows, "id", true, 14, &mut report);
        let names: Vec<&str> = candidates
            .iter()
            .map(|c| c.user.username.as_str())
            .collect();
        assert_eq!(names, ["alice", "frank", "trent"]);
        assert_eq!(candidates[0].user.role, Role::Admin);
        assert_eq!(candidates[1].user.role, Role::User);
        assert_eq!(
            candidates[1].role_note.as_deref(),
            Some("frank (id 7): role \"superuser\"")
        );
        assert_eq!(
            report.duplicate,
            [
                "Alice (id 3); the name of id 1",
                "eve (id 5); the name of id 4"
            ]
        );
        assert_eq!(
            report.not_bcrypt,
            [
                "eve (id 4)",
                "mallory (id 9): cost 31, above password.max_verify_cost (14)"
            ]
        );
        assert_eq!(
            report.invalid_username,
            [
                "\"bad name\" (id 2)",
                "(no username) (id 6)",
                "\"\\u{1b}[31mred\" (id 8)"
            ]
        );
    }
}
