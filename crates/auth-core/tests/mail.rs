//! The mail port and its templates: what each kind of message says, escaping, overrides, and the
//! recording mailer embedders test with.

use std::{net::IpAddr, sync::Arc, time::Duration};

use auth_core::{
    EmailChange, EmailChangedNotice, EmailVerification, Mail, MailKind, MailTemplates, Mailer,
    MemoryMailer, MfaChange, MfaChangedNotice, NoMailer, PasswordChange, PasswordChangedNotice,
    PasswordReset,
};
use auth_domain::Email;
use chrono::{TimeZone, Utc};

const TOKEN: &str = "Zq8xT0kEnV4lUe_-AbCdEfGhIjKlMnOpQrStUvWxYz0";

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn link(path: &str) -> String {
    format!("https://auth.example.com{path}?token={TOKEN}&lang=en")
}

/// One message of every kind, for `username`.
fn every_kind(username: &str) -> Vec<Mail> {
    let when = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
    let ip = Some("203.0.113.7".parse::<IpAddr>().unwrap());
    vec![
        Mail::PasswordReset(PasswordReset {
            username: username.into(),
            link: link("/reset-password"),
            expires_in: Duration::from_secs(1800),
        }),
        Mail::EmailVerification(EmailVerification {
            username: username.into(),
            link: link("/verify-email"),
            expires_in: Duration::from_secs(86_400),
        }),
        Mail::EmailChange(EmailChange {
            username: username.into(),
            link: link("/verify-email"),
            new_email: email("new@example.org"),
            expires_in: Duration::from_secs(86_400),
        }),
        Mail::EmailChangedNotice(EmailChangedNotice {
            username: username.into(),
            old_email: email("old@example.com"),
            new_email: Some(email("new@example.org")),
            when,
            ip,
        }),
        Mail::PasswordChangedNotice(PasswordChangedNotice {
            username: username.into(),
            change: PasswordChange::Reset,
            when,
            ip,
        }),
        Mail::MfaChangedNotice(MfaChangedNotice {
            username: username.into(),
            change: MfaChange::Enabled,
            when,
            ip,
        }),
    ]
}

#[test]
fn every_kind_renders_a_subject_a_text_and_an_html_body_from_the_defaults() {
    let templates = MailTemplates::new();
    let to = email("alice@example.com");
    let mails = every_kind("alice");
    assert_eq!(
        mails.iter().map(Mail::kind).collect::<Vec<_>>(),
        MailKind::ALL
    );
    for mail in &mails {
        let message = templates.render(&to, mail).unwrap();
        assert_eq!(message.kind(), mail.kind());
        assert_eq!(message.to(), &to);
        let subject = message.subject();
        assert!(
            !subject.is_empty() && !subject.contains('\n'),
            "{subject:?}"
        );
        for body in [message.text(), message.html()] {
            assert!(body.contains("alice"), "{}: {body}", mail.kind());
            assert!(!body.contains("{{") && !body.contains("{%"), "{body}");
        }
        let html = message.html();
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(
            html.contains("to alice@example.com."),
            "the layout's footer: {html}"
        );
        // No external images, fonts or style sheets.
        for external in ["<img", "<link", "@import", "url("] {
            assert!(!html.contains(external), "{}: {external}", mail.kind());
        }
    }
}

#[test]
fn links_and_their_lifetimes_are_in_both_bodies_and_the_token_only_inside_the_link() {
    let templates = MailTemplates::new();
    let to = email("alice@example.com");
    for mail in &every_kind("alice")[..3] {
        let message = templates.render(&to, mail).unwrap();
        let raw_link = match mail {
            Mail::PasswordReset(m) => m.link.clone(),
            Mail::EmailVerification(m) => m.link.clone(),
            Mail::EmailChange(m) => m.link.clone(),
            _ => unreachable!(),
        };
        // In HTML, the link's `&` is written `&amp;` (in the href too), as HTML requires.
        let html_link = raw_link.replace('&', "&amp;");
        for (body, link) in [(message.text(), &raw_link), (message.html(), &html_link)] {
            assert!(body.contains(link.as_str()), "{}: {body}", mail.kind());
            assert_eq!(
                body.matches(TOKEN).count(),
                body.matches(link.as_str()).count(),
                "the token outside its link in {}",
                mail.kind()
            );
        }
        assert!(message.html().contains(&format!("href=\"{html_link}\"")));
        assert!(!message.subject().contains(TOKEN));
    }
    let reset = templates.render(&to, &every_kind("alice")[0]).unwrap();
    assert!(
        reset.text().contains("within 30 minutes"),
        "{}",
        reset.text()
    );
    let verify = templates.render(&to, &every_kind("alice")[1]).unwrap();
    assert!(
        verify.text().contains("within 24 hours"),
        "{}",
        verify.text()
    );
    assert!(verify.text().contains("alice@example.com"));
}

#[test]
fn every_value_is_escaped_in_html_and_left_as_it_is_in_text() {
    let templates = MailTemplates::new();
    let to = email("o'brien&co@example.com");
    let username = "<script>alert(\"x\")</script>";
    for mail in every_kind(username) {
        let message = templates.render(&to, &mail).unwrap();
        let html = message.html();
        assert!(!html.contains("<script>"), "{}: {html}", mail.kind());
        assert!(
            html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
            "{}: {html}",
            mail.kind()
        );
        assert!(html.contains("o&#x27;brien&amp;co@example.com"), "{html}");
        assert!(message.text().contains(username), "{}", message.text());
    }
}

#[test]
fn notices_say_what_changed_when_and_from_where_if_known() {
    let templates = MailTemplates::new();
    let to = email("alice@example.com");
    let mails = every_kind("alice");
    let changed = templates.render(&to, &mails[3]).unwrap();
    assert_eq!(changed.subject(), "Your email address was changed");
    assert!(
        changed.text().contains(
            "changed from old@example.com to new@example.org on 2026-11-22 10:00 UTC from the \
             address 203.0.113.7."
        ),
        "{}",
        changed.text()
    );
    let reset = templates.render(&to, &mails[4]).unwrap();
    assert_eq!(reset.subject(), "Your password was reset");
    assert!(
        reset
            .text()
            .contains("Every session of the account was ended")
    );
    let mfa = templates.render(&to, &mails[5]).unwrap();
    assert_eq!(mfa.subject(), "Two-step verification was turned on");

    let when = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 0).unwrap();
    let removed = templates
        .render(
            &to,
            &Mail::EmailChangedNotice(EmailChangedNotice {
                username: "alice".into(),
                old_email: email("old@example.com"),
                new_email: None,
                when,
                ip: None,
            }),
        )
        .unwrap();
    assert_eq!(removed.subject(), "Your email address was removed");
    assert!(
        !removed.text().contains("from the address"),
        "{}",
        removed.text()
    );
    let changed = templates
        .render(
            &to,
            &Mail::PasswordChangedNotice(PasswordChangedNotice {
                username: "alice".into(),
                change: PasswordChange::Changed,
                when,
                ip: None,
            }),
        )
        .unwrap();
    assert_eq!(changed.subject(), "Your password was changed");
    assert!(
        changed
            .text()
            .contains("was changed on 2026-01-02 03:04 UTC.")
    );
    let mfa_off = templates
        .render(
            &to,
            &Mail::MfaChangedNotice(MfaChangedNotice {
                username: "alice".into(),
                change: MfaChange::Removed,
                when,
                ip: None,
            }),
        )
        .unwrap();
    assert_eq!(mfa_off.subject(), "Two-step verification was removed");
}

#[test]
fn overrides_replace_single_templates_and_keep_the_rest() {
    let templates = MailTemplates::with_overrides([
        ("password_reset.subject", "{{ username }}, your reset link"),
        (
            "password_reset.txt",
            "Go to {{ link }} ({{ expires_in_minutes }} min).",
        ),
        (
            "layout.html",
            "<main class=\"brand\">{% block content %}{% endblock %}</main>",
        ),
    ])
    .unwrap();
    assert_eq!(
        templates.overridden().collect::<Vec<_>>(),
        [
            "layout.html",
            "password_reset.subject",
            "password_reset.txt"
        ]
    );
    let to = email("alice@example.com");
    let mails = every_kind("<b>alice</b>");
    let reset = templates.render(&to, &mails[0]).unwrap();
    assert_eq!(reset.subject(), "<b>alice</b>, your reset link");
    assert_eq!(
        reset.text(),
        format!("Go to {} (30 min).", link("/reset-password"))
    );
    // The default HTML body, in the overridden layout, still escaped.
    assert!(reset.html().starts_with("<main class=\"brand\">"));
    assert!(reset.html().contains("&lt;b&gt;alice&lt;/b&gt;"));
    let other = templates.render(&to, &mails[5]).unwrap();
    assert_eq!(other.subject(), "Two-step verification was turned on");
}

#[test]
fn unusable_overrides_are_refused_with_the_template_named() {
    for (name, source, expected) in [
        ("password_reset.txt", "{{ link", "syntax error"),
        ("mfa_changed_notice.html", "{% if %}", "syntax error"),
        // A value the kind does not have: an error when built, not an empty string later.
        ("mfa_changed_notice.txt", "{{ link }}", "undefined"),
        ("password_reset.subject", "{{ usernme }}", "undefined"),
        ("pasword_reset.txt", "hello", "not a template name"),
    ] {
        let err = MailTemplates::with_overrides([(name, source)]).unwrap_err();
        assert_eq!(err.name, name);
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("mail template {name}: ")) && shown.contains(expected),
            "{shown}"
        );
    }
    let err = MailTemplates::with_overrides([("email_change.txt", "a\nb\n{{ x(}}")]).unwrap_err();
    assert!(err.detail.contains("line 3"), "{err}");
}

#[test]
fn the_memory_mailer_keeps_what_is_sent_and_no_mailer_is_off() {
    let templates = MailTemplates::new();
    let alice = email("alice@example.com");
    let bob = email("bob@example.com");
    let memory = Arc::new(MemoryMailer::new());
    let mailer: Arc<dyn Mailer> = memory.clone();
    assert!(mailer.enabled());
    assert!(memory.is_empty());
    for mail in every_kind("alice") {
        mailer.send(templates.render(&alice, &mail).unwrap());
    }
    mailer.send(templates.render(&bob, &every_kind("bob")[0]).unwrap());
    assert_eq!(memory.len(), 7);
    let last = memory.last(MailKind::PasswordReset, &alice).unwrap();
    assert!(last.text().contains("alice") && !last.text().contains("bob"));
    assert!(memory.last(MailKind::EmailChange, &bob).is_none());
    let taken = memory.take();
    assert_eq!(taken.len(), 7);
    assert_eq!(taken[0].kind(), MailKind::PasswordReset);
    assert!(memory.is_empty());

    let off: Arc<dyn Mailer> = Arc::new(NoMailer);
    assert!(!off.enabled());
    off.send(taken[0].clone());
}
