//! How the pages look and what every one of them sends: the minijinja templates (compiled in
//! from `crates/auth-actix/templates/pages/`), the security headers, and the check that a form
//! was posted from this server's own pages.

use std::sync::LazyLock;

use actix_web::{
    HttpRequest, HttpResponse, HttpResponseBuilder,
    http::{StatusCode, header},
};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::HttpSettings;

/// The stylesheet of every page, served at [`STYLESHEET_PATH`] (so the CSP needs no inline
/// style).
pub(crate) const STYLESHEET: &str = include_str!("../../../templates/pages/pages.css");

/// Where the pages find their stylesheet.
pub(crate) const STYLESHEET_PATH: &str = "/assets/pages.css";

/// The policy of every page: nothing but this server's stylesheet loads, no script runs, forms
/// post only here, and no other site can frame the page.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The templates, parsed once. Every value is HTML-escaped.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, source) in [
        (
            "layout.html",
            include_str!("../../../templates/pages/layout.html"),
        ),
        (
            "reset_password.html",
            include_str!("../../../templates/pages/reset_password.html"),
        ),
        (
            "reset_done.html",
            include_str!("../../../templates/pages/reset_done.html"),
        ),
        (
            "message.html",
            include_str!("../../../templates/pages/message.html"),
        ),
        (
            "verify_email.html",
            include_str!("../../../templates/pages/verify_email.html"),
        ),
        (
            "verify_done.html",
            include_str!("../../../templates/pages/verify_done.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("the page templates parse (tested)");
    }
    env
});

/// `template` rendered with `context` as a page with `status` and the pages' headers.
pub(crate) fn page(status: StatusCode, template: &str, context: Value) -> HttpResponse {
    match TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context))
    {
        Ok(html) => headers(HttpResponse::build(status))
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, template, "a page could not be rendered");
            headers(HttpResponse::InternalServerError())
                .content_type("text/plain; charset=utf-8")
                .body("Internal server error")
        }
    }
}

/// The headers of every page: not cached (a page may hold a token), no referrer (the token is
/// in the address), the strict CSP, and no framing (clickjacking).
pub(crate) fn headers(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    builder
}

/// Whether a form post comes from this server's own pages, as far as the browser says: an
/// `Origin` header, when present, names this server (its host, as the request's `Host` or
/// `server.public_url` gives it); `Origin: null`, which browsers send for a form on a page with
/// `Referrer-Policy: no-referrer` (ours), only with `Sec-Fetch-Site: same-origin`; and a
/// `Sec-Fetch-Site`, when present, is `same-origin`. Both headers are set by browsers and
/// cannot be set by a page. A client that sends neither (curl, a script) is let through: the
/// reset token itself is the secret.
pub(crate) fn same_origin(req: &HttpRequest, http: &HttpSettings) -> bool {
    let text = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("\u{0}").trim().to_ascii_lowercase())
    };
    let fetch_site = text("sec-fetch-site");
    if fetch_site
        .as_deref()
        .is_some_and(|site| site != "same-origin")
    {
        return false;
    }
    let Some(origin) = text("origin") else {
        return true;
    };
    if origin == "null" {
        return fetch_site.as_deref() == Some("same-origin");
    }
    let Some(from) = authority(&origin) else {
        return false;
    };
    let public = super::super::public_base(req, http).to_ascii_lowercase();
    text("host").as_deref() == Some(from) || authority(&public) == Some(from)
}

/// `host[:port]` of `scheme://host[:port]` (an origin has no path).
fn authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    (matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use minijinja::context;

    use super::*;

    #[test]
    fn every_template_renders_and_escapes_its_values() {
        let evil = "<script>alert(1)</script>\"'";
        for (template, context) in [
            (
                "reset_password.html",
                context! { server_name => evil, token => evil, min_length => 8, error => evil },
            ),
            ("reset_done.html", context! { server_name => evil }),
            (
                "verify_email.html",
                context! { server_name => evil, token => evil },
            ),
            (
                "verify_done.html",
                context! { server_name => evil, email => evil },
            ),
            (
                "message.html",
                context! { server_name => evil, heading => evil, text => evil },
            ),
        ] {
            let html = TEMPLATES
                .get_template(template)
                .unwrap()
                .render(context)
                .unwrap();
            assert!(!html.contains("<script"), "{template}: {html}");
            assert!(html.contains("&lt;script&gt;"), "{template}: {html}");
            assert!(html.contains("name=\"viewport\""), "{template}");
            assert!(html.contains(STYLESHEET_PATH), "{template}");
            assert!(!html.contains("style="), "{template}: inline style");
        }
    }

    fn post(headers: &[(&str, &str)]) -> bool {
        let mut req = TestRequest::post()
            .uri("/reset-password")
            .insert_header(("host", "auth.example.com:8443"));
        for header in headers {
            req = req.insert_header(*header);
        }
        same_origin(&req.to_http_request(), &HttpSettings::default())
    }

    #[test]
    fn only_this_servers_pages_may_post_the_forms() {
        assert!(post(&[]));
        assert!(post(&[("origin", "https://auth.example.com:8443")]));
        assert!(post(&[("origin", "http://AUTH.example.com:8443")]));
        assert!(post(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(post(&[("sec-fetch-site", "same-origin")]));
        assert!(!post(&[("origin", "https://evil.example")]));
        assert!(!post(&[("origin", "https://auth.example.com")]));
        assert!(!post(&[("origin", "https://auth.example.com:8443.evil")]));
        assert!(!post(&[("origin", "null")]));
        assert!(!post(&[
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(!post(&[("sec-fetch-site", "cross-site")]));
        assert!(!post(&[("sec-fetch-site", "same-site")]));
        assert!(!post(&[("origin", "file://")]));
    }
}
