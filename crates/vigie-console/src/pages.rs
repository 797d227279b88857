//! The handlers and their templates.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use vigie_core::{Category, DocumentKind, IdentifierKind, Severity};
use vigie_match::ScanOptions;
use vigie_store::{
    AuditAction, AuditEntry, Incident, LoginOutcome, Order, OutboxState, PageCursor, SourceKind,
    Store, Timestamp, TriageState,
};

use crate::assets;
use crate::i18n::{Lang, Texts};
use crate::security::{
    is_htmx, set_cookie, status_text, Auth, Form, Query, LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE,
};
use crate::text::{segments, Segment};
use crate::ConsoleState;

/// Incidents per list page.
pub const PAGE_SIZE: usize = 50;
/// Incidents examined per list page without a text search.
pub const MAX_EXAMINED: usize = 20_000;
/// Incidents examined per list page with a text search (each reads its documents).
pub const MAX_EXAMINED_TEXT: usize = 2_000;
/// Bytes of a document searched by the text filter.
pub const MAX_SEARCHED: usize = 256 * 1024;
/// Snapshots per incident shown, searched or revealed.
pub const MAX_DOCUMENTS: usize = 5;
/// Shortest reveal reason.
pub const MIN_REASON: usize = 10;

/// What a handler can fail with; each maps to a status and a page.
#[derive(Debug)]
pub enum PageError {
    /// No valid session: to the login page.
    SignIn,
    /// Not allowed (role, CSRF): 403.
    Forbidden,
    /// Bad input: 400 with the reason.
    BadRequest(String),
    /// No such thing: 404.
    NotFound,
    /// The store or a worker failed: 500 (the detail is logged, not shown).
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    status: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (code, message) = match self {
            PageError::SignIn => {
                let mut r = Redirect::to("/login").into_response();
                *r.status_mut() = StatusCode::SEE_OTHER;
                r.headers_mut()
                    .insert("hx-redirect", HeaderValue::from_static("/login"));
                return r;
            }
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Action refusée / action refused.".to_string(),
            ),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Introuvable / not found.".to_string(),
            ),
            PageError::Internal(detail) => {
                tracing::warn!(%detail, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur interne / internal error.".to_string(),
                )
            }
        };
        let page = ErrorPage {
            c: Chrome::anonymous(Lang::Fr),
            status: format!("{} {}", code.as_u16(), status_text(code)),
            message,
        };
        (code, render(&page)).into_response()
    }
}

fn render<T: Template>(t: &T) -> Html<String> {
    match t.render() {
        Ok(s) => Html(s),
        Err(e) => {
            tracing::warn!(error = %e, "template failed");
            Html("<!doctype html><title>error</title><p>template error</p>".into())
        }
    }
}

/// What the layout needs: labels, the user, the CSRF token, asset URLs.
pub struct Chrome {
    pub t: &'static Texts,
    pub user: Option<String>,
    pub role: &'static str,
    pub can_triage: bool,
    pub csrf: String,
    pub path: String,
    pub htmx: String,
    pub css: String,
    pub js: String,
}

impl Chrome {
    fn anonymous(lang: Lang) -> Chrome {
        Chrome {
            t: lang.t(),
            user: None,
            role: "",
            can_triage: false,
            csrf: String::new(),
            path: "/".into(),
            htmx: assets::htmx_url(),
            css: assets::css_url(),
            js: assets::js_url(),
        }
    }

    fn of(auth: &Auth, headers: &HeaderMap, path: &str) -> Chrome {
        Chrome {
            user: Some(auth.session.user.clone()),
            role: auth.role().as_str(),
            can_triage: auth.role().can_triage(),
            csrf: auth.session.csrf.clone(),
            path: path.to_string(),
            ..Chrome::anonymous(Lang::of(headers))
        }
    }
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

fn fmt_time(t: Timestamp) -> String {
    // `2026-11-23T08:30:00.000Z` → `2026-11-23 08:30`
    let s = t.to_string();
    match (s.get(..10), s.get(11..16)) {
        (Some(d), Some(h)) => format!("{d} {h}"),
        _ => s,
    }
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    login_token: String,
    error: Option<&'static str>,
    oidc_label: Option<String>,
}

fn login_page(
    state: &ConsoleState,
    lang: Lang,
    error: Option<&'static str>,
    code: StatusCode,
) -> Result<Response, PageError> {
    let token = vigie_store::sessions::random_token()?;
    let page = LoginPage {
        c: Chrome::anonymous(lang),
        login_token: token.clone(),
        error,
        oidc_label: state.oidc.as_ref().map(|o| o.label().to_string()),
    };
    Ok((
        code,
        [(
            header::SET_COOKIE,
            set_cookie(LOGIN_COOKIE, &token, Some(3600), false),
        )],
        render(&page),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

pub async fn home() -> Response {
    see_other("/incidents")
}

pub async fn login_form(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(_): Query<Empty>,
) -> Result<Response, PageError> {
    login_page(&state, Lang::of(&headers), None, StatusCode::OK)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    user: String,
    password: String,
    /// The TOTP code, for accounts with a second factor (empty otherwise).
    #[serde(default)]
    code: String,
    #[allow(dead_code)]
    csrf: String,
}

pub async fn login(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let lang = Lang::of(&headers);
    let ttl = i64::from(state.config.session_minutes) * 60_000;
    let secure = state.config.secure_cookies;
    let outcome = state
        .with_store(move |store| {
            let now = Timestamp::now();
            let code = Some(form.code.as_str()).filter(|c| !c.trim().is_empty());
            let outcome = store.check_login_with_code(&form.user, &form.password, code, now)?;
            match outcome {
                LoginOutcome::Ok(user) => {
                    let (token, _) = store.create_session(&user.name, user.role, now, ttl)?;
                    store.audit(&user.name, AuditAction::Login, None, "password")?;
                    Ok(Ok(token))
                }
                LoginOutcome::Refused => {
                    store.audit(&form.user, AuditAction::LoginFailed, None, "refused")?;
                    Ok(Err(false))
                }
                LoginOutcome::Locked(until) => {
                    store.audit(
                        &form.user,
                        AuditAction::LoginFailed,
                        None,
                        &format!("locked until {until}"),
                    )?;
                    Ok(Err(true))
                }
            }
        })
        .await?;
    match outcome {
        Ok(token) => {
            let mut r = see_other("/incidents");
            let h = r.headers_mut();
            let max_age = ttl / 1000;
            for c in [
                set_cookie(SESSION_COOKIE, &token, Some(max_age), secure),
                set_cookie(LOGIN_COOKIE, "", Some(0), secure),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    h.append(header::SET_COOKIE, v);
                }
            }
            Ok(r)
        }
        Err(locked) => {
            let t = lang.t();
            let msg = if locked { t.locked } else { t.login_failed };
            login_page(&state, lang, Some(msg), StatusCode::UNAUTHORIZED)
        }
    }
}

/// Starts a sign-in at the OpenID Connect provider (404 when none is configured).
pub async fn oidc_start(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(_): Query<Empty>,
) -> Result<Response, PageError> {
    let oidc = state.oidc.clone().ok_or(PageError::NotFound)?;
    let started = tokio::task::spawn_blocking(move || oidc.start())
        .await
        .map_err(|e| PageError::Internal(format!("worker: {e}")))?;
    match started {
        Ok(started) => {
            let mut r = see_other(&started.url);
            let cookie = oidc_state_cookie(&started.state, 600, state.config.secure_cookies);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(e) => {
            tracing::warn!(error = %e, "OpenID Connect sign-in could not start");
            let lang = Lang::of(&headers);
            login_page(
                &state,
                lang,
                Some(lang.t().oidc_failed),
                StatusCode::BAD_GATEWAY,
            )
        }
    }
}

/// The pending sign-in's cookie: `Lax`, since the provider's redirect back is a cross-site
/// navigation; only sent to the callback's path.
fn oidc_state_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let mut c = format!(
        "{}={value}; Path=/login/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}",
        crate::oidc::STATE_COOKIE
    );
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// What a provider sends back. Not strict: providers add parameters (`iss`, `session_state`).
#[derive(Deserialize)]
pub struct OidcCallback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage {
    lang: &'static str,
    css: String,
    text: &'static str,
}

/// Finishes a provider sign-in: checks the state against the browser's cookie, exchanges
/// the code, checks the ID token, and opens a session for the local account it names.
pub async fn oidc_callback(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(callback): Query<OidcCallback>,
) -> Result<Response, PageError> {
    let oidc = state.oidc.clone().ok_or(PageError::NotFound)?;
    let lang = Lang::of(&headers);
    let t = lang.t();
    let cookie_state = crate::security::cookie(&headers, crate::oidc::STATE_COOKIE)
        .unwrap_or("")
        .to_string();
    let has_state_cookie = !cookie_state.is_empty();
    let finished = match (callback.error, callback.code, callback.state) {
        (Some(error), _, _) => Err(crate::oidc::OidcError::Refused(format!(
            "the provider answered {:?}",
            error.chars().take(100).collect::<String>()
        ))),
        (None, Some(code), Some(st)) => {
            tokio::task::spawn_blocking(move || oidc.finish(&st, &code, &cookie_state))
                .await
                .map_err(|e| PageError::Internal(format!("worker: {e}")))?
        }
        _ => Err(crate::oidc::OidcError::UnknownState),
    };
    let name = match finished {
        Ok(name) => name,
        Err(e) => {
            tracing::warn!(error = %e, "OpenID Connect sign-in refused");
            // Audited when a browser presented a sign-in of its own (a replay, a forgery, a
            // provider's refusal); a bare request to the callback only reaches the log.
            if has_state_cookie {
                let detail = format!("oidc: {e}");
                state
                    .with_store(move |store| {
                        store.audit("?", AuditAction::LoginFailed, None, &detail)?;
                        Ok(())
                    })
                    .await?;
            }
            return login_page(&state, lang, Some(t.oidc_failed), StatusCode::FORBIDDEN);
        }
    };
    let ttl = i64::from(state.config.session_minutes) * 60_000;
    let issuer = state
        .config
        .oidc
        .as_ref()
        .map_or(String::new(), |o| o.issuer.clone());
    let token = state
        .with_store(move |store| {
            let now = Timestamp::now();
            let user = store
                .user(&name)?
                .filter(|u| u.locked_until.is_none_or(|until| until <= now));
            let Some(user) = user else {
                store.audit(
                    &name,
                    AuditAction::LoginFailed,
                    None,
                    &format!("oidc ({issuer}): no usable local account"),
                )?;
                return Ok(None);
            };
            let (token, _) = store.create_session(&user.name, user.role, now, ttl)?;
            store.audit(
                &user.name,
                AuditAction::Login,
                None,
                &format!("oidc ({issuer})"),
            )?;
            Ok(Some(token))
        })
        .await?;
    let Some(token) = token else {
        return login_page(&state, lang, Some(t.oidc_no_account), StatusCode::FORBIDDEN);
    };
    let secure = state.config.secure_cookies;
    let page = SignedInPage {
        lang: lang.code(),
        css: assets::css_url(),
        text: t.signed_in,
    };
    let mut r = render(&page).into_response();
    let h = r.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, &token, Some(ttl / 1000), secure),
        oidc_state_cookie("", 0, secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn logout(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Form(_): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let token = crate::security::cookie(&headers, SESSION_COOKIE)
        .unwrap_or("")
        .to_string();
    let user = auth.session.user.clone();
    state
        .with_store(move |store| {
            store.delete_session(&token)?;
            store.audit(&user, AuditAction::Logout, None, "")?;
            Ok(())
        })
        .await?;
    let mut r = see_other("/login");
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        "",
        Some(0),
        state.config.secure_cookies,
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangForm {
    lang: String,
    back: String,
    #[allow(dead_code)]
    csrf: String,
}

pub async fn set_lang(
    State(state): State<ConsoleState>,
    _auth: Auth,
    Form(form): Form<LangForm>,
) -> Result<Response, PageError> {
    let lang =
        Lang::parse(&form.lang).ok_or_else(|| PageError::BadRequest("lang: fr or en".into()))?;
    // Only a path on this site: never an open redirect.
    let back = if form.back.starts_with('/')
        && !form.back.starts_with("//")
        && !form.back.contains('\\')
    {
        form.back
    } else {
        "/incidents".into()
    };
    let mut r = see_other(&back);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        LANG_COOKIE,
        lang.code(),
        Some(365 * 86400),
        state.config.secure_cookies,
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

// ---------------------------------------------------------------- incident list

/// Filters of the incident list (empty values mean "any").
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    source_kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    assignee: String,
    /// `oldest` for the least recently seen first; empty for the most recent first.
    #[serde(default)]
    sort: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    after: String,
}

struct Filters {
    severity: Option<Severity>,
    kind: Option<DocumentKind>,
    org: Option<String>,
    source_kind: Option<SourceKind>,
    status: Option<TriageState>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    q: Option<String>,
    category: Option<Category>,
    assignee: Option<String>,
    order: Order,
    after: Option<PageCursor>,
}

const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];
const SOURCE_KINDS: [SourceKind; 5] = [
    SourceKind::TorForum,
    SourceKind::LeakSite,
    SourceKind::Telegram,
    SourceKind::Web,
    SourceKind::File,
];
const STATUSES: [TriageState; 4] = [
    TriageState::New,
    TriageState::Acknowledged,
    TriageState::FalsePositive,
    TriageState::Suppressed,
];

fn pick<T: Copy>(
    value: &str,
    all: &[T],
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<Option<T>, PageError> {
    if value.is_empty() {
        return Ok(None);
    }
    all.iter()
        .copied()
        .find(|v| name(*v) == value)
        .map(Some)
        .ok_or_else(|| PageError::BadRequest(format!("unknown {what}: {value:?}")))
}

fn date(value: &str, what: &str, end_of_day: bool) -> Result<Option<Timestamp>, PageError> {
    if value.is_empty() {
        return Ok(None);
    }
    let t = Timestamp::parse(value)
        .ok_or_else(|| PageError::BadRequest(format!("{what}: a date YYYY-MM-DD")))?;
    // A date alone means the whole day.
    Ok(Some(if end_of_day && value.len() == 10 {
        Timestamp(t.0 + 86_400_000 - 1)
    } else {
        t
    }))
}

impl ListQuery {
    fn parse(&self) -> Result<Filters, PageError> {
        if self.q.chars().count() > 200 || self.org.chars().count() > 100 {
            return Err(PageError::BadRequest("search text too long".into()));
        }
        let after = if self.after.is_empty() {
            None
        } else {
            let (ms, id) = self
                .after
                .split_once('.')
                .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<u64>().ok()?)))
                .ok_or_else(|| PageError::BadRequest("after: a page cursor".into()))?;
            Some(PageCursor {
                last_seen: Timestamp(ms),
                id,
            })
        };
        let trimmed = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_lowercase());
        Ok(Filters {
            severity: pick(&self.severity, &SEVERITIES, Severity::as_str, "severity")?,
            kind: pick(&self.kind, &DocumentKind::ALL, DocumentKind::as_str, "kind")?,
            org: trimmed(&self.org),
            source_kind: pick(
                &self.source_kind,
                &SOURCE_KINDS,
                SourceKind::as_str,
                "source kind",
            )?,
            status: pick(&self.status, &STATUSES, TriageState::as_str, "status")?,
            since: date(&self.since, "since", false)?,
            until: date(&self.until, "until", true)?,
            q: trimmed(&self.q),
            category: pick(&self.category, &Category::ALL, Category::as_str, "category")?,
            assignee: (!self.assignee.trim().is_empty()).then(|| self.assignee.trim().to_string()),
            order: match self.sort.as_str() {
                "" | "newest" => Order::NewestFirst,
                "oldest" => Order::OldestFirst,
                other => {
                    return Err(PageError::BadRequest(format!(
                        "sort: newest or oldest, not {other:?}"
                    )))
                }
            },
            after,
        })
    }

    fn href(&self, after: Option<PageCursor>) -> String {
        let q = ListQuery {
            after: after.map_or(String::new(), |c| format!("{}.{}", c.last_seen.0, c.id)),
            ..self.clone_filters()
        };
        format!(
            "/incidents?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }

    fn clone_filters(&self) -> ListQuery {
        ListQuery {
            severity: self.severity.clone(),
            kind: self.kind.clone(),
            org: self.org.clone(),
            source_kind: self.source_kind.clone(),
            status: self.status.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            q: self.q.clone(),
            category: self.category.clone(),
            assignee: self.assignee.clone(),
            sort: self.sort.clone(),
            after: String::new(),
        }
    }
}

fn text_contains(store: &Store, incident: &Incident, needle: &str) -> Result<bool, PageError> {
    for h in incident.snapshots.iter().take(MAX_DOCUMENTS) {
        let Some(hash) = vigie_store::parse_hash(h) else {
            continue;
        };
        let Some(bytes) = store.snapshot_bytes(&hash)? else {
            continue;
        };
        let bytes = bytes.get(..MAX_SEARCHED).unwrap_or(&bytes);
        if vigie_match::document_text(bytes)
            .to_lowercase()
            .contains(needle)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn keep(store: &Store, i: &Incident, f: &Filters) -> Result<bool, PageError> {
    if f.severity.is_some_and(|s| i.severity < s) || f.kind.is_some_and(|k| i.kind != k) {
        return Ok(false);
    }
    if let Some(org) = &f.org {
        if !i
            .entities
            .iter()
            .any(|e| e.id == *org || e.name.to_lowercase().contains(org.as_str()))
        {
            return Ok(false);
        }
    }
    if let Some(status) = f.status {
        let state = store.triage(i.id)?.map_or(TriageState::New, |t| t.state);
        if state != status {
            return Ok(false);
        }
    }
    if let Some(sk) = f.source_kind {
        let sightings = store.incident_sightings(i)?;
        if !sightings
            .iter()
            .any(|s| SourceKind::of(&s.locator, &i.topics) == sk)
        {
            return Ok(false);
        }
    }
    if let Some(c) = f.category {
        if !i.entities.iter().any(|e| e.category == c) {
            return Ok(false);
        }
    }
    if let Some(who) = &f.assignee {
        if store.assignee(i.id)?.as_deref() != Some(who.as_str()) {
            return Ok(false);
        }
    }
    if let Some(q) = &f.q {
        return text_contains(store, i, q);
    }
    Ok(true)
}

struct Row {
    id: u64,
    severity: &'static str,
    kind: &'static str,
    organisations: String,
    identifiers: String,
    sightings: u64,
    last_seen: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "incident_rows.html")]
struct RowsPartial {
    t: &'static Texts,
    rows: Vec<Row>,
    q: String,
    bounded: bool,
    next: Option<String>,
    first: Option<String>,
    examined: usize,
}

struct Opt {
    value: &'static str,
    selected: bool,
}

fn opts<T: Copy>(all: &[T], name: fn(T) -> &'static str, current: &str) -> Vec<Opt> {
    all.iter()
        .map(|v| Opt {
            value: name(*v),
            selected: name(*v) == current,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    c: Chrome,
    f: ListQuery,
    saved: Vec<SavedView>,
    current_query: String,
    severities: Vec<Opt>,
    kinds: Vec<Opt>,
    source_kinds: Vec<Opt>,
    statuses: Vec<Opt>,
    categories: Vec<Opt>,
    /// Analysts an incident can be assigned to, and whether the filter names them.
    assignees: Vec<(String, bool)>,
    sorts: Vec<Opt>,
    rows: String,
}

fn identifiers_summary(i: &Incident) -> String {
    i.identifiers
        .iter()
        .filter(|(_, c)| c.valid > 0)
        .map(|(k, c)| format!("{} {}", k.label(), c.valid))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn incidents(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let filters = query.parse()?;
    let max = if filters.q.is_some() {
        MAX_EXAMINED_TEXT
    } else {
        MAX_EXAMINED
    };
    let after = filters.after;
    // An organisation of the watchlist is looked up in the entity index; a name no entity
    // carries any more (an older watchlist) falls back to the walk through time.
    let entities: Vec<String> = filters.org.as_deref().map_or_else(Vec::new, |org| {
        state
            .matcher
            .entities()
            .iter()
            .filter(|e| e.id == org || e.name.to_lowercase().contains(org))
            .map(|e| e.id.clone())
            .collect()
    });
    let (page, statuses) = state
        .with_store(move |store| {
            let mut failure = None;
            let mut keep = |s: &Store, i: &Incident| match keep(s, i, &filters) {
                Ok(k) => Ok(k),
                Err(e) => {
                    failure = Some(e);
                    Ok(false)
                }
            };
            let page = if entities.is_empty() {
                store.incident_page(
                    filters.order,
                    filters.after,
                    filters.since,
                    filters.until,
                    PAGE_SIZE,
                    max,
                    &mut keep,
                )?
            } else {
                let entities: Vec<&str> = entities.iter().map(String::as_str).collect();
                store.entity_incident_page(
                    filters.order,
                    &entities,
                    filters.after,
                    filters.since,
                    filters.until,
                    PAGE_SIZE,
                    &mut keep,
                )?
            };
            if let Some(e) = failure {
                return Err(e);
            }
            let mut statuses = Vec::new();
            for i in &page.incidents {
                statuses.push(store.triage(i.id)?.map_or(TriageState::New, |t| t.state));
            }
            Ok((page, statuses))
        })
        .await?;
    let t = Lang::of(&headers).t();
    let rows = page
        .incidents
        .iter()
        .zip(statuses)
        .map(|(i, status)| Row {
            id: i.id,
            severity: i.severity.as_str(),
            kind: i.kind.as_str(),
            organisations: i
                .entities
                .iter()
                .take(3)
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            identifiers: identifiers_summary(i),
            sightings: i.sightings,
            last_seen: fmt_time(i.last_seen),
            status: status.as_str(),
        })
        .collect();
    let partial = RowsPartial {
        t,
        rows,
        q: query.q.clone(),
        bounded: page.bounded,
        next: page.next.map(|c| query.href(Some(c))),
        first: after.map(|_| query.href(None)),
        examined: page.examined,
    };
    if is_htmx(&headers) {
        return Ok(render(&partial).into_response());
    }
    let rows = render(&partial).0;
    let user = auth.session.user.clone();
    let (saved, users) = state
        .with_store(move |store| Ok((store.saved_searches(&user)?, store.users()?)))
        .await?;
    let saved = saved
        .into_iter()
        .map(|s| SavedView {
            href: format!("/incidents?{}", s.query),
            name: s.name,
        })
        .collect();
    let assignees = users
        .into_iter()
        .filter(|u| u.role.can_triage())
        .map(|u| {
            let selected = u.name == query.assignee.trim();
            (u.name, selected)
        })
        .collect();
    let current_query = serde_urlencoded::to_string(query.clone_filters()).unwrap_or_default();
    let page = ListPage {
        c: Chrome::of(&auth, &headers, "/incidents"),
        saved,
        current_query,
        severities: opts(&SEVERITIES, Severity::as_str, &query.severity),
        kinds: opts(&DocumentKind::ALL, DocumentKind::as_str, &query.kind),
        source_kinds: opts(&SOURCE_KINDS, SourceKind::as_str, &query.source_kind),
        statuses: opts(&STATUSES, TriageState::as_str, &query.status),
        categories: opts(&Category::ALL, Category::as_str, &query.category),
        assignees,
        sorts: opts(&["newest", "oldest"], |s| s, &query.sort),
        f: query,
        rows,
    };
    Ok(render(&page).into_response())
}

// ---------------------------------------------------------------- one incident

struct IdView {
    kind: &'static str,
    valid: u64,
    invalid: u64,
    examples: String,
}

struct SightingView {
    source: String,
    place: String,
    first_seen: String,
    last_seen: String,
    times: u64,
    views: String,
}

struct EvidenceView {
    hash: String,
    size: u64,
    purged: bool,
}

struct CustodyView {
    seq: u64,
    time: String,
    action: &'static str,
    hash: String,
}

/// An RFC 3161 token over the chain at or after a snapshot's custody entries.
struct TokenView {
    /// The custody entry it covers.
    seq: u64,
    /// That entry's time (when the chain reached it).
    time: String,
    /// SHA-256 of the token (DER), to compare with an exported copy.
    sha256: String,
    size: usize,
}

struct AlertView {
    id: u64,
    revision: u32,
    recipient: String,
    reason: String,
    state: &'static str,
    attempts: u32,
}

struct DocView {
    hash: String,
    segments: Vec<Segment>,
    truncated: bool,
}

struct IncidentView {
    id: u64,
    severity: &'static str,
    kind: &'static str,
    first_seen: String,
    last_seen: String,
    sources: String,
    organisations: Vec<String>,
    why: Vec<String>,
    identifiers: Vec<IdView>,
    sample_columns: String,
    sample_rows: u64,
    documents: Vec<DocView>,
    sightings: Vec<SightingView>,
    evidence: Vec<EvidenceView>,
    custody: Vec<CustodyView>,
    tokens: Vec<TokenView>,
    alerts: Vec<AlertView>,
}

struct HistoryView {
    at: String,
    user: String,
    action: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "triage_panel.html")]
struct TriagePanel {
    t: &'static Texts,
    id: u64,
    csrf: String,
    can_triage: bool,
    state: &'static str,
    reason: Option<String>,
    assignee: String,
    users: Vec<String>,
    history: Vec<HistoryView>,
    saved: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    c: Chrome,
    v: IncidentView,
    triage_panel: String,
}

/// Audit entries about an incident, newest first (bounded scan of the trail).
const HISTORY_SCAN: usize = 200;

fn triage_panel(
    store: &Store,
    id: u64,
    auth: &Auth,
    t: &'static Texts,
    saved: Option<&'static str>,
) -> Result<TriagePanel, PageError> {
    let triage = store.triage(id)?;
    let history: Vec<AuditEntry> = store.audit_entries(None, HISTORY_SCAN, Some(id), None)?;
    // Older stores kept assignments only in the trail.
    let assignee = match store.assignee(id)? {
        Some(name) => name,
        None => history
            .iter()
            .find(|e| e.action == AuditAction::Assign)
            .map_or_else(|| "—".to_string(), |e| e.detail.clone()),
    };
    Ok(TriagePanel {
        t,
        id,
        csrf: auth.session.csrf.clone(),
        can_triage: auth.role().can_triage(),
        state: triage.as_ref().map_or("new", |t| t.state.as_str()),
        reason: triage.and_then(|t| t.reason),
        assignee,
        users: store.users()?.into_iter().map(|u| u.name).collect(),
        history: history
            .into_iter()
            .map(|e| HistoryView {
                at: fmt_time(e.at),
                user: e.user,
                action: e.action.as_str(),
                detail: e.detail,
            })
            .collect(),
        saved,
    })
}

/// Custody entries read around a snapshot's storage, at most.
const CUSTODY_WINDOW: u64 = 64;

/// The custody entries written when a snapshot was stored (its `snapshot_added` and the
/// sightings recorded in the same batch). The chain has no index by object, but its times
/// only grow: a binary search on the storage time finds the batch in O(log n) reads, where
/// a scan would read the whole chain. Later repeat sightings are in `vigie evidence`.
fn custody_near(
    store: &Store,
    hash: &str,
    stored_at: Option<Timestamp>,
) -> Result<Vec<vigie_store::CustodyEntry>, PageError> {
    let Some(at) = stored_at else {
        return Ok(Vec::new());
    };
    let (mut lo, mut hi) = (1u64, store.custody_head().seq.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match store.custody_entry(mid)? {
            Some(e) if e.time < at => lo = mid + 1,
            _ => hi = mid,
        }
    }
    let mut out = Vec::new();
    for seq in lo..lo.saturating_add(CUSTODY_WINDOW) {
        let Some(e) = store.custody_entry(seq)? else {
            break;
        };
        if e.key.starts_with(hash) {
            out.push(e);
        }
    }
    Ok(out)
}

fn incident_view(store: &Store, i: &Incident) -> Result<IncidentView, PageError> {
    let mut documents = Vec::new();
    let mut evidence = Vec::new();
    let mut sample_columns = String::new();
    for h in &i.snapshots {
        let Some(hash) = vigie_store::parse_hash(h) else {
            continue;
        };
        let record = store.snapshot_record(&hash)?;
        evidence.push(EvidenceView {
            hash: h.clone(),
            size: record.as_ref().map_or(0, |r| r.size),
            purged: record.as_ref().is_some_and(|r| r.purged_at.is_some()),
        });
        let Some(record) = record else { continue };
        if sample_columns.is_empty() {
            if let Some(s) = &record.analysis.report.sample {
                sample_columns = s.columns.join(", ");
            }
        }
        if documents.len() < MAX_DOCUMENTS {
            if let Some(bytes) = store.snapshot_bytes(&hash)? {
                let text = vigie_match::document_text(&bytes);
                let (segments, truncated) = segments(&text, &record.analysis.report);
                documents.push(DocView {
                    hash: h.clone(),
                    segments,
                    truncated,
                });
            }
        }
    }
    let sightings = store
        .incident_sightings(i)?
        .into_iter()
        .map(|s| SightingView {
            source: s.source,
            place: s.locator.to_string(),
            first_seen: fmt_time(s.first_seen),
            last_seen: fmt_time(s.last_seen),
            times: s.times_seen,
            views: s.details.views.map_or(String::new(), |v| v.to_string()),
        })
        .collect();
    let mut custody = Vec::new();
    for h in &i.snapshots {
        let Some(hash) = vigie_store::parse_hash(h) else {
            continue;
        };
        if let Some(record) = store.snapshot_record(&hash)? {
            for e in custody_near(store, h, record.stored_at)? {
                custody.push(CustodyView {
                    seq: e.seq,
                    time: fmt_time(e.time),
                    action: e.action.as_str(),
                    hash: e.hash,
                });
            }
        }
    }
    // The first token at or after each snapshot's earliest custody entry: the chain links
    // that entry to the token's.
    let mut tokens: Vec<TokenView> = Vec::new();
    let firsts: std::collections::BTreeSet<u64> = custody.iter().map(|c| c.seq).collect();
    for seq in firsts {
        if tokens.iter().any(|t| t.seq >= seq) {
            continue;
        }
        if let Some((at, token)) = store.timestamp_token_covering(seq)? {
            let time = store
                .custody_entry(at)?
                .map_or(String::new(), |e| fmt_time(e.time));
            tokens.push(TokenView {
                seq: at,
                time,
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&token)),
                size: token.len(),
            });
        }
    }
    let queue = store.alert_queue();
    let mut alerts = Vec::new();
    for mark in store.alert_marks(i.id)? {
        let record = queue.alert(mark.alert)?;
        let entry = queue.entry(mark.alert)?;
        alerts.push(AlertView {
            id: mark.alert,
            revision: mark.revision,
            recipient: mark.recipient,
            reason: record.map_or(String::new(), |r| r.reason),
            state: entry.as_ref().map_or("?", |e| e.state.as_str()),
            attempts: entry.map_or(0, |e| e.attempts),
        });
    }
    Ok(IncidentView {
        id: i.id,
        severity: i.severity.as_str(),
        kind: i.kind.as_str(),
        first_seen: fmt_time(i.first_seen),
        last_seen: fmt_time(i.last_seen),
        sources: i.sources.join(", "),
        organisations: i
            .entities
            .iter()
            .map(|e| format!("{} [{}] ({})", e.name, e.id, e.category))
            .collect(),
        why: i.why.clone(),
        identifiers: i
            .identifiers
            .iter()
            .map(|(k, c)| IdView {
                kind: k.label(),
                valid: c.valid,
                invalid: c.invalid,
                // Only masks, never more than four digits (older stores kept seven).
                examples: c
                    .examples
                    .iter()
                    .filter(|e| e.contains('*'))
                    .map(|e| vigie_core::cap_shown_digits(e))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        sample_columns,
        sample_rows: i.sample_rows,
        documents,
        sightings,
        evidence,
        custody,
        tokens,
        alerts,
    })
}

pub async fn incident(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Query(_): Query<Empty>,
) -> Result<Response, PageError> {
    let t = Lang::of(&headers).t();
    let a = auth.clone();
    let found = state
        .with_store(move |store| {
            let i = store.incident(id)?.ok_or(PageError::NotFound)?;
            if let Some(into) = i.merged_into {
                return Ok(Err(into));
            }
            Ok(Ok((
                incident_view(store, &i)?,
                triage_panel(store, id, &a, t, None)?,
            )))
        })
        .await?
        // A merged incident's id (in alerts already sent) leads to the one that absorbed it.
        .map_err(|into| see_other(&format!("/incidents/{into}")));
    let (view, panel) = match found {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let page = IncidentPage {
        c: Chrome::of(&auth, &headers, &format!("/incidents/{id}")),
        v: view,
        triage_panel: render(&panel).0,
    };
    Ok(render(&page).into_response())
}

// ---------------------------------------------------------------- triage

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageForm {
    state: String,
    #[serde(default)]
    reason: String,
    #[allow(dead_code)]
    csrf: String,
}

async fn after_change(
    state: &ConsoleState,
    auth: &Auth,
    headers: &HeaderMap,
    id: u64,
) -> Result<Response, PageError> {
    if !is_htmx(headers) {
        return Ok(see_other(&format!("/incidents/{id}")));
    }
    let t = Lang::of(headers).t();
    let a = auth.clone();
    let panel = state
        .with_store(move |store| triage_panel(store, id, &a, t, Some(t.saved)))
        .await?;
    Ok(render(&panel).into_response())
}

pub async fn triage(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<TriageForm>,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let new_state = match form.state.as_str() {
        "acknowledged" => TriageState::Acknowledged,
        "false_positive" => TriageState::FalsePositive,
        "new" => TriageState::New,
        other => return Err(PageError::BadRequest(format!("unknown state {other:?}"))),
    };
    let reason = form.reason.trim().chars().take(500).collect::<String>();
    let user = auth.session.user.clone();
    let id = state
        .with_store(move |store| {
            // A merged incident's id (a stale page, an old alert) means its survivor.
            let id = store.live_incident_id(id)?;
            let r = (!reason.is_empty()).then(|| format!("{reason} ({user})"));
            store.set_triage(id, new_state, r)?;
            store.audit(
                &user,
                AuditAction::Triage,
                Some(id),
                &format!("{}: {reason}", new_state.as_str()),
            )?;
            Ok(id)
        })
        .await?;
    after_change(&state, &auth, &headers, id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeForm {
    /// The incident to absorb into this one.
    from: u64,
    reason: String,
    #[allow(dead_code)]
    csrf: String,
}

/// A reason for a merge or split: required, as for a reveal (the next analyst reads it).
fn regroup_reason(reason: &str) -> Result<String, PageError> {
    let reason = reason.trim();
    if reason.chars().count() < 10 || reason.chars().count() > 500 {
        return Err(PageError::BadRequest(
            "a reason of 10 to 500 characters is required".into(),
        ));
    }
    Ok(reason.to_string())
}

/// Merges another incident into this one (analysts only; audited in the same write).
pub async fn merge(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<MergeForm>,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let reason = regroup_reason(&form.reason)?;
    let user = auth.session.user.clone();
    state
        .with_store(move |store| {
            store.merge_incidents(id, form.from, &user, &reason)?;
            Ok(())
        })
        .await?;
    after_regroup(&headers, id)
}

/// Splits the checked snapshots (`snapshot`, repeated) out into a new incident. The form
/// repeats a field, which `Form` does not take: the body is read as pairs.
pub async fn split(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| PageError::BadRequest(format!("bad form: {e}")))?;
    let (mut moved, mut reason) = (Vec::new(), String::new());
    for (key, value) in pairs {
        match key.as_str() {
            "snapshot" if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
                moved.push(value.to_ascii_lowercase())
            }
            "snapshot" => return Err(PageError::BadRequest("bad snapshot hash".into())),
            "reason" => reason = value,
            "csrf" => {}
            other => return Err(PageError::BadRequest(format!("unknown field {other:?}"))),
        }
    }
    let reason = regroup_reason(&reason)?;
    let user = auth.session.user.clone();
    let created = state
        .with_store(move |store| Ok(store.split_incident(id, &moved, &user, &reason)?.target.id))
        .await?;
    after_regroup(&headers, created)
}

/// After a merge or split, to the incident that holds the snapshots (a full page: both
/// panels and the document list changed).
fn after_regroup(headers: &HeaderMap, id: u64) -> Result<Response, PageError> {
    let to = format!("/incidents/{id}");
    let mut response = see_other(&to);
    if is_htmx(headers) {
        if let Ok(v) = HeaderValue::from_str(&to) {
            response.headers_mut().insert("hx-redirect", v);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentForm {
    text: String,
    #[allow(dead_code)]
    csrf: String,
}

pub async fn comment(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<CommentForm>,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let text = form.text.trim().to_string();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(PageError::BadRequest(
            "a comment is 1 to 2000 characters".into(),
        ));
    }
    let user = auth.session.user.clone();
    let id = state
        .with_store(move |store| {
            let id = store.live_incident_id(id)?;
            store.audit(&user, AuditAction::Comment, Some(id), &text)?;
            Ok(id)
        })
        .await?;
    after_change(&state, &auth, &headers, id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignForm {
    user: String,
    #[allow(dead_code)]
    csrf: String,
}

pub async fn assign(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<AssignForm>,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let user = auth.session.user.clone();
    let id = state
        .with_store(move |store| {
            let id = store.live_incident_id(id)?;
            if store.user(&form.user)?.is_none() {
                return Err(PageError::BadRequest("no such user".into()));
            }
            store.assign(&user, id, &form.user)?;
            Ok(id)
        })
        .await?;
    after_change(&state, &auth, &headers, id).await
}

// ---------------------------------------------------------------- reveal

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealForm {
    reason: String,
    #[allow(dead_code)]
    csrf: String,
}

struct RevealRow {
    kind: &'static str,
    values: String,
}

#[derive(Template)]
#[template(path = "revealed.html")]
struct Revealed {
    t: &'static Texts,
    reason: String,
    rows: Vec<RevealRow>,
}

/// Raw values shown per kind, at most.
const REVEAL_EXAMPLES: usize = 50;

pub async fn reveal(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<RevealForm>,
) -> Result<Response, PageError> {
    let user = auth.session.user.clone();
    let reason = form.reason.trim().chars().take(500).collect::<String>();
    if !auth.role().can_triage() {
        state
            .with_store(move |store| {
                store.audit(&user, AuditAction::RevealRefused, Some(id), "role viewer")?;
                Ok(())
            })
            .await?;
        return Err(PageError::Forbidden);
    }
    if reason.chars().count() < MIN_REASON {
        return Err(PageError::BadRequest(format!(
            "a reveal needs a reason of at least {MIN_REASON} characters"
        )));
    }
    let matcher = std::sync::Arc::clone(&state.matcher);
    let r = reason.clone();
    let rows = state
        .with_store(move |store| {
            let incident = store.incident(id)?.ok_or(PageError::NotFound)?;
            let mut found: std::collections::BTreeMap<IdentifierKind, Vec<String>> =
                Default::default();
            for h in incident.snapshots.iter().take(MAX_DOCUMENTS) {
                let Some(hash) = vigie_store::parse_hash(h) else {
                    continue;
                };
                let Some(bytes) = store.snapshot_bytes(&hash)? else {
                    continue;
                };
                let options = ScanOptions {
                    reveal: true,
                    examples: REVEAL_EXAMPLES,
                    ..ScanOptions::default()
                };
                let report = matcher.scan_bytes(h, &bytes, options);
                for (kind, count) in report.identifiers {
                    let slot = found.entry(kind).or_default();
                    for v in count.examples {
                        if slot.len() < REVEAL_EXAMPLES && !slot.contains(&v) {
                            slot.push(v);
                        }
                    }
                }
            }
            // The trail says who saw what kinds and how many, never the values.
            let shown = found
                .iter()
                .map(|(k, v)| format!("{} {}", k.as_str(), v.len()))
                .collect::<Vec<_>>()
                .join(", ");
            store.audit(
                &user,
                AuditAction::Reveal,
                Some(id),
                &format!("reason: {r}; shown: {shown}"),
            )?;
            Ok(found)
        })
        .await?;
    let t = Lang::of(&headers).t();
    let partial = Revealed {
        t,
        reason,
        rows: rows
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| RevealRow {
                kind: k.label(),
                values: v.join(", "),
            })
            .collect(),
    };
    Ok(render(&partial).into_response())
}

// ---------------------------------------------------------------- audit, alerts, sources

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    before: Option<u64>,
}

struct AuditView {
    seq: u64,
    at: String,
    user: String,
    action: &'static str,
    incident: Option<u64>,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<AuditView>,
    next: Option<String>,
}

/// Audit entries per page.
const AUDIT_PAGE: usize = 100;

pub async fn audit(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let entries = state
        .with_store(move |store| Ok(store.audit_entries(q.before, AUDIT_PAGE, None, None)?))
        .await?;
    let next = (entries.len() == AUDIT_PAGE)
        .then(|| entries.last().map(|e| format!("/audit?before={}", e.seq)))
        .flatten();
    let page = AuditPage {
        c: Chrome::of(&auth, &headers, "/audit"),
        entries: entries
            .into_iter()
            .map(|e| AuditView {
                seq: e.seq,
                at: fmt_time(e.at),
                user: e.user,
                action: e.action.as_str(),
                incident: e.incident,
                detail: e.detail,
            })
            .collect(),
        next,
    };
    Ok(render(&page).into_response())
}

struct OutboxRow {
    id: u64,
    recipient: String,
    incident: Option<u64>,
    attempts: u32,
    last_error: String,
}

struct OutboxGroup {
    title: &'static str,
    redeliverable: bool,
    rows: Vec<OutboxRow>,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    c: Chrome,
    groups: Vec<OutboxGroup>,
    recipients: Vec<RecipientView>,
}

struct RecipientView {
    id: String,
    endpoint: String,
    format: String,
    min_severity: String,
    scope: String,
    digest: bool,
    organisations: String,
}

/// Outbox entries listed per state.
const OUTBOX_ROWS: usize = 200;

pub async fn alerts(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Query(_): Query<Empty>,
) -> Result<Response, PageError> {
    let t = Lang::of(&headers).t();
    let groups = state
        .with_store(move |store| {
            let queue = store.alert_queue();
            let mut groups = Vec::new();
            for (st, title, redeliverable) in [
                (OutboxState::Dead, t.outbox_dead, true),
                (OutboxState::Pending, t.outbox_pending, false),
                (OutboxState::Delivered, t.outbox_delivered, true),
            ] {
                let mut rows = Vec::new();
                for e in queue.entries(st, OUTBOX_ROWS)? {
                    let incident = queue.alert(e.alert)?.map(|a| a.incident.id);
                    rows.push(OutboxRow {
                        id: e.alert,
                        recipient: e.recipient,
                        incident,
                        attempts: e.attempts,
                        last_error: e.last_error.unwrap_or_default(),
                    });
                }
                groups.push(OutboxGroup {
                    title,
                    redeliverable,
                    rows,
                });
            }
            Ok(groups)
        })
        .await?;
    let recipients = state
        .recipients
        .iter()
        .map(|r| RecipientView {
            id: r.id.clone(),
            endpoint: r.endpoint.clone(),
            format: r.format.clone(),
            min_severity: r.min_severity.clone(),
            scope: match (r.catch_all, r.categories.is_empty()) {
                (true, _) => t.catch_all.to_string(),
                (false, true) => t.any.to_string(),
                (false, false) => r.categories.join(", "),
            },
            digest: r.digest,
            organisations: r.organisations.join(", "),
        })
        .collect();
    let page = AlertsPage {
        c: Chrome::of(&auth, &headers, "/alerts"),
        groups,
        recipients,
    };
    Ok(render(&page).into_response())
}

pub async fn redeliver(
    State(state): State<ConsoleState>,
    auth: Auth,
    Path(id): Path<u64>,
    Form(_): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    auth.require_analyst()?;
    let user = auth.session.user.clone();
    state
        .with_store(move |store| {
            let entry = store
                .alert_queue()
                .redeliver(id, Timestamp::now())?
                .ok_or(PageError::NotFound)?;
            let incident = store.alert_queue().alert(id)?.map(|a| a.incident.id);
            store.audit(
                &user,
                AuditAction::Redeliver,
                incident,
                &format!("alert {id} to {}", entry.recipient),
            )?;
            Ok(())
        })
        .await?;
    Ok(see_other("/alerts"))
}

struct CandidateView {
    kind: String,
    name: String,
    first_seen: String,
    last_seen: String,
    times: u64,
    seen_in: String,
    /// The configuration section that would follow it, when its name is well-formed.
    snippet: Option<String>,
}

/// A `[[tor_source]]` or `[[telegram_preview]]` section for a candidate, to paste into the
/// configuration after checking the place. Only names of the expected shape get one (the
/// names come from the pages watched), so nothing odd lands in a TOML string.
fn source_snippet(kind: &str, name: &str) -> Option<String> {
    match kind {
        "onion" => {
            let host = name.strip_suffix(".onion")?;
            let v3 = host.len() == 56
                && host
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
            v3.then(|| {
                format!(
                    "[[tor_source]]\nid = \"candidate-{}\"\nkind = \"forum\"        # forum | leak-site | page: look at the site first\nengine = \"auto\"\nmirrors = [\"http://{name}/\"]\nstart = \"/\"\ninterval_secs = 1800\n",
                    &host[..12]
                )
            })
        }
        "telegram" => {
            let ok = (5..=32).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            ok.then(|| format!("[[telegram_preview]]\nchannel = \"{name}\"\ninterval_secs = 300\n"))
        }
        _ => None,
    }
}

struct HealthView {
    source: String,
    runs: usize,
    last_at: String,
    status: &'static str,
    /// The last runs' statuses, oldest first (at most 20).
    trend: String,
    pages: String,
    documents: usize,
    blind: String,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    c: Chrome,
    health: Vec<HealthView>,
    candidates: Vec<CandidateView>,
}

pub async fn sources(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Query(_): Query<Empty>,
) -> Result<Response, PageError> {
    let (health, candidates) = state
        .with_store(|store| Ok((store.health_all()?, store.candidates()?)))
        .await?;
    let health = health
        .into_iter()
        .filter_map(|(source, runs)| {
            let last = runs.last()?;
            Some(HealthView {
                runs: runs.len(),
                last_at: fmt_time(Timestamp(last.at_ms)),
                status: last.status.as_str(),
                trend: runs
                    .iter()
                    .rev()
                    .take(20)
                    .rev()
                    .map(|r| r.status.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                pages: format!("{} / {}", last.pages_ok, last.pages_ok + last.pages_failed),
                documents: last.documents,
                blind: last.blind.join(", "),
                source,
            })
        })
        .collect();
    let page = SourcesPage {
        c: Chrome::of(&auth, &headers, "/sources"),
        health,
        candidates: candidates
            .into_iter()
            .take(1000)
            .map(|c| CandidateView {
                first_seen: fmt_time(c.first_seen),
                last_seen: fmt_time(c.last_seen),
                times: c.times,
                seen_in: c.seen_in.join(", "),
                snippet: source_snippet(&c.kind, &c.name),
                kind: c.kind,
                name: c.name,
            })
            .collect(),
    };
    Ok(render(&page).into_response())
}

// ---------------------------------------------------------------- watchlists

struct EntityView {
    id: String,
    name: String,
    category: &'static str,
    aliases: String,
    domains: String,
    finess: usize,
    notify: String,
}

#[derive(Template)]
#[template(path = "watchlists.html")]
struct WatchlistsPage {
    c: Chrome,
    q: String,
    shown: usize,
    total: usize,
    entities: Vec<EntityView>,
}

/// Rows shown at most (the shipped watchlists hold a few thousand organisations).
const MAX_ENTITIES_SHOWN: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchlistQuery {
    #[serde(default)]
    q: String,
}

/// The organisations watched, with their aliases, domains and who is notified; searchable.
pub async fn watchlists(
    State(state): State<ConsoleState>,
    auth: Auth,
    headers: HeaderMap,
    Query(query): Query<WatchlistQuery>,
) -> Result<Response, PageError> {
    if query.q.chars().count() > 100 {
        return Err(PageError::BadRequest(
            "search text over 100 characters".into(),
        ));
    }
    let q = query.q.trim().to_lowercase();
    let all = state.matcher.entities();
    let hit = |e: &&vigie_match::Entity| {
        q.is_empty()
            || e.id.contains(q.as_str())
            || e.names().any(|n| n.to_lowercase().contains(q.as_str()))
            || e.domains
                .iter()
                .any(|d| d.to_lowercase().contains(q.as_str()))
    };
    let entities: Vec<EntityView> = all
        .iter()
        .filter(hit)
        .take(MAX_ENTITIES_SHOWN)
        .map(|e| EntityView {
            id: e.id.clone(),
            name: e.name.clone(),
            category: e.category.as_str(),
            aliases: e.aliases.join(", "),
            domains: e.domains.join(", "),
            finess: e.finess.len(),
            notify: e.notify.join(", "),
        })
        .collect();
    let page = WatchlistsPage {
        c: Chrome::of(&auth, &headers, "/watchlists"),
        q: query.q.trim().to_string(),
        shown: entities.len(),
        total: all.len(),
        entities,
    };
    Ok(render(&page).into_response())
}

// ---------------------------------------------------------------- weekly digest

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestQuery {
    #[serde(default)]
    week: String,
}

/// The weekly digest (`?week=2026-W47`, default the last full week) as the digest crate
/// renders it: a document of its own, whose one inline style sheet is allowed by its hash.
pub async fn digest(
    State(state): State<ConsoleState>,
    _auth: Auth,
    headers: HeaderMap,
    Query(query): Query<DigestQuery>,
) -> Result<Response, PageError> {
    let now = Timestamp::now();
    let week = match query.week.trim() {
        "" => vigie_digest::IsoWeek::last_full(now),
        w if w.len() > 10 => return Err(PageError::BadRequest("week: YYYY-Www".into())),
        w => w
            .parse::<vigie_digest::IsoWeek>()
            .map_err(|e| PageError::BadRequest(format!("week: {e}")))?,
    };
    let lang = match Lang::of(&headers) {
        Lang::Fr => vigie_digest::Language::Fr,
        Lang::En => vigie_digest::Language::En,
    };
    let digest = state
        .with_store(move |store| {
            vigie_digest::build(store, week, now).map_err(|e| PageError::Internal(e.to_string()))
        })
        .await?;
    let html = vigie_digest::html(&digest, lang);
    let mut response = Html(html.clone()).into_response();
    if let Ok(csp) = HeaderValue::from_str(&crate::security::digest_csp(&html)) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(response)
}

// ---------------------------------------------------------------- exports

fn attachment(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// An incident as a MISP event or a STIX 2.1 bundle (masked counts and hashes only, as the
/// alerts carry: no raw identifier, row or text), for any signed-in user; audited.
pub async fn export(
    State(state): State<ConsoleState>,
    auth: Auth,
    Path((id, format)): Path<(u64, String)>,
    Query(_): Query<Empty>,
) -> Result<Response, PageError> {
    if format != "misp" && format != "stix" {
        return Err(PageError::NotFound);
    }
    let user = auth.session.user.clone();
    let f = format.clone();
    let json = state
        .with_store(move |store| {
            let incident = vigie_export::load(store, id)?.ok_or(PageError::NotFound)?;
            let value = if f == "misp" {
                vigie_export::misp_event(&incident)
            } else {
                vigie_export::stix_bundle(std::slice::from_ref(&incident), Timestamp::now())
            };
            store.audit(&user, AuditAction::Export, Some(id), &format!("{f} export"))?;
            serde_json::to_vec_pretty(&value).map_err(|e| PageError::Internal(e.to_string()))
        })
        .await?;
    Ok(attachment(
        json,
        "application/json",
        &format!("vigie-incident-{id}.{format}.json"),
    ))
}

/// The form of an evidence bundle download.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceForm {
    reason: String,
    #[allow(dead_code)]
    csrf: String,
}

/// The incident's evidence bundle (raw snapshots, manifest, SHA256SUMS) as `vigie evidence
/// export` writes it: raw data, so for analysts and admins only, with a typed reason, audited
/// like a reveal.
pub async fn evidence_bundle(
    State(state): State<ConsoleState>,
    auth: Auth,
    Path(id): Path<u64>,
    Form(form): Form<EvidenceForm>,
) -> Result<Response, PageError> {
    let user = auth.session.user.clone();
    if !auth.role().can_triage() {
        state
            .with_store(move |store| {
                store.audit(
                    &user,
                    AuditAction::RevealRefused,
                    Some(id),
                    "evidence bundle: role viewer",
                )?;
                Ok(())
            })
            .await?;
        return Err(PageError::Forbidden);
    }
    let reason = form.reason.trim().chars().take(500).collect::<String>();
    if reason.chars().count() < MIN_REASON {
        return Err(PageError::BadRequest(format!(
            "an evidence bundle needs a reason of at least {MIN_REASON} characters"
        )));
    }
    let bundle = state
        .with_store(move |store| {
            if store.incident(id)?.is_none() {
                return Err(PageError::NotFound);
            }
            let mut bundle = Vec::new();
            let summary = store.export_incident(id, &mut bundle)?;
            store.audit(
                &user,
                AuditAction::Export,
                Some(id),
                &format!(
                    "evidence bundle; reason: {reason}; {} snapshot files, {} purged",
                    summary.files, summary.purged
                ),
            )?;
            Ok(bundle)
        })
        .await?;
    Ok(attachment(
        bundle,
        "application/gzip",
        &format!("vigie-incident-{id}.tar.gz"),
    ))
}

// ---------------------------------------------------------------- saved searches

struct SavedView {
    name: String,
    href: String,
}

/// The form saving the incident list's current filters under a name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveSearchForm {
    name: String,
    query: String,
    #[allow(dead_code)]
    csrf: String,
}

/// Saves the current filters for this user (checked as the list checks them), then shows
/// the list they select.
pub async fn save_search(
    State(state): State<ConsoleState>,
    auth: Auth,
    Form(form): Form<SaveSearchForm>,
) -> Result<Response, PageError> {
    let query: ListQuery = serde_urlencoded::from_str(&form.query)
        .map_err(|e| PageError::BadRequest(format!("saved query: {e}")))?;
    query.parse()?;
    let canonical = serde_urlencoded::to_string(query.clone_filters()).unwrap_or_default();
    let user = auth.session.user.clone();
    let q = canonical.clone();
    state
        .with_store(move |store| {
            store
                .save_search(&user, &form.name, &q, Timestamp::now())
                .map_err(|e| match e {
                    vigie_store::SavedSearchError::Store(e) => PageError::from(e),
                    other => PageError::BadRequest(other.to_string()),
                })
        })
        .await?;
    Ok(see_other(&format!("/incidents?{canonical}")))
}

/// The form deleting one of the user's saved searches.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteSearchForm {
    name: String,
    #[allow(dead_code)]
    csrf: String,
}

pub async fn delete_search(
    State(state): State<ConsoleState>,
    auth: Auth,
    Form(form): Form<DeleteSearchForm>,
) -> Result<Response, PageError> {
    let user = auth.session.user.clone();
    state
        .with_store(move |store| Ok(store.delete_saved_search(&user, &form.name)?))
        .await?;
    Ok(see_other("/incidents"))
}
