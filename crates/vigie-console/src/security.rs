//! Security plumbing: response headers, the session extractor, the CSRF guard on every POST,
//! and bounded query-string parsing.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use vigie_store::{Role, Session, Timestamp};

use crate::pages::PageError;
use crate::ConsoleState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "vigie_session";
/// The login form's double-submit cookie (CSRF before a session exists).
pub const LOGIN_COOKIE: &str = "vigie_login";
/// The language cookie.
pub const LANG_COOKIE: &str = "vigie_lang";
/// The form field (or `X-CSRF-Token` header) every POST carries.
pub const CSRF_FIELD: &str = "csrf";
/// Longest query string accepted.
pub const MAX_QUERY: usize = 2048;
/// Largest form body accepted.
pub const MAX_FORM: usize = 16 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response.
pub async fn headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A page may narrow the policy further (the digest); none may go without one.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // A page and its htmx partial share a URL: caches must tell them apart.
    h.append(header::VARY, HeaderValue::from_static("HX-Request"));
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, path `/`, and `Secure` when asked.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Whether two secrets are equal, in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A signed-in user (the request's session).
#[derive(Debug, Clone)]
pub struct Auth {
    pub session: Session,
}

impl Auth {
    pub fn role(&self) -> Role {
        self.session.role
    }

    /// Refuses (403) users who may not triage.
    pub fn require_analyst(&self) -> Result<(), PageError> {
        if self.role().can_triage() {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }
}

async fn session_of(
    state: &ConsoleState,
    headers: &HeaderMap,
) -> Result<Option<Session>, PageError> {
    let Some(token) = cookie(headers, SESSION_COOKIE).map(str::to_string) else {
        return Ok(None);
    };
    state
        .with_store(move |store| Ok(store.session(&token, Timestamp::now())?))
        .await
}

impl FromRequestParts<ConsoleState> for Auth {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        match session_of(state, &parts.headers).await? {
            Some(session) => Ok(Auth { session }),
            None => Err(PageError::SignIn),
        }
    }
}

/// Checks the CSRF token of every POST: the session's token for signed-in requests, the
/// double-submit cookie for the login form. Anything else is refused with 403 before a
/// handler runs. The body is read here (bounded) and handed on unchanged.
pub async fn csrf_guard(State(state): State<ConsoleState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_FORM).await {
        Ok(b) => b,
        Err(_) => return PageError::BadRequest("form too large".into()).into_response(),
    };
    let field = form_field(&bytes, CSRF_FIELD);
    let header = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let presented = field.or(header);
    let expected = if parts.uri.path() == "/login" {
        cookie(&parts.headers, LOGIN_COOKIE).map(str::to_string)
    } else {
        match session_of(&state, &parts.headers).await {
            Ok(Some(session)) => {
                let csrf = session.csrf.clone();
                parts.extensions.insert(Auth { session });
                Some(csrf)
            }
            Ok(None) => return PageError::SignIn.into_response(),
            Err(e) => return e.into_response(),
        }
    };
    match (presented, expected) {
        (Some(p), Some(e)) if !e.is_empty() && same_secret(&p, &e) => {}
        _ => {
            tracing::info!(
                path = parts.uri.path(),
                "post refused: missing or wrong csrf token"
            );
            return PageError::Forbidden.into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Query parameters parsed strictly: a query string over [`MAX_QUERY`] bytes or with an
/// unknown parameter is a 400 with the reason.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<ConsoleState> for Query<T> {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        if q.len() > MAX_QUERY {
            return Err(PageError::BadRequest(format!(
                "query string too long ({} bytes, at most {MAX_QUERY})",
                q.len()
            )));
        }
        serde_urlencoded::from_str(q)
            .map(Query)
            .map_err(|e| PageError::BadRequest(format!("bad query: {e}")))
    }
}

/// A form body parsed strictly (unknown fields are a 400).
pub struct Form<T>(pub T);

impl<T: DeserializeOwned + Send> axum::extract::FromRequest<ConsoleState> for Form<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, _: &ConsoleState) -> Result<Self, Self::Rejection> {
        let bytes = to_bytes(req.into_body(), MAX_FORM)
            .await
            .map_err(|_| PageError::BadRequest("form too large".into()))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(Form)
            .map_err(|e| PageError::BadRequest(format!("bad form: {e}")))
    }
}

/// Whether the request came from htmx (answer a partial).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

pub fn status_text(code: StatusCode) -> &'static str {
    code.canonical_reason().unwrap_or("error")
}

/// The digest's policy: nothing loads, no script runs; its inline style sheets are allowed
/// by their SHA-256 only, so a style injected by hostile text would not apply.
pub fn digest_csp(html: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let mut policy =
        String::from("default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; style-src");
    let mut rest = html;
    while let Some(start) = rest.find("<style>") {
        let after = &rest[start + "<style>".len()..];
        let Some(end) = after.find("</style>") else {
            break;
        };
        let hash = sha2::Sha256::digest(&after.as_bytes()[..end]);
        policy.push_str(" 'sha256-");
        policy.push_str(&base64::engine::general_purpose::STANDARD.encode(hash));
        policy.push('\'');
        rest = &after[end..];
    }
    policy
}
