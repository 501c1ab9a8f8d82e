//! [`MailTemplates`]: minijinja templates, defaults compiled in, overridable per file.

use std::{collections::BTreeSet, fmt};

use auth_domain::Email;
use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior, Value};

use super::{Mail, MailKind, Message};

/// The three templates of each kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemplatePart {
    /// `{kind}.subject`: one line (line breaks become spaces); not escaped.
    Subject,
    /// `{kind}.txt`: the plain-text body; not escaped.
    Text,
    /// `{kind}.html`: the HTML body; every value is HTML-escaped.
    Html,
}

impl TemplatePart {
    /// Every part.
    pub const ALL: [TemplatePart; 3] = [
        TemplatePart::Subject,
        TemplatePart::Text,
        TemplatePart::Html,
    ];

    /// The file extension: `subject`, `txt` or `html`.
    pub const fn extension(self) -> &'static str {
        match self {
            TemplatePart::Subject => "subject",
            TemplatePart::Text => "txt",
            TemplatePart::Html => "html",
        }
    }

    /// The template's name for `kind`, e.g. `password_reset.html`.
    pub fn name(self, kind: MailKind) -> String {
        format!("{}.{}", kind.as_str(), self.extension())
    }
}

/// The shared HTML frame that the default `.html` templates extend (`{% extends "layout.html"
/// %}`, filling `{% block content %}`); overridable like the others.
const LAYOUT: &str = "layout.html";

macro_rules! defaults {
    ($($kind:literal),*) => {
        &[
            (LAYOUT, include_str!("../../templates/mail/layout.html")),
            $(
                (concat!($kind, ".subject"), include_str!(concat!("../../templates/mail/", $kind, ".subject"))),
                (concat!($kind, ".txt"), include_str!(concat!("../../templates/mail/", $kind, ".txt"))),
                (concat!($kind, ".html"), include_str!(concat!("../../templates/mail/", $kind, ".html"))),
            )*
        ]
    };
}

/// The default templates, compiled in (`crates/auth-core/templates/mail/`).
const DEFAULTS: &[(&str, &str)] = defaults!(
    "password_reset",
    "email_verification",
    "email_change",
    "email_changed_notice",
    "password_changed_notice",
    "mfa_changed_notice"
);

/// A template that cannot be used: it does not parse, or fails when tried with sample values
/// (e.g. it names a value that its kind does not have), or its name is not a template's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mail template {name}: {detail}")]
pub struct TemplateError {
    /// The template's name, e.g. `password_reset.html`.
    pub name: String,
    /// What is wrong, with the line when known.
    pub detail: String,
}

/// The templates that turn a [`Mail`] into a [`Message`]: for each [`MailKind`], a subject, a
/// plain-text body and an HTML body (see [`TemplatePart`]), plus `layout.html`, which the
/// default HTML bodies extend.
///
/// The engine is [minijinja](https://docs.rs/minijinja) (Jinja2 syntax). Every value is
/// HTML-escaped in `.html` templates and left as it is in the others. Naming a value the kind
/// does not have is an error, not an empty string; every template is tried with sample values
/// when the set is built, so such a mistake stops the start, not a message.
#[derive(Clone)]
pub struct MailTemplates {
    env: Environment<'static>,
    overridden: BTreeSet<String>,
}

impl fmt::Debug for MailTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailTemplates")
            .field("overridden", &self.overridden)
            .finish_non_exhaustive()
    }
}

impl Default for MailTemplates {
    fn default() -> Self {
        Self::new()
    }
}

impl MailTemplates {
    /// The default templates.
    pub fn new() -> Self {
        Self::with_overrides(Vec::<(String, String)>::new())
            .expect("the default templates parse and render (tested)")
    }

    /// Every template name: `layout.html`, then `{kind}.subject`, `{kind}.txt` and
    /// `{kind}.html` for each kind.
    pub fn names() -> impl Iterator<Item = &'static str> {
        DEFAULTS.iter().map(|(name, _)| *name)
    }

    /// The defaults, with the templates `overrides` names replaced by their sources (a
    /// template not named keeps its default).
    ///
    /// # Errors
    /// A name that is not one of [`MailTemplates::names`], a source that does not parse, or a
    /// template that fails with sample values; the error names the template.
    pub fn with_overrides<N, S>(
        overrides: impl IntoIterator<Item = (N, S)>,
    ) -> Result<Self, TemplateError>
    where
        N: Into<String>,
        S: Into<String>,
    {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(html_formatter);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        let mut overridden = BTreeSet::new();
        for (name, source) in overrides {
            let name = name.into();
            if !Self::names().any(|known| known == name) {
                return Err(TemplateError {
                    detail: "not a template name (expected {kind}.subject, {kind}.txt, \
                             {kind}.html or layout.html)"
                        .into(),
                    name,
                });
            }
            env.add_template_owned(name.clone(), source.into())
                .map_err(|e| error(&name, &e))?;
            overridden.insert(name);
        }
        for (name, source) in DEFAULTS {
            if !overridden.contains(*name) {
                env.add_template(name, source)
                    .map_err(|e| error(name, &e))?;
            }
        }
        let templates = Self { env, overridden };
        for kind in MailKind::ALL {
            let to = Email::parse("recipient@example.com").expect("a valid sample address");
            templates.render(&to, &Mail::sample(kind))?;
        }
        Ok(templates)
    }

    /// The names of the templates that were overridden.
    pub fn overridden(&self) -> impl Iterator<Item = &str> {
        self.overridden.iter().map(String::as_str)
    }

    /// Renders `mail` for `to`.
    ///
    /// # Errors
    /// A template fails at run time (only an overridden one can, and each was tried with
    /// sample values when the set was built).
    pub fn render(&self, to: &Email, mail: &Mail) -> Result<Message, TemplateError> {
        let kind = mail.kind();
        let context = mail.context(to);
        let render = |part: TemplatePart| {
            let name = part.name(kind);
            self.env
                .get_template(&name)
                .and_then(|template| template.render(&context))
                .map_err(|e| error(&name, &e))
        };
        Ok(Message::new(
            kind,
            to.clone(),
            render(TemplatePart::Subject)?,
            render(TemplatePart::Text)?,
            render(TemplatePart::Html)?,
        ))
    }
}

/// Writes a value into a template: in HTML, a string that is not marked safe with its `&`, `<`,
/// `>`, `"` and `'` escaped. (minijinja's own escaping writes `/` as `&#x2f;` too, which
/// is valid but makes every link in an href unreadable to people and to some mail filters.)
fn html_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    if state.auto_escape() == AutoEscape::Html
        && !value.is_safe()
        && let Some(text) = value.as_str()
    {
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => escaped.push_str("&amp;"),
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                '"' => escaped.push_str("&quot;"),
                '\'' => escaped.push_str("&#x27;"),
                c => escaped.push(c),
            }
        }
        return out.write_str(&escaped).map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

/// minijinja's error, with the line when it knows it (its `Display` names the template too,
/// which ours does already).
fn error(name: &str, err: &minijinja::Error) -> TemplateError {
    let mut detail = err.detail().map_or_else(
        || err.kind().to_string(),
        |detail| format!("{}: {detail}", err.kind()),
    );
    if let Some(line) = err.line() {
        let template = err.name().unwrap_or(name);
        detail.push_str(&format!(" (line {line} of {template})"));
    }
    TemplateError {
        name: name.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_a_default_for_every_part_of_every_kind() {
        let names: Vec<&str> = MailTemplates::names().collect();
        assert_eq!(names.len(), 1 + 3 * MailKind::ALL.len());
        assert_eq!(names[0], LAYOUT);
        for kind in MailKind::ALL {
            for part in TemplatePart::ALL {
                assert!(names.contains(&part.name(kind).as_str()), "{kind} {part:?}");
            }
        }
        assert_eq!(MailTemplates::new().overridden().count(), 0);
    }
}
