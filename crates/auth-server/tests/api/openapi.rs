//! The document is part of the contract: `GET /openapi.json` describes every route the app
//! serves and nothing else, each operation names the security schemes the route really accepts,
//! and every undocumented method is a 405 whose `Allow` lists the documented ones.

use std::collections::BTreeSet;

use actix_web::{http::Method, test::TestRequest};
use serde_json::{Value, json};

use crate::helpers::TestApp;

crate::on_every_store!(
    the_document_is_openapi_3_1_and_describes_exactly_the_served_routes,
    every_described_operation_is_routed_and_every_other_method_is_405_with_allow,
    operations_name_the_security_schemes_the_routes_accept,
    security_schemes_and_limits_follow_the_settings,
    errors_bodies_parameters_and_examples_are_described,
    head_is_answered_wherever_get_is,
    form_properties_have_their_own_examples_and_q_is_a_prefix,
    the_mfa_login_body_is_one_of_its_shapes_exactly_as_the_server_reads_it,
);

const NIL: &str = "00000000-0000-0000-0000-000000000000";
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let reply = app.send(TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.body
}

/// (METHOD, path template) of every operation in the document.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let operation = &doc["paths"][path][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not described");
    operation
}

/// The schemes an operation accepts, each requirement a single scheme.
fn schemes(operation: &Value) -> BTreeSet<String> {
    operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|requirement| requirement.as_object().unwrap().keys().cloned())
        .collect()
}

fn request(method: &str, path: &str) -> TestRequest {
    TestRequest::default()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
}

async fn the_document_is_openapi_3_1_and_describes_exactly_the_served_routes(app: TestApp) {
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "auth-server");

    // What `configure` mounts, read from the route table it mounts.
    let served: BTreeSet<(String, String)> = auth_actix::served_routes()
        .into_iter()
        .filter(|(_, path)| !auth_actix::UNDESCRIBED_ROUTES.contains(path))
        .map(|(method, path)| (method.to_string(), path.to_owned()))
        .collect();
    let described = described(&doc);
    let undescribed: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(
        undescribed.is_empty() && unserved.is_empty(),
        "served but not described: {undescribed:?}; described but not served: {unserved:?}"
    );
    assert!(served.len() >= 27, "{served:?}");
    // Only Swagger UI's own pages are left out, as FastAPI leaves out its /docs, and the HTML
    // pages that links in messages open (for people, not part of the JSON API).
    let hidden: BTreeSet<&str> = auth_actix::served_routes()
        .into_iter()
        .map(|(_, path)| path)
        .filter(|path| auth_actix::UNDESCRIBED_ROUTES.contains(path))
        .collect();
    assert_eq!(
        hidden,
        BTreeSet::from([
            "/docs",
            "/docs/{file:.*}",
            "/reset-password",
            "/verify-email",
            "/assets/pages.css"
        ])
    );

    // The malformed-input catalogue covers every described route too.
    let catalogue: BTreeSet<(String, String)> = crate::catalogue::ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(
        catalogue, described,
        "catalogue::ROUTES is not the document"
    );
}

async fn every_described_operation_is_routed_and_every_other_method_is_405_with_allow(
    app: TestApp,
) {
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let uri = path.replace("{id}", NIL);
        let documented: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        for method in &documented {
            // Without credentials: an authenticated route refuses before anything else, so no
            // answer here can be a "no such resource" 404; a public one answers on its own terms.
            let reply = app.send(request(method, &uri)).await;
            let what = format!("{method} {path}: {} {}", reply.status, reply.text);
            if path == "/metrics" || path == "/statuslists/{id}" {
                // Metrics are off in the tests, and no status list has this id: a JSON 404 (the
                // 405s below show it is routed).
                reply.assert(404, "not_found");
                continue;
            }
            assert!(
                ![404, 405].contains(&reply.status.as_u16()),
                "not routed: {what}"
            );
            let secured = !schemes(&item[method.to_lowercase()]).is_empty();
            assert_eq!(reply.status == 401, secured, "{what}");
        }
        // HEAD is served with GET (not described, as FastAPI does not describe it).
        let mut allowed = documented.clone();
        if documented.contains("GET") {
            allowed.insert("HEAD".to_owned());
        }
        for method in [
            "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE",
        ] {
            if allowed.contains(method) {
                continue;
            }
            let reply = app.send(request(method, &uri)).await;
            let what = format!("{method} {path}: {}", reply.text);
            assert_eq!(reply.status, 405, "{what}");
            if method != "HEAD" {
                assert_eq!(reply.error_code(), "method_not_allowed", "{what}");
            }
            let allow: BTreeSet<String> = reply
                .header("allow")
                .unwrap_or_else(|| panic!("no Allow: {what}"))
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(allow, allowed, "{what}");
        }
    }
}

async fn operations_name_the_security_schemes_the_routes_accept(app: TestApp) {
    let doc = document(&app).await;
    let bearer_only = BTreeSet::from(["HTTPBearer".to_owned(), "OAuth2PasswordBearer".to_owned()]);
    let key_ok: BTreeSet<String> = bearer_only
        .iter()
        .cloned()
        .chain(["APIKeyHeader".to_owned()])
        .collect();
    // docs/api.md's "auth" column.
    let expected = |method: &str, path: &str| -> BTreeSet<String> {
        match (method, path) {
            (
                "POST",
                "/register" | "/login" | "/token" | "/refresh" | "/login/mfa" | "/revoke"
                | "/password/forgot" | "/password/reset" | "/email/verify",
            )
            | (
                "GET",
                "/health"
                | "/health/live"
                | "/health/ready"
                | "/metrics"
                | "/.well-known/jwks.json"
                | "/.well-known/oauth-authorization-server"
                | "/statuslists/{id}"
                | "/openapi.json",
            ) => BTreeSet::new(),
            ("POST", "/login/api-key") => BTreeSet::from(["APIKeyHeader".to_owned()]),
            ("GET", "/profile" | "/users/me" | "/protected" | "/admin")
            | ("POST", "/introspect") => key_ok.clone(),
            _ => bearer_only.clone(),
        }
    };
    for (method, path) in described(&doc) {
        assert_eq!(
            schemes(operation(&doc, &method, &path)),
            expected(&method, &path),
            "{method} {path}"
        );
    }

    // And the routes behave so: an admin's API key is accepted where the document lists
    // APIKeyHeader, and refused with 403 `session_required` where it does not.
    let admin = app.admin("root").await;
    let key = app.api_key(&admin).await;
    for (method, path) in described(&doc) {
        let op = operation(&doc, &method, &path);
        if method != "GET" || schemes(op).is_empty() {
            continue;
        }
        let uri = path.replace("{id}", NIL);
        let reply = app
            .send(request(&method, &uri).insert_header(("X-API-Key", key.clone())))
            .await;
        if schemes(op).contains("APIKeyHeader") {
            assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text);
        } else {
            reply.assert(403, "session_required");
        }
    }
    let reply = app
        .send(
            TestRequest::post()
                .uri("/login/api-key")
                .insert_header(("X-API-Key", key)),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

async fn security_schemes_and_limits_follow_the_settings(app: TestApp) {
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["OAuth2PasswordBearer"],
        json!({
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": "/token", "scopes": {}}},
            "description": schemes["OAuth2PasswordBearer"]["description"],
        })
    );
    assert_eq!(schemes["HTTPBearer"]["type"], "http");
    assert_eq!(schemes["HTTPBearer"]["scheme"], "bearer");
    assert_eq!(schemes["HTTPBearer"]["bearerFormat"], "JWT");
    assert_eq!(schemes["APIKeyHeader"]["type"], "apiKey");
    assert_eq!(schemes["APIKeyHeader"]["in"], "header");
    assert_eq!(schemes["APIKeyHeader"]["name"], "X-API-Key");
    let password = |doc: &Value| {
        doc["components"]["schemas"]["RegisterRequest"]["properties"]["password"].clone()
    };
    assert_eq!(password(&doc)["minLength"], 8);

    // The document is built for the server's settings.
    let app = app.with_settings(&[
        ("security.api_key_header", "X-Service-Key"),
        ("password.min_length", "12"),
    ]);
    let doc = document(&app).await;
    assert_eq!(
        doc["components"]["securitySchemes"]["APIKeyHeader"]["name"],
        "X-Service-Key"
    );
    assert_eq!(password(&doc)["minLength"], 12);
    assert_eq!(
        doc["components"]["schemas"]["ProfileUpdate"]["properties"]["password"]["minLength"],
        12
    );
}

async fn errors_bodies_parameters_and_examples_are_described(app: TestApp) {
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let error_ref = json!({"$ref": "#/components/schemas/Error"});
    // The error body: `error` (one of the codes) and `detail`; at /token, `error_description`.
    assert_eq!(schemas["Error"]["required"], json!(["error", "detail"]));
    let codes = schemas["ErrorCode"]["enum"].as_array().unwrap();
    for code in auth_actix::ErrorCode::ALL {
        assert!(codes.contains(&json!(code.as_str())), "{code}");
    }
    assert_eq!(
        schemas["OAuthError"]["required"],
        json!(["error", "detail", "error_description"])
    );

    for (method, path) in described(&doc) {
        let op = operation(&doc, &method, &path);
        let what = format!("{method} {path}");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{what}"
        );
        for (status, response) in responses {
            // A 304 (Not Modified) has no body at all.
            if status.starts_with('2') || status == "304" {
                continue;
            }
            let body = &response["content"]["application/json"]["schema"];
            let expected = match (path.as_str(), status.as_str()) {
                ("/token", _) => json!({"$ref": "#/components/schemas/OAuthError"}),
                ("/health" | "/health/ready", "503") => {
                    json!({"$ref": "#/components/schemas/HealthUnavailable"})
                }
                _ => error_ref.clone(),
            };
            assert_eq!(body, &expected, "{what} {status}");
        }
        if schemes(op).contains("HTTPBearer") {
            // RFC 6750: a bearer route's 401 says how to authenticate.
            let unauthorized = &responses["401"];
            assert!(
                unauthorized["headers"]["WWW-Authenticate"].is_object(),
                "{what}"
            );
        }
        let body = &op["requestBody"]["content"];
        if body["application/json"].is_object() {
            for status in ["400", "408", "413", "422"] {
                assert!(responses.contains_key(status), "{what} {status}");
            }
        }
        if path.contains("{id}") {
            assert!(responses.contains_key("404"), "{what}");
        }
    }

    // Request bodies: JSON, and the OAuth2 form at /token.
    assert_eq!(
        operation(&doc, "POST", "/token")["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"],
        json!({"$ref": "#/components/schemas/TokenRequest"})
    );
    assert_eq!(
        operation(&doc, "POST", "/register")["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/RegisterRequest"})
    );
    assert_eq!(
        operation(&doc, "POST", "/register")["responses"]["201"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/User"})
    );

    // Response schemas with examples; the examples have exactly the fields the server sends.
    let reply = app.register("alice").await;
    let user_fields: BTreeSet<&String> = reply.body.as_object().unwrap().keys().collect();
    let example = &schemas["User"]["example"];
    assert_eq!(
        example.as_object().unwrap().keys().collect::<BTreeSet<_>>(),
        user_fields
    );
    let login = app.login("alice").await;
    let example = &schemas["TokenResponse"]["example"];
    assert_eq!(
        example.as_object().unwrap().keys().collect::<BTreeSet<_>>(),
        login.as_object().unwrap().keys().collect::<BTreeSet<_>>()
    );
    for schema in [
        "User",
        "TokenResponse",
        "Session",
        "ApiKey",
        "AuditEvent",
        "Error",
    ] {
        assert!(
            schemas[schema]["example"].is_object(),
            "{schema} has no example"
        );
    }

    // Query parameters.
    let parameters = |method: &str, path: &str| -> Vec<String> {
        operation(&doc, method, path)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                assert_eq!(p["in"], "query", "{p}");
                p["name"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(parameters("POST", "/logout"), ["scope"]);
    let scope = &operation(&doc, "POST", "/logout")["parameters"][0]["schema"];
    assert_eq!(scope["enum"], json!(["local", "others", "global"]));
    let users = parameters("GET", "/admin/users");
    for name in ["limit", "offset", "q", "after", "total"] {
        assert!(users.contains(&name.to_owned()), "{users:?}");
    }
    assert_eq!(
        parameters("GET", "/admin/audit"),
        [
            "user", "since", "until", "limit", "offset", "after", "total"
        ]
    );
    let limit = &operation(&doc, "GET", "/admin/users")["parameters"][0]["schema"];
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(200))
    );
}

/// Uptime checks send HEAD: every GET route answers it as it answers GET (the same status and
/// headers; on the wire, actix-http leaves the body out, which `binary.rs` checks).
async fn head_is_answered_wherever_get_is(app: TestApp) {
    let app = app.with_settings(&[("metrics.enabled", "true")]);
    let admin = app.admin("root").await;
    let id = app.get("/profile", &admin).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = actix_web::test::init_service(auth_actix::app(app.state.clone())).await;
    let mut checked = 0;
    for (method, path) in auth_actix::served_routes() {
        if method != Method::GET {
            continue;
        }
        // The admin's token references an entry of status list 1.
        let list_or_id = if path == "/statuslists/{id}" {
            "1"
        } else {
            &id
        };
        let mut uri = path
            .replace("{id}", list_or_id)
            .replace("{file:.*}", "swagger-ui.css");
        // A page that a link opens: the link's token (a GET never uses it up).
        if path == "/reset-password" || path == "/verify-email" {
            uri.push_str("?token=abc");
        }
        let answer = |method: &str| {
            actix_web::test::call_service(
                &service,
                request(method, &uri)
                    .insert_header(crate::helpers::bearer(&admin))
                    .to_request(),
            )
        };
        let get = answer("GET").await;
        let head = answer("HEAD").await;
        assert!(
            get.status().is_success() || get.status().is_redirection(),
            "GET {uri}: {}",
            get.status()
        );
        assert_eq!(head.status(), get.status(), "HEAD {uri}");
        for name in ["content-type", "cache-control", "location"] {
            assert_eq!(
                head.headers().get(name),
                get.headers().get(name),
                "HEAD {uri}: {name}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 17, "only {checked} GET routes");
}

/// Swagger UI pre-fills a form's fields from their examples (`string` without one): every
/// property of a form body has its own, and the `/token` form as pre-filled logs in.
async fn form_properties_have_their_own_examples_and_q_is_a_prefix(app: TestApp) {
    let doc = document(&app).await;
    let resolve = |schema: &Value| -> Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"][name].clone()
            }
            None => schema.clone(),
        }
    };
    let mut forms = 0;
    for (method, path) in described(&doc) {
        let body = &operation(&doc, &method, &path)["requestBody"]["content"];
        let Some(form) = body.get("application/x-www-form-urlencoded") else {
            continue;
        };
        forms += 1;
        let schema = resolve(&form["schema"]);
        for (name, property) in schema["properties"].as_object().unwrap() {
            let property = resolve(property);
            assert!(
                property["example"].is_string() && property["example"] != "string",
                "{method} {path}: {name} has no example of its own: {property}"
            );
        }
    }
    assert_eq!(forms, 3, "/token, /introspect and /revoke");

    // The /token form as Swagger UI fills it in: a password grant that works.
    let token_form = resolve(
        &operation(&doc, "POST", "/token")["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"],
    );
    let fields: Vec<(String, String)> = token_form["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, property)| {
            let example = resolve(property)["example"].as_str().unwrap().to_owned();
            (name.clone(), example)
        })
        .collect();
    let example = |name: &str| &fields.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(example("grant_type"), "password");
    app.post_json(
        "/register",
        json!({"username": example("username"), "password": example("password")}),
    )
    .await;
    let reply = app
        .send(TestRequest::post().uri("/token").set_form(fields.clone()))
        .await;
    assert_eq!(reply.status, 200, "{fields:?}: {}", reply.text);

    // `q` of GET /admin/users is described as what it is: a prefix.
    let q = operation(&doc, "GET", "/admin/users")["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "q")
        .unwrap()["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        q.starts_with("The start of the username or of the email"),
        "{q}"
    );
    assert!(!q.contains("part"), "{q}");
}

/// Whether `value` is valid against `schema`, for the JSON Schema keywords of our request
/// bodies' shapes: `$ref`, `oneOf` (exactly one), `type`, `required`, `properties`.
fn valid(doc: &Value, schema: &Value, value: &Value) -> bool {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return valid(doc, &doc["components"]["schemas"][name], value);
    }
    if let Some(shapes) = schema["oneOf"].as_array() {
        let matching = shapes.iter().filter(|s| valid(doc, s, value)).count();
        if matching != 1 {
            return false;
        }
    }
    let type_name = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let number = type_name == "integer" && types.contains(&"number");
    if !types.is_empty() && !types.contains(&type_name) && !number {
        return false;
    }
    if let Some(object) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap()) {
                return false;
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if object.get(name).is_some_and(|v| !valid(doc, property, v)) {
                return false;
            }
        }
    }
    true
}

/// The second step of a login takes exactly one factor. The document describes the body as
/// one of two shapes, and a body is valid against it exactly when the server takes it: a body
/// the document allows is never refused as malformed (422), and one it forbids always is.
async fn the_mfa_login_body_is_one_of_its_shapes_exactly_as_the_server_reads_it(app: TestApp) {
    let doc = document(&app).await;
    let body = &operation(&doc, "POST", "/login/mfa")["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        body,
        &json!({"$ref": "#/components/schemas/MfaLoginRequest"})
    );
    let shapes = doc["components"]["schemas"]["MfaLoginRequest"]["oneOf"]
        .as_array()
        .unwrap();
    let titles: Vec<&str> = shapes
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["MfaLoginWithCode", "MfaLoginWithRecoveryCode"]);
    for shape in shapes {
        // Each shape's example is a body of that shape only.
        let example = &shape["examples"][0];
        assert!(valid(&doc, body, example), "{example}");
    }

    // An unknown mfa_token: a body the server takes is refused for it (401), one it does not
    // take is refused for its shape first (422).
    let token = "Jt9fXc2LrV7bN0kWz5yHd8sE1uA4gP6oKmTqRiQ3vYw";
    let bodies = [
        json!({"mfa_token": token, "code": "492039"}),
        json!({"mfa_token": token, "recovery_code": "k7m3-q9p2-x8a4-r6t1"}),
        json!({"mfa_token": token, "code": "492039", "recovery_code": null}),
        json!({"mfa_token": token, "code": null, "recovery_code": "k7m3-q9p2-x8a4-r6t1"}),
        json!({"mfa_token": token, "code": "", "unknown": 1}),
        // The review's case: both, one of them empty.
        json!({"mfa_token": token, "code": "492039", "recovery_code": ""}),
        json!({"mfa_token": token, "code": "492039", "recovery_code": "k7m3-q9p2-x8a4-r6t1"}),
        json!({"mfa_token": token}),
        json!({"mfa_token": token, "code": null}),
        json!({"mfa_token": token, "code": null, "recovery_code": null}),
        json!({"mfa_token": token, "code": 492039}),
        json!({"mfa_token": token, "recovery_code": ["k7m3-q9p2-x8a4-r6t1"]}),
        json!({"code": "492039"}),
        json!({"mfa_token": null, "code": "492039"}),
    ];
    let mut allowed = 0;
    for body_sent in bodies {
        let reply = app.post_json("/login/mfa", body_sent.clone()).await;
        let (status, code) = if valid(&doc, body, &body_sent) {
            allowed += 1;
            (401, "invalid_mfa_token")
        } else {
            (422, "validation_error")
        };
        assert_eq!(reply.status, status, "{body_sent}: {}", reply.text);
        assert_eq!(reply.error_code(), code, "{body_sent}: {}", reply.text);
    }
    assert_eq!(allowed, 5, "the first five bodies are of one shape each");
}
