//! The console's handlers called in process (`tower::ServiceExt::oneshot`), over a real store
//! holding a hostile post.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vigie_console::{router, ConsoleConfig, ConsoleState};
use vigie_core::Category;
use vigie_match::{Entity, Matcher, ScanOptions};
use vigie_store::{AuditAction, Locator, Role, Sighting, Store, Timestamp, TriageState};

/// Valid NIRs (key 97 - n mod 97), computed by hand for this test.
const NIR_A: &str = "185057512345673";
const PASSWORD: &str = "correct horse battery staple";

/// A sale post with raw NIRs, a script tag and htmx attributes in its text.
fn hostile_post(variant: &str) -> String {
    format!(
        "Vends base MEDECIN DIRECT {variant}, 300k patients, échantillon:\n\
         nom;nir\nDupont;{NIR_A}\nMartin;285057512345623\nDurand;185057512345772\n\
         <script>alert('xss')</script> <div hx-get=\"/logout\" hx-trigger=\"load\">clic</div>\n\
         Prix 2 BTC, escrow ok, contact tox.\n"
    )
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Mutex<Store>>,
    app: Router,
    matcher: Matcher,
}

fn matcher() -> Matcher {
    Matcher::from_entities(vec![Entity {
        id: "medecindirect".into(),
        name: "MédecinDirect".into(),
        category: Category::Telehealth,
        aliases: vec!["Medecin Direct".into()],
        domains: vec!["medecindirect.fr".into()],
        finess: vec![],
        strict: false,
        strict_aliases: vec![],
        notify: vec![],
    }])
    .unwrap()
}

impl World {
    fn new() -> World {
        World::with_recipients(Vec::new())
    }

    fn with_recipients(recipients: Vec<vigie_console::RecipientSummary>) -> World {
        World::build(recipients, ConsoleConfig::default())
    }

    fn build(recipients: Vec<vigie_console::RecipientSummary>, config: ConsoleConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        for (name, role) in [
            ("ana", Role::Analyst),
            ("vic", Role::Viewer),
            ("root", Role::Admin),
        ] {
            store.put_user(name, role, PASSWORD).unwrap();
        }
        let matcher = matcher();
        let store = Arc::new(Mutex::new(store));
        let state = ConsoleState::new(Arc::clone(&store), Arc::new(self::matcher()), config)
            .unwrap()
            .with_recipients(recipients);
        let world = World {
            _dir: dir,
            store,
            app: router(state),
            matcher,
        };
        world.record(
            &hostile_post("v1"),
            "http://forum.onion/t/1\"><script>alert(2)</script>",
        );
        world
    }

    fn record(&self, text: &str, url: &str) -> vigie_store::Recorded {
        let analysis = self
            .matcher
            .analyze("post", text.as_bytes(), ScanOptions::default());
        let sighting = Sighting {
            source: "forum-x".into(),
            locator: Locator::Url { url: url.into() },
            fetched_at: Timestamp::now(),
            collector: "test".into(),
            details: Default::default(),
        };
        self.store
            .lock()
            .unwrap()
            .record(text.as_bytes(), &sighting, Some(&analysis))
            .unwrap()
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn get(
        &self,
        uri: &str,
        session: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = Request::get(uri);
        if let Some(s) = session {
            req = req.header(header::COOKIE, format!("vigie_session={s}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    async fn post(
        &self,
        uri: &str,
        session: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = Request::post(uri)
            .header(header::COOKIE, format!("vigie_session={session}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Logs in through the form; returns the session token and its CSRF token.
    async fn login(&self, user: &str) -> (String, String) {
        let (status, headers, body) = self.get("/login", None).await;
        assert_eq!(status, StatusCode::OK);
        let login_cookie = cookie_value(&headers, "vigie_login").unwrap();
        assert_eq!(field(&body, "csrf"), login_cookie);
        let form = serde_urlencoded::to_string([
            ("user", user),
            ("password", PASSWORD),
            ("csrf", login_cookie.as_str()),
        ])
        .unwrap();
        let req = Request::post("/login")
            .header(header::COOKIE, format!("vigie_login={login_cookie}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let (status, headers, _) = self.send(req).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let set = set_cookies(&headers);
        let session_cookie = set
            .iter()
            .find(|c| c.starts_with("vigie_session="))
            .unwrap();
        assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
        assert!(
            session_cookie.contains("SameSite=Strict"),
            "{session_cookie}"
        );
        let token = cookie_value(&headers, "vigie_session").unwrap();
        let (status, _, page) = self.get("/incidents", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        (token, field(&page, "csrf"))
    }
}

fn set_cookies(headers: &axum::http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers).iter().find_map(|c| {
        c.split(';')
            .next()?
            .strip_prefix(&format!("{name}="))
            .map(str::to_string)
    })
}

/// The value of the first hidden input named `name`.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn login_sets_strict_cookies_and_every_page_has_security_headers() {
    let w = World::new();
    let (token, csrf) = w.login("ana").await;
    assert_eq!(token.len(), 64);
    assert_eq!(csrf.len(), 64);
    let (status, headers, body) = w.get("/incidents", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert!(headers
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().unwrap().contains("HX-Request")));
    // No inline script: every <script> has a src on this site.
    for tag in body.split("<script").skip(1) {
        assert!(tag.trim_start().starts_with("src=\"/assets/"), "{tag}");
    }
    // The vendored htmx, under its hashed name, cached for a year.
    let src = body
        .split("<script src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        src.starts_with("/assets/htmx-") && src.ends_with(".min.js"),
        "{src}"
    );
    let (status, headers, js) = w.get(src, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(js.contains("htmx"));
    assert_eq!(
        w.get("/assets/htmx-0000.min.js", None).await.0,
        StatusCode::NOT_FOUND
    );

    // A wrong password: 401, no session, and a failed login in the trail.
    let (_, headers, body) = w.get("/login", None).await;
    let lc = cookie_value(&headers, "vigie_login").unwrap();
    assert_eq!(field(&body, "csrf"), lc);
    let req = Request::post("/login")
        .header(header::COOKIE, format!("vigie_login={lc}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("user=ana&password=nope&csrf={lc}")))
        .unwrap();
    let (status, headers, _) = w.send(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie_value(&headers, "vigie_session").is_none());
    // The login form without its double-submit token: refused.
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("user=ana&password={PASSWORD}&csrf=x")))
        .unwrap();
    assert_eq!(w.send(req).await.0, StatusCode::FORBIDDEN);
    let trail = w
        .store
        .lock()
        .unwrap()
        .audit_entries(None, 10, None, None)
        .unwrap();
    assert_eq!(trail[0].action, AuditAction::LoginFailed);
    assert_eq!(trail[0].user, "ana");
    assert_eq!(trail[1].action, AuditAction::Login);
}

#[tokio::test]
async fn a_post_without_the_sessions_csrf_token_is_refused() {
    let w = World::new();
    let (token, csrf) = w.login("ana").await;
    let (status, _, _) = w
        .post(
            "/incidents/1/triage",
            &token,
            &[("state", "false_positive")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = w
        .post(
            "/incidents/1/triage",
            &token,
            &[("state", "false_positive"), ("csrf", &"0".repeat(64))],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another session's token does not do either.
    let (_, other_csrf) = w.login("root").await;
    let (status, _, _) = w
        .post(
            "/incidents/1/triage",
            &token,
            &[("state", "false_positive"), ("csrf", &other_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(w.store.lock().unwrap().triage(1).unwrap().is_none());
    // With it: done, and in the trail.
    let (status, _, _) = w
        .post(
            "/incidents/1/triage",
            &token,
            &[
                ("state", "acknowledged"),
                ("reason", "calling the vendor"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let store = w.store.lock().unwrap();
    assert_eq!(
        store.triage(1).unwrap().unwrap().state,
        TriageState::Acknowledged
    );
    let last = &store.audit_entries(None, 1, None, None).unwrap()[0];
    assert_eq!(last.action, AuditAction::Triage);
    assert_eq!(last.incident, Some(1));
    assert!(last.detail.contains("calling the vendor"));
}

#[tokio::test]
async fn a_viewer_is_refused_a_reveal_and_an_analyst_reveal_is_audited_with_its_reason() {
    let w = World::new();
    let (viewer, viewer_csrf) = w.login("vic").await;
    let reason = "victim hospital asked to confirm patient list";
    let (status, _, body) = w
        .post(
            "/incidents/1/reveal",
            &viewer,
            &[("reason", reason), ("csrf", &viewer_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains(NIR_A));
    // Viewers do not triage either.
    let (status, _, _) = w
        .post(
            "/incidents/1/triage",
            &viewer,
            &[("state", "acknowledged"), ("csrf", &viewer_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The page a viewer sees holds no raw NIR and no reveal form.
    let (status, _, page) = w.get("/incidents/1", Some(&viewer)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(NIR_A), "raw NIR on a viewer's page");
    assert!(!page.contains("/incidents/1/reveal"));

    let (analyst, csrf) = w.login("ana").await;
    let (status, _, body) = w
        .post(
            "/incidents/1/reveal",
            &analyst,
            &[("reason", "short"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!body.contains(NIR_A));
    let (status, _, body) = w
        .post(
            "/incidents/1/reveal",
            &analyst,
            &[("reason", reason), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(NIR_A), "{body}");
    let store = w.store.lock().unwrap();
    let trail = store.audit_entries(None, 20, Some(1), None).unwrap();
    let reveal = trail
        .iter()
        .find(|e| e.action == AuditAction::Reveal)
        .unwrap();
    assert_eq!(reveal.user, "ana");
    assert!(reveal.detail.contains(reason), "{}", reveal.detail);
    assert!(reveal.detail.contains("nir 3"), "{}", reveal.detail);
    assert!(!reveal.detail.contains(NIR_A));
    let refused = trail
        .iter()
        .find(|e| e.action == AuditAction::RevealRefused)
        .unwrap();
    assert_eq!(refused.user, "vic");
    // Each audit entry is also in the chain of custody.
    assert!(store.verify().unwrap().ok());
    assert!(store.verify_audit().unwrap().is_empty());
}

#[tokio::test]
async fn hostile_document_text_and_places_are_escaped() {
    let w = World::new();
    let (token, _) = w.login("ana").await;
    let (status, _, page) = w.get("/incidents/1", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert"), "script tag unescaped");
    // askama writes entities as numeric references.
    let page = page
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#34;", "&quot;");
    assert!(
        page.contains("&lt;script&gt;alert("),
        "document text missing"
    );
    assert!(!page.contains("<div hx-get"), "htmx attribute live");
    assert!(page.contains("&lt;div hx-get="));
    // The place, from the collector, is escaped too.
    assert!(
        page.contains("/t/1&quot;&gt;&lt;script&gt;alert(2)"),
        "{page}"
    );
    // The organisation mention is highlighted; identifiers are masked.
    assert!(page.contains("<mark>MEDECIN DIRECT</mark>"), "{page}");
    assert!(!page.contains(NIR_A));
    assert!(page.contains("*************73"));
}

#[tokio::test]
async fn oversized_queries_unknown_parameters_and_bad_values_are_400() {
    let w = World::new();
    let (token, _) = w.login("ana").await;
    for uri in [
        format!("/incidents?q={}", "a".repeat(3000)),
        "/incidents?nope=1".to_string(),
        "/incidents?severity=apocalyptic".to_string(),
        "/incidents?since=yesterday".to_string(),
        "/incidents?after=x".to_string(),
        "/incidents/1?x=1".to_string(),
        "/audit?before=z".to_string(),
    ] {
        let (status, _, body) = w.get(&uri, Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body.contains("400"), "{body}");
    }
    let (status, _, body) = w.get("/incidents?nope=%3Cb%3E", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("unknown field"), "{body}");
    let (status, _, _) = w
        .post(
            "/incidents/1/comment",
            &token,
            &[("text", "x"), ("csrf", "y"), ("extra", "z")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn filters_search_and_htmx_partials() {
    let w = World::new();
    w.record(
        "Discussion: someone mentions MEDECIN DIRECT moved offices. Nothing for sale.\n",
        "http://forum.onion/t/2",
    );
    let (token, _) = w.login("ana").await;
    let count = |body: &str| body.matches("href=\"/incidents/").count();
    let (_, _, all) = w.get("/incidents", Some(&token)).await;
    let (_, _, critical) = w.get("/incidents?severity=high", Some(&token)).await;
    assert_eq!(count(&critical), 1, "{critical}");
    assert!(count(&all) >= count(&critical));
    let (_, _, news) = w.get("/incidents?kind=news", Some(&token)).await;
    assert_eq!(count(&news), 0);
    let (_, _, found) = w.get("/incidents?q=escrow", Some(&token)).await;
    assert_eq!(count(&found), 1);
    let (_, _, missing) = w.get("/incidents?q=ransomware%20gang", Some(&token)).await;
    assert_eq!(count(&missing), 0);
    let (_, _, org) = w
        .get("/incidents?org=medecindirect&status=new", Some(&token))
        .await;
    assert!(count(&org) >= 1);
    let (_, _, tor) = w.get("/incidents?source_kind=telegram", Some(&token)).await;
    assert_eq!(count(&tor), 0);
    let (_, _, future) = w.get("/incidents?since=2999-01-01", Some(&token)).await;
    assert_eq!(count(&future), 0);
    // htmx asks for the rows only.
    let req = Request::get("/incidents?severity=high")
        .header(header::COOKIE, format!("vigie_session={token}"))
        .header("HX-Request", "true")
        .body(Body::empty())
        .unwrap();
    let (status, _, partial) = w.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!partial.contains("<html"));
    assert_eq!(count(&partial), 1);
}

/// The URL of a list page's "next" link, unescaped.
fn next_href(page: &str) -> String {
    let before = page.split("rel=\"next\"").next().unwrap();
    before
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

#[tokio::test]
async fn pages_follow_with_a_keyset_cursor() {
    let w = World::new();
    // Sixty different sales (random filler words: no two are near-duplicates).
    let syllables = [
        "ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "qui", "ro", "su",
        "ta", "ve", "wi", "xo", "zu",
    ];
    let words: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "{}{}{}",
                syllables[i % 20],
                syllables[i / 20],
                syllables[(i * 7) % 20]
            )
        })
        .collect();
    let mut seed: u64 = 7;
    for n in 0..60 {
        let mut filler = String::new();
        for _ in 0..60 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            filler.push_str(&words[(seed >> 33) as usize % words.len()]);
            filler.push(' ');
        }
        w.record(
            &format!("{filler}\n{}", hostile_post(&n.to_string())),
            &format!("http://m.onion/{n}"),
        );
    }
    let (token, _) = w.login("ana").await;
    let (_, _, first) = w.get("/incidents", Some(&token)).await;
    let href = next_href(&first);
    assert!(href.contains("after="), "{href}");
    let (status, _, second) = w.get(&href, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let ids = |b: &str| -> Vec<String> {
        b.split("<td><a href=\"/incidents/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(a.len(), 50);
    assert!(!b.is_empty());
    assert!(
        a.iter().all(|x| !b.contains(x)),
        "pages overlap: {href} {a:?} {b:?}"
    );

    // Every incident names MédecinDirect: filtered by the organisation (read from the entity
    // index, not the time index), the pages are the same.
    let (_, _, org_first) = w.get("/incidents?org=medecindirect", Some(&token)).await;
    let org_href = next_href(&org_first);
    assert!(org_href.contains("org=medecindirect"), "{org_href}");
    let (_, _, org_second) = w.get(&org_href, Some(&token)).await;
    assert_eq!(ids(&org_first), a);
    assert_eq!(ids(&org_second), b);
    // A name of the organisation finds it too; an organisation nobody watches finds nothing.
    let (_, _, by_name) = w.get("/incidents?org=Direct", Some(&token)).await;
    assert_eq!(ids(&by_name), a);
    let (_, _, other) = w.get("/incidents?org=weda", Some(&token)).await;
    assert!(ids(&other).is_empty());
    let (_, _, later) = w
        .get(
            "/incidents?org=medecindirect&since=2999-01-01",
            Some(&token),
        )
        .await;
    assert!(ids(&later).is_empty());

    // Oldest first: the same incidents in the reverse order, through the time index and
    // through the entity index, the cursor keeping the order.
    let mut newest: Vec<String> = a.iter().chain(&b).cloned().collect();
    newest.reverse();
    for first_href in [
        "/incidents?sort=oldest",
        "/incidents?org=medecindirect&sort=oldest",
    ] {
        let (status, _, first) = w.get(first_href, Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        let href = next_href(&first);
        assert!(href.contains("sort=oldest"), "{href}");
        let (_, _, second) = w.get(&href, Some(&token)).await;
        let oldest: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
        assert_eq!(oldest, newest, "{first_href}");
    }
    let (status, _, _) = w.get("/incidents?sort=sideways", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_list_filters_by_category_and_assignee() {
    let w = World::new();
    let other = "Accès administrateur au back-office medecindirect.fr à vendre.\n\
        Comptes médecins et dossiers patients, extrait :\nnom;nir\nLeroy;285057512345623\n\
        Paiement XMR uniquement, 1500 USD, contact session.\n";
    let two = w
        .record(other, "http://market.onion/item/77")
        .incident
        .unwrap()
        .0;
    let (token, csrf) = w.login("ana").await;
    let ids = |b: &str| -> Vec<u64> {
        b.split("<td><a href=\"/incidents/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    // MédecinDirect is a telehealth company in the test watchlist.
    let (_, _, page) = w.get("/incidents?category=telehealth", Some(&token)).await;
    assert_eq!(ids(&page), vec![two, 1]);
    let (_, _, page) = w.get("/incidents?category=hospital", Some(&token)).await;
    assert!(ids(&page).is_empty());
    let (status, _, _) = w.get("/incidents?category=bakery", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, _) = w
        .post(
            &format!("/incidents/{two}/assign"),
            &token,
            &[("user", "root"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = w.get("/incidents?assignee=root", Some(&token)).await;
    assert_eq!(ids(&page), vec![two]);
    assert!(
        page.contains(r#"<option value="root" selected>"#),
        "the filter shows its choice"
    );
    let (_, _, page) = w.get("/incidents?assignee=ana", Some(&token)).await;
    assert!(ids(&page).is_empty());
    let (_, _, panel) = w.get(&format!("/incidents/{two}"), Some(&token)).await;
    assert!(panel.contains(r#"<strong id="assignee">root</strong>"#));
    let store = w.store.lock().unwrap();
    assert_eq!(store.assignee(two).unwrap().as_deref(), Some("root"));
    let trail = store.audit_entries(None, 10, Some(two), None).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == AuditAction::Assign && e.detail == "root"));
    assert!(store.verify_audit().unwrap().is_empty());
}

#[tokio::test]
async fn watchlist_screen_lists_and_searches_the_organisations() {
    let w = World::new();
    let (token, _) = w.login("vic").await;
    let (status, _, page) = w.get("/watchlists", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("MédecinDirect"), "{page}");
    assert!(page.contains("medecindirect.fr"));
    assert!(page.contains("href=\"/incidents?org=medecindirect\""));
    let (_, _, by_domain) = w.get("/watchlists?q=DIRECT.FR", Some(&token)).await;
    assert!(by_domain.contains("MédecinDirect"));
    let (_, _, none) = w.get("/watchlists?q=weda", Some(&token)).await;
    assert!(!none.contains("MédecinDirect"));
    let (status, _, _) = w
        .get(&format!("/watchlists?q={}", "a".repeat(101)), Some(&token))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = w.get("/watchlists?x=1", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_digest_is_rendered_with_its_style_allowed_by_hash_only() {
    let w = World::new();
    let (status, headers, _) = w.get("/digest", None).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed-out: to the login page"
    );
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("/login"));
    let (token, _) = w.login("vic").await;
    let now = Timestamp::now();
    let week = chrono_week(now);
    let (status, headers, page) = w.get(&format!("/digest?week={week}"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);
    assert!(page.contains(&week), "the week asked for");
    // The hostile sale of this week is in the digest, masked and escaped.
    assert!(page.contains("MédecinDirect") || page.contains("MEDECIN DIRECT"));
    assert!(!page.contains(NIR_A));
    assert!(!page.contains("<script>alert"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("script-src"), "no script at all: {csp}");
    for bad in ["2026-W99", "last week", "2026-W47-and-more"] {
        let (status, _, _) = w
            .get(
                &format!("/digest?week={}", bad.replace(' ', "+")),
                Some(&token),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// The ISO week holding `t`, as `2026-W47` (computed here from the date, not by the digest).
fn chrono_week(t: Timestamp) -> String {
    // Days since 1970-01-01 (a Thursday); ISO weeks run Monday to Sunday and belong to the
    // year of their Thursday.
    let days = t.0.div_euclid(86_400_000);
    let weekday = (days + 3).rem_euclid(7); // 0 = Monday
    let thursday = days - weekday + 3;
    let (year, ordinal) = year_and_ordinal(thursday);
    format!("{year}-W{:02}", ordinal / 7 + 1)
}

/// The year and the day of the year (0-based) of a day counted from 1970-01-01.
fn year_and_ordinal(mut days: i64) -> (i64, i64) {
    let mut year = 1970;
    loop {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let len = if leap { 366 } else { 365 };
        if days < len {
            return (year, days);
        }
        days -= len;
        year += 1;
    }
}

#[tokio::test]
async fn an_expired_session_goes_back_to_the_login_page() {
    let w = World::new();
    let long_ago = Timestamp(Timestamp::now().0 - 10 * 3_600_000);
    let (token, _) = w
        .store
        .lock()
        .unwrap()
        .create_session("ana", Role::Analyst, long_ago, 3_600_000)
        .unwrap();
    let (status, headers, _) = w.get("/incidents", Some(&token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login");
    let (status, _, _) = w.get("/incidents", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Logging out ends the session.
    let (token, csrf) = w.login("ana").await;
    let (status, _, _) = w.post("/logout", &token, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.get("/incidents", Some(&token)).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_false_positive_marked_in_the_console_suppresses_a_repost() {
    let w = World::new();
    let (token, csrf) = w.login("ana").await;
    let (status, _, _) = w
        .post(
            "/incidents/1/triage",
            &token,
            &[
                ("state", "false_positive"),
                ("reason", "test data"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The same sale, posted again elsewhere with a small edit.
    let repost = w.record(&hostile_post("v2 repost"), "http://other.onion/p/9");
    assert!(repost.incident.is_some());
    let (status, _, page) = w
        .get("/incidents?status=false_positive", Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("false_positive"));
    let id = repost.incident.unwrap().0;
    let t = w.store.lock().unwrap().triage(id).unwrap();
    // Joined the false positive, or opened suppressed as its look-alike.
    assert!(
        id == 1 || t.is_some_and(|t| t.state == TriageState::Suppressed),
        "{id}"
    );
}

#[tokio::test]
async fn audit_screen_is_for_analysts_and_shows_reveals() {
    let w = World::new();
    let (viewer, _) = w.login("vic").await;
    assert_eq!(
        w.get("/audit", Some(&viewer)).await.0,
        StatusCode::FORBIDDEN
    );
    let (token, csrf) = w.login("ana").await;
    let reason = "CERT ticket 4521 needs the raw list";
    w.post(
        "/incidents/1/reveal",
        &token,
        &[("reason", reason), ("csrf", &csrf)],
    )
    .await;
    let (status, _, page) = w.get("/audit", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(reason));
    assert!(page.contains(">reveal<"));
    assert!(!page.contains(NIR_A));
    // Language: English by Accept-Language.
    let req = Request::get("/audit")
        .header(header::COOKIE, format!("vigie_session={token}"))
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .body(Body::empty())
        .unwrap();
    let (_, _, en) = w.send(req).await;
    assert!(en.contains("Audit trail"));
    assert!(
        page.contains("Journal d'audit")
            || page.contains("Journal d&#39;audit")
            || page.contains("Journal d&#x27;audit")
    );
}

#[tokio::test]
async fn misp_and_stix_exports_are_masked_and_audited() {
    let w = World::new();
    let (viewer, _) = w.login("vic").await;
    for (format, marker) in [("misp", "\"Event\""), ("stix", "\"bundle\"")] {
        let (status, headers, body) = w
            .get(&format!("/incidents/1/export/{format}"), Some(&viewer))
            .await;
        assert_eq!(status, StatusCode::OK, "{format}: {body}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"vigie-incident-1.{format}.json\"")
        );
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(json.is_object());
        assert!(body.contains(marker), "{format}: {body}");
        assert!(body.contains("MédecinDirect"), "{format}");
        assert!(!body.contains(NIR_A), "{format}: raw NIR in an export");
    }
    let (status, _, _) = w.get("/incidents/1/export/csv", Some(&viewer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = w.get("/incidents/99/export/misp", Some(&viewer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, _) = w.get("/incidents/1/export/misp", None).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed-out: to the login page"
    );
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("/login"));
    let store = w.store.lock().unwrap();
    let trail = store.audit_entries(None, 50, Some(1), None).unwrap();
    let exports: Vec<_> = trail
        .iter()
        .filter(|e| e.action == AuditAction::Export)
        .map(|e| (e.user.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(exports.contains(&("vic", "misp export")), "{exports:?}");
    assert!(exports.contains(&("vic", "stix export")), "{exports:?}");
}

#[tokio::test]
async fn the_evidence_bundle_is_for_analysts_with_a_reason_and_holds_the_raw_document() {
    let w = World::new();
    let (viewer, viewer_csrf) = w.login("vic").await;
    let reason = "requested by the hospital's DPO for the CNIL notification";
    let (status, _, body) = w
        .post(
            "/incidents/1/evidence",
            &viewer,
            &[("reason", reason), ("csrf", &viewer_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains(NIR_A));
    let (analyst, csrf) = w.login("ana").await;
    let (status, _, _) = w
        .post(
            "/incidents/1/evidence",
            &analyst,
            &[("reason", "short"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Without the CSRF token: refused before the handler.
    let (status, _, _) = w
        .post("/incidents/1/evidence", &analyst, &[("reason", reason)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let form = serde_urlencoded::to_string([("reason", reason), ("csrf", csrf.as_str())]).unwrap();
    let req = Request::post("/incidents/1/evidence")
        .header(header::COOKIE, format!("vigie_session={analyst}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let res = w.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/gzip");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut names = Vec::new();
    let mut raw_found = false;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        if name.ends_with(".bin") {
            raw_found |= String::from_utf8_lossy(&content).contains(NIR_A);
        }
        names.push(name);
    }
    assert!(
        names.iter().any(|n| n == "incident-1/SHA256SUMS"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "incident-1/manifest.json"),
        "{names:?}"
    );
    assert!(raw_found, "the bundle holds the stored bytes: {names:?}");

    let store = w.store.lock().unwrap();
    let trail = store.audit_entries(None, 50, Some(1), None).unwrap();
    let export = trail
        .iter()
        .find(|e| e.action == AuditAction::Export)
        .unwrap();
    assert_eq!(export.user, "ana");
    assert!(export.detail.contains(reason), "{}", export.detail);
    assert!(!export.detail.contains(NIR_A));
    assert!(trail
        .iter()
        .any(|e| e.action == AuditAction::RevealRefused && e.user == "vic"));
    assert!(store.verify_audit().unwrap().is_empty());
}

#[tokio::test]
async fn saved_searches_are_per_user_checked_and_deletable() {
    let w = World::new();
    let (ana, csrf) = w.login("ana").await;
    let (status, headers, _) = w
        .post(
            "/searches",
            &ana,
            &[
                ("name", "MédecinDirect, critique"),
                ("query", "severity=critical&org=medecindirect"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with("/incidents?"), "{to}");
    assert!(
        to.contains("severity=critical") && to.contains("org=medecindirect"),
        "{to}"
    );
    let (status, _, list) = w.get(&to, Some(&ana)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("MédecinDirect, critique"), "{list}");
    let escaped_href = to.replace('&', "&#38;");
    assert!(
        list.contains(&format!("href=\"{escaped_href}\""))
            || list.contains(&format!("href=\"{}\"", to.replace('&', "&amp;"))),
        "the saved search links to its list: {to}"
    );
    // Another user does not see it.
    let (vic, _) = w.login("vic").await;
    let (_, _, theirs) = w.get("/incidents", Some(&vic)).await;
    assert!(!theirs.contains("MédecinDirect, critique"));
    // A query the list would refuse is refused when saved; so is a POST without the token.
    for bad in ["severity=bogus", "colour=red", "q="] {
        let (status, _, _) = w
            .post(
                "/searches",
                &ana,
                &[("name", "bad"), ("query", bad), ("csrf", &csrf)],
            )
            .await;
        if bad == "q=" {
            assert_eq!(
                status,
                StatusCode::SEE_OTHER,
                "an empty filter is a valid search"
            );
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
    let (status, _, _) = w
        .post("/searches", &ana, &[("name", "x"), ("query", "q=a")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = w
        .post(
            "/searches",
            &ana,
            &[("name", ""), ("query", "q=a"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a name is required");
    // Deleted, it is gone.
    let (status, _, _) = w
        .post(
            "/searches/delete",
            &ana,
            &[("name", "MédecinDirect, critique"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, after) = w.get("/incidents", Some(&ana)).await;
    assert!(!after.contains("MédecinDirect, critique"));
    assert_eq!(
        w.store.lock().unwrap().saved_searches("ana").unwrap().len(),
        1,
        "the empty search saved above remains"
    );
}

#[tokio::test]
async fn candidates_come_with_a_configuration_section_when_their_name_is_well_formed() {
    let w = World::new();
    let onion = format!("pharmaleakxyz{}.onion", "a2".repeat(21) + "b");
    assert_eq!(onion.len(), 56 + 6);
    let onion = onion.as_str();
    {
        let mut store = w.store.lock().unwrap();
        let at = Timestamp::now();
        store
            .note_candidate("onion", onion, "http://forum.onion/t/1", at)
            .unwrap();
        store
            .note_candidate("telegram", "pharma_dark", "telegram:medleaks/7", at)
            .unwrap();
        store
            .note_candidate(
                "onion",
                "evil\"]\nurl=\"x.onion",
                "http://forum.onion/t/2",
                at,
            )
            .unwrap();
    }
    let (token, _) = w.login("vic").await;
    let (status, _, page) = w.get("/sources", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("mirrors = [&#34;http://{onion}/&#34;]"))
            || page.contains(&format!("mirrors = [&quot;http://{onion}/&quot;]")),
        "{page}"
    );
    assert!(page.contains("[[tor_source]]"));
    assert!(
        page.contains("id = &#34;candidate-pharmaleakxy&#34;")
            || page.contains("id = &quot;candidate-pharmaleakxy&quot;"),
        "{page}"
    );
    assert!(page.contains("[[telegram_preview]]"));
    assert!(
        page.contains("channel = &#34;pharma_dark&#34;")
            || page.contains("channel = &quot;pharma_dark&quot;")
    );
    // The odd name is listed (escaped) without a section.
    assert!(page.contains("evil"));
    assert_eq!(page.matches("<details>").count(), 2, "{page}");
}

#[tokio::test]
async fn the_alerts_screen_shows_recipients_and_routing_without_their_tokens() {
    let w = World::with_recipients(vec![
        vigie_console::RecipientSummary {
            id: "cert-sante".into(),
            endpoint: "https://cert.example/…".into(),
            format: "json".into(),
            min_severity: "high".into(),
            categories: vec![],
            catch_all: true,
            digest: true,
            organisations: vec![],
        },
        vigie_console::RecipientSummary {
            id: "md-security".into(),
            endpoint: "https://soc.medecindirect.example/…".into(),
            format: "chat".into(),
            min_severity: "medium".into(),
            categories: vec!["telehealth".into()],
            catch_all: false,
            digest: false,
            organisations: vec!["MédecinDirect".into()],
        },
    ]);
    let (token, _) = w.login("vic").await;
    let (status, _, page) = w.get("/alerts", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let table = page
        .split("class=\"recipients\"")
        .nth(1)
        .expect("a recipients table");
    let table = table.split("</table>").next().unwrap();
    assert_eq!(
        table.matches("<tr>").count(),
        3,
        "header and two recipients: {table}"
    );
    assert!(table.contains("cert-sante") && table.contains("https://cert.example/…"));
    assert!(table.contains("md-security") && table.contains("MédecinDirect"));
    assert!(table.contains("telehealth"));
    // Without recipients, the screen says that nothing is sent.
    let bare = World::new();
    let (token, _) = bare.login("vic").await;
    let (_, _, page) = bare.get("/alerts", Some(&token)).await;
    assert!(!page.contains("class=\"recipients\""));
    assert!(page.contains("[[recipient]]"), "{page}");
}

/// Posts the login form (with its double-submit token); the session token when signed in.
async fn login_with(w: &World, user: &str, code: Option<&str>) -> Option<String> {
    let (_, headers, _) = w.get("/login", None).await;
    let login_cookie = cookie_value(&headers, "vigie_login").unwrap();
    let mut form = vec![
        ("user", user),
        ("password", PASSWORD),
        ("csrf", login_cookie.as_str()),
    ];
    if let Some(c) = code {
        form.push(("code", c));
    }
    let req = Request::post("/login")
        .header(header::COOKIE, format!("vigie_login={login_cookie}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    let (_, headers, _) = w.send(req).await;
    cookie_value(&headers, "vigie_session").filter(|t| !t.is_empty())
}

#[tokio::test]
async fn an_account_with_a_second_factor_needs_its_current_code_once() {
    let w = World::new();
    let uri = w.store.lock().unwrap().enable_totp("ana").unwrap().unwrap();
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret).unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).unwrap();
    assert!(
        login_with(&w, "ana", None).await.is_none(),
        "password alone"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // A code that no step around now has (changing the last digit of the current one,
    // until it matches none of the three).
    let codes: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|t| totp.generate(*t))
        .collect();
    let wrong = (0..10)
        .map(|d| format!("{}{d}", &codes[1][..5]))
        .find(|c| !codes.contains(c))
        .unwrap();
    assert!(
        login_with(&w, "ana", Some(&wrong)).await.is_none(),
        "a wrong code"
    );
    let code = totp.generate(now);
    let token = login_with(&w, "ana", Some(&code))
        .await
        .expect("password and code");
    let (status, _, _) = w.get("/incidents", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        login_with(&w, "ana", Some(&code)).await.is_none(),
        "the code again"
    );
    // Accounts without a second factor are unchanged, an empty code field included.
    assert!(login_with(&w, "vic", Some("")).await.is_some());
    let store = w.store.lock().unwrap();
    let trail = store.audit_entries(None, 50, None, None).unwrap();
    assert!(
        trail
            .iter()
            .filter(|e| e.action == AuditAction::LoginFailed && e.user == "ana")
            .count()
            >= 2
    );
}

#[tokio::test]
async fn analysts_merge_and_split_incidents_with_a_reason_and_the_trail_shows_it() {
    let w = World::new();
    let other = "Accès administrateur au back-office medecindirect.fr à vendre.\n\
        Comptes médecins et dossiers patients, extrait :\nnom;nir\nLeroy;285057512345623\n\
        Paiement XMR uniquement, 1500 USD, contact session.\n";
    let second = w.record(other, "http://market.onion/item/77");
    let two = second.incident.expect("rated an incident").0;
    assert_ne!(two, 1, "its own incident before the merge");

    let (viewer, viewer_csrf) = w.login("vic").await;
    let form = [
        ("from", "2"),
        ("reason", "same seller, same dump"),
        ("csrf", &viewer_csrf),
    ];
    let (status, _, _) = w.post("/incidents/1/merge", &viewer, &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers do not regroup");

    let (token, csrf) = w.login("ana").await;
    let from = two.to_string();
    let (status, _, body) = w
        .post(
            "/incidents/1/merge",
            &token,
            &[("from", &from), ("reason", "short"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a reason is required: {body}"
    );
    let (status, _, body) = w
        .post(
            "/incidents/1/merge",
            &token,
            &[
                ("from", "1"),
                ("reason", "same seller, same dump"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("itself"),
        "the store's refusal is shown: {body}"
    );

    let form = [
        ("from", from.as_str()),
        ("reason", "same seller, same dump"),
        ("csrf", &csrf),
    ];
    let (status, headers, _) = w.post("/incidents/1/merge", &token, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/incidents/1");
    // The absorbed number leads to the survivor.
    let (status, headers, _) = w.get(&format!("/incidents/{two}"), Some(&token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/incidents/1");
    let (status, _, page) = w.get("/incidents/1", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&second.hash),
        "the absorbed document is listed"
    );
    assert!(
        page.contains("split-form"),
        "two snapshots: the split form is offered"
    );
    assert!(page.contains(&format!(
        "merged incident {two} into 1: same seller, same dump"
    )));

    // Split it out again: bad hashes and unknown fields are 400, then the real split.
    let bad = [
        ("snapshot", "nothex"),
        ("reason", "two different sellers"),
        ("csrf", &csrf),
    ];
    assert_eq!(
        w.post("/incidents/1/split", &token, &bad).await.0,
        StatusCode::BAD_REQUEST
    );
    let unknown = [
        ("snapshot", second.hash.as_str()),
        ("reason", "two different sellers"),
        ("x", "1"),
        ("csrf", &csrf),
    ];
    assert_eq!(
        w.post("/incidents/1/split", &token, &unknown).await.0,
        StatusCode::BAD_REQUEST
    );
    let form = [
        ("snapshot", second.hash.as_str()),
        ("reason", "two different sellers"),
        ("csrf", &csrf),
    ];
    let (status, headers, _) = w.post("/incidents/1/split", &token, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = headers[header::LOCATION].to_str().unwrap().to_string();
    let new_id: u64 = to.trim_start_matches("/incidents/").parse().unwrap();
    assert!(new_id > two);
    let (status, _, page) = w.get(&to, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&second.hash));
    assert!(
        page.contains("two different sellers"),
        "the split is in the new incident's history"
    );
    let store = w.store.lock().unwrap();
    assert_eq!(store.incident(1).unwrap().unwrap().snapshots.len(), 1);
    let actions: Vec<AuditAction> = store
        .audit_entries(None, 50, None, Some("ana"))
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&AuditAction::Merge) && actions.contains(&AuditAction::Split));
}

/// The OpenID Connect provider from PyPI (`oidc-provider-mock`, authlib underneath) on a
/// free loopback port, stopped on drop.
struct Provider {
    child: std::process::Child,
    url: String,
}

impl Provider {
    fn start() -> Provider {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let users = [
            r#"{"sub": "7f3-ana", "preferred_username": "ana"}"#,
            r#"{"sub": "9c1-mal", "preferred_username": "mallory"}"#,
        ];
        let mut cmd = std::process::Command::new("python3");
        cmd.args([
            "-W",
            "ignore",
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
        ])
        .args(["--port", &port.to_string(), "--require-nonce", "true"]);
        for u in users {
            cmd.args(["--user-claims", u]);
        }
        let child = cmd
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m oidc_provider_mock (ops/deps.sh installs it)");
        let provider = Provider {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let discovery = format!("{}/.well-known/openid-configuration", provider.url);
        for _ in 0..300 {
            if ureq::get(&discovery).call().is_ok() {
                return provider;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the OpenID provider did not answer at {discovery}");
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Goes through the provider's form as `subject`: returns the console callback's path and
/// query, and the state cookie set when the sign-in started.
async fn sign_in_at_provider(w: &World, subject: &str) -> (String, String) {
    let (status, headers, _) = w.get("/login/oidc", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let authorize = headers[header::LOCATION].to_str().unwrap().to_string();
    let cookie = set_cookies(&headers)
        .into_iter()
        .find(|c| c.starts_with("vigie_oidc="))
        .expect("state cookie");
    assert!(
        cookie.contains("SameSite=Lax") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let state = cookie_value(&headers, "vigie_oidc").unwrap();
    assert!(authorize.contains(&format!("state={state}")), "{authorize}");
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "PKCE: {authorize}"
    );
    let subject = subject.to_string();
    let back = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .post(&authorize)
            .send_form([("sub", subject.as_str())])
            .unwrap();
        assert_eq!(
            response.status(),
            302,
            "the provider sends the browser back"
        );
        response.headers()["location"].to_str().unwrap().to_string()
    })
    .await
    .unwrap();
    let path = back
        .strip_prefix("http://127.0.0.1:8080")
        .unwrap_or_else(|| panic!("back to the configured redirect URL: {back}"))
        .to_string();
    (path, state)
}

async fn callback(
    w: &World,
    path: &str,
    state: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = Request::get(path)
        .header(header::COOKIE, format!("vigie_oidc={state}"))
        .body(Body::empty())
        .unwrap();
    w.send(req).await
}

#[tokio::test]
async fn sign_in_through_an_openid_connect_provider_maps_to_a_local_account() {
    let provider = Provider::start();
    // A confidential client (the provider requires client authentication), its secret in a
    // file as a systemd credential would be.
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "s3cret-for-the-test\n").unwrap();
    let config = ConsoleConfig {
        oidc: Some(vigie_console::OidcConfig {
            issuer: provider.url.clone(),
            client_id: "vigie-console".into(),
            client_secret_env: None,
            client_secret_file: Some(secret.path().to_path_buf()),
            redirect_url: "http://127.0.0.1:8080/login/oidc/callback".into(),
            username_claim: vigie_console::UsernameClaim::PreferredUsername,
            label: "CERT SSO".into(),
        }),
        ..ConsoleConfig::default()
    };
    let w = World::build(Vec::new(), config);
    let (_, _, page) = w.get("/login", None).await;
    assert!(
        page.contains(r#"id="login-oidc""#) && page.contains("CERT SSO"),
        "{page}"
    );

    // ana's subject names the local analyst "ana": signed in.
    let (path, state) = sign_in_at_provider(&w, "7f3-ana").await;
    let (status, headers, body) = callback(&w, &path, &state).await;
    let trail = w
        .store
        .lock()
        .unwrap()
        .audit_entries(None, 5, None, None)
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}\n{trail:?}");
    assert!(body.contains(r#"http-equiv="refresh""#), "{body}");
    let token = cookie_value(&headers, "vigie_session").expect("session cookie");
    let (status, _, page) = w.get("/incidents", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("ana"));
    // The same callback again: the state served once.
    let (status, headers, _) = callback(&w, &path, &state).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(cookie_value(&headers, "vigie_session").is_none());

    // A callback presented by another browser (no or another state cookie) is refused.
    let (path, _) = sign_in_at_provider(&w, "7f3-ana").await;
    let (status, _, _) = callback(&w, &path, "forged").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // mallory is known to the provider, not to Vigie: refused.
    let (path, state) = sign_in_at_provider(&w, "9c1-mal").await;
    let (status, headers, page) = callback(&w, &path, &state).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(cookie_value(&headers, "vigie_session").is_none());
    assert!(
        page.contains("No local account") || page.contains("Aucun compte local"),
        "{page}"
    );

    let store = w.store.lock().unwrap();
    let trail = store.audit_entries(None, 50, None, None).unwrap();
    assert!(trail.iter().any(|e| e.action == AuditAction::Login
        && e.user == "ana"
        && e.detail.starts_with("oidc")));
    assert!(trail.iter().any(|e| e.action == AuditAction::LoginFailed
        && e.user == "mallory"
        && e.detail.contains("no usable local account")));
    assert!(
        trail
            .iter()
            .filter(|e| e.action == AuditAction::LoginFailed && e.user == "?")
            .count()
            >= 2,
        "the replay and the forged state are audited"
    );
}

#[test]
fn an_oidc_section_with_a_missing_secret_or_a_wrong_callback_is_refused() {
    let base = vigie_console::OidcConfig {
        issuer: "https://idp.example.org/realms/cert".into(),
        client_id: "vigie".into(),
        client_secret_env: Some("VIGIE_TEST_SECRET_THAT_IS_NOT_SET".into()),
        client_secret_file: None,
        redirect_url: "https://vigie.example.org/login/oidc/callback".into(),
        username_claim: vigie_console::UsernameClaim::Sub,
        label: "SSO".into(),
    };
    let err = vigie_console::Oidc::new(base.clone()).err().unwrap();
    assert!(
        err.to_string()
            .contains("VIGIE_TEST_SECRET_THAT_IS_NOT_SET"),
        "{err}"
    );
    let wrong = vigie_console::OidcConfig {
        client_secret_env: None,
        redirect_url: "https://vigie.example.org/elsewhere".into(),
        ..base.clone()
    };
    let err = vigie_console::Oidc::new(wrong).err().unwrap();
    assert!(err.to_string().contains("/login/oidc/callback"), "{err}");
    let two = vigie_console::OidcConfig {
        client_secret_file: Some("/etc/hostname".into()),
        ..base.clone()
    };
    let err = vigie_console::Oidc::new(two).err().unwrap();
    assert!(err.to_string().contains("not both"), "{err}");
    let empty = tempfile::NamedTempFile::new().unwrap();
    let blank = vigie_console::OidcConfig {
        client_secret_env: None,
        client_secret_file: Some(empty.path().to_path_buf()),
        ..base.clone()
    };
    let err = vigie_console::Oidc::new(blank).err().unwrap();
    assert!(err.to_string().contains("empty"), "{err}");
    let not_url = vigie_console::OidcConfig {
        client_secret_env: None,
        issuer: "not a url".into(),
        ..base
    };
    assert!(vigie_console::Oidc::new(not_url).is_err());
}

#[tokio::test]
async fn the_incident_page_shows_the_time_stamp_token_covering_its_custody_entries() {
    let w = World::new();
    let (token, _) = w.login("vic").await;
    let (_, _, page) = w.get("/incidents/1", Some(&token)).await;
    assert!(page.contains(r#"id="no-token""#), "no token taken yet");
    // A token over the chain's head as it is now (after the snapshot's entries), as the
    // time-stamping task stores it; its bytes stand in for a TSA's DER answer.
    let der = b"0\x82\x01\x00 a time-stamp token from the TSA";
    {
        let mut store = w.store.lock().unwrap();
        let head = store.custody_head().seq;
        store.add_timestamp_token(head, der).unwrap();
    }
    let (_, _, page) = w.get("/incidents/1", Some(&token)).await;
    assert!(!page.contains(r#"id="no-token""#));
    let expected = <sha2::Sha256 as sha2::Digest>::digest(der);
    let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        page.contains(&format!("SHA-256 {hex}")),
        "the token's digest is shown"
    );
}
