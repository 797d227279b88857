//! Crawling a forum served on 127.0.0.1 in phpBB 3.3 prosilver's markup (the shapes of
//! `styles/prosilver/template/{index_body,forumlist_body,viewforum_body,viewtopic_body}.html`),
//! read by the built-in forum reader: from the index through sub-forums, a bounded page budget
//! reaches every post over a few runs, a recrawl adds nothing, `sid=` links (phpBB adds a new
//! one to every link for a client without its cookie) never duplicate a post, and pages that
//! stand in for content (login, CAPTCHA, 404) are reported as such, not as a blind parser.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use vigie_tor::{
    validate, CollectedDocument, Collector, CollectorEvent, HealthRecord, HealthStatus,
    TorSettings, TorSourceConfig, Transport, TransportMode,
};

type Handler = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;

/// A tiny HTTP server: one thread, one request per connection; records every path asked.
struct Site {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
}

fn serve(handler: Handler) -> Site {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let req = String::from_utf8_lossy(&buf);
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let (status, body) = handler(&path);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
    });
    Site { port, hits }
}

fn collector(port: u16, source: &str) -> Arc<Collector> {
    let settings = TorSettings {
        mode: TransportMode::Loopback,
        attempts: 1,
        backoff_ms: 10,
        ..TorSettings::default()
    };
    let toml_src = format!(
        "[[tor_source]]\nmirrors = [\"http://127.0.0.1:{port}/\"]\ninterval_secs = 60\n{source}"
    );
    let cfg: HashMap<String, Vec<TorSourceConfig>> = toml::from_str(&toml_src).unwrap();
    let sources = validate(&settings, &cfg["tor_source"], &|_| None).unwrap();
    Collector::with_transport(
        Arc::new(Transport::Loopback),
        settings,
        sources,
        &HashMap::new(),
    )
    .unwrap()
}

async fn run(c: &Arc<Collector>, id: &str) -> (Vec<CollectedDocument>, HealthRecord) {
    let (tx, mut rx) = mpsc::channel(100_000);
    let (_stop, shutdown) = watch::channel(false);
    let health = c.crawl(id, &tx, &shutdown).await.unwrap();
    drop(tx);
    let mut docs = Vec::new();
    while let Some(ev) = rx.recv().await {
        if let CollectorEvent::Document(d) = ev {
            docs.push(d);
        }
    }
    (docs, health)
}

/// A thread: its title and its posts (id, author, text).
type Thread = (String, Vec<(u32, String, String)>);

/// The forum: sub-forum id → threads; thread id → posts.
struct Forum {
    forums: Vec<(u32, &'static str, Vec<u32>)>,
    threads: BTreeMap<u32, Thread>,
    next_post: u32,
}

const PER_PAGE: usize = 10;

impl Forum {
    fn new() -> Forum {
        let mut f = Forum {
            forums: vec![
                (2, "Bases de données", Vec::new()),
                (3, "Accès", Vec::new()),
            ],
            threads: BTreeMap::new(),
            next_post: 100,
        };
        // Twelve threads of 1 to 23 posts, over two sub-forums.
        for t in 1..=12u32 {
            let posts = (t as usize * 7) % 23 + 1;
            f.forums[(t % 2) as usize].2.push(t);
            f.threads
                .insert(t, (format!("Vente base clinique {t}"), Vec::new()));
            for i in 0..posts {
                f.add_post(
                    t,
                    &format!("vendeur{}", i % 3),
                    &format!("Lot {t}-{i}: dossiers patients"),
                );
            }
        }
        f
    }

    /// Ten sub-forums of one short thread each: more listing pages than a run's budget.
    fn wide() -> Forum {
        const NAMES: [&str; 10] = [
            "Un", "Deux", "Trois", "Quatre", "Cinq", "Six", "Sept", "Huit", "Neuf", "Dix",
        ];
        let mut f = Forum {
            forums: Vec::new(),
            threads: BTreeMap::new(),
            next_post: 500,
        };
        for (i, name) in NAMES.iter().enumerate() {
            let t = 100 + i as u32;
            f.forums.push((10 + i as u32, name, vec![t]));
            f.threads.insert(t, (format!("Sujet {name}"), Vec::new()));
            f.add_post(t, "vendeur1", &format!("Lot {name}: dossiers patients"));
        }
        f
    }

    fn add_post(&mut self, t: u32, author: &str, text: &str) {
        self.next_post += 1;
        let id = self.next_post;
        if let Some(th) = self.threads.get_mut(&t) {
            th.1.push((id, author.to_string(), text.to_string()));
        }
    }

    fn total_posts(&self) -> usize {
        self.threads.values().map(|t| t.1.len()).sum()
    }
}

/// A fresh 32-hex session id per response, as phpBB gives a client without its cookie.
fn sid() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "{:032x}",
        N.fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html dir=\"ltr\" lang=\"fr\"><head><meta charset=\"utf-8\" />\
         <title>{title} - Forum santé</title></head>\
         <body id=\"phpbb\" class=\"nojs notouch section-viewtopic ltr\"><div id=\"wrap\" class=\"wrap\">\
         <div id=\"page-header\"><div class=\"headerbar\"><h1>Forum santé</h1><p>Le forum</p></div>\
         <div class=\"navbar\"><ul class=\"nav-main linklist\"><li><a href=\"./faq.php?sid={s}\">FAQ</a></li>\
         <li><a href=\"./ucp.php?mode=login&amp;sid={s}\" title=\"Login\">Login</a></li></ul></div></div>\
         <div id=\"page-body\" class=\"page-body\">{body}</div>\
         <div id=\"page-footer\">Powered by <a href=\"https://www.phpbb.com/\">phpBB</a>&reg; Forum Software</div>\
         </div></body></html>",
        s = sid()
    )
}

fn time(i: u32) -> String {
    let day = 1 + i % 28;
    format!("<time datetime=\"2026-10-{day:02}T08:{:02}:00+00:00\">Thu Oct {day:02}, 2026 8:{:02} am</time>", i % 60, i % 60)
}

fn pagination(base: &str, start: usize, total: usize) -> String {
    if start + PER_PAGE >= total {
        return "<div class=\"pagination\">1 page</div>".into();
    }
    format!(
        "<div class=\"pagination\"><ul><li class=\"active\"><span>{}</span></li>\
         <li class=\"arrow next\"><a class=\"button button-icon-only\" href=\"{base}&amp;start={}&amp;sid={}\" rel=\"next\" role=\"button\">Suivante</a></li></ul></div>",
        start / PER_PAGE + 1,
        start + PER_PAGE,
        sid()
    )
}

fn query(path: &str) -> BTreeMap<String, String> {
    path.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn render(forum: &Forum, path: &str) -> (u16, String) {
    let q = query(path);
    let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    if path.starts_with("/index.php") {
        let mut rows = String::new();
        for (f, name, threads) in &forum.forums {
            let last = threads
                .iter()
                .filter_map(|t| forum.threads[t].1.last())
                .map(|p| p.0)
                .max()
                .unwrap_or(0);
            rows.push_str(&format!(
                "<li class=\"row\"><dl class=\"row-item forum_read\"><dt title=\"No unread posts\"><div class=\"list-inner\">\
                 <a href=\"./viewforum.php?f={f}&amp;sid={s}\" class=\"forumtitle\">{name}</a><br />Annonces et ventes</div></dt>\
                 <dd class=\"topics\">{n} <dfn>Topics</dfn></dd>\
                 <dd class=\"lastpost\"><span><dfn>Last post</dfn> <a href=\"./viewtopic.php?p={last}&amp;sid={s}#p{last}\" title=\"View the latest post\">&rarr;</a><br />{t}</span></dd></dl></li>",
                n = threads.len(),
                s = sid(),
                t = time(last)
            ));
        }
        let body = format!(
            "<div class=\"forabg\"><div class=\"inner\"><ul class=\"topiclist\"><li class=\"header\"><dl class=\"row-item\"><dt><div class=\"list-inner\">Forum</div></dt></dl></li></ul>\
             <ul class=\"topiclist forums\">{rows}</ul></div></div>"
        );
        return (200, page("Index", &body));
    }
    if path.starts_with("/viewforum.php") {
        let f: u32 = q.get("f").and_then(|s| s.parse().ok()).unwrap_or(0);
        let Some((_, name, threads)) = forum.forums.iter().find(|x| x.0 == f) else {
            return (404, page("404", "<p>Not found</p>"));
        };
        // Most recent activity first, as phpBB sorts.
        let mut ts: Vec<u32> = threads.clone();
        ts.sort_by_key(|t| std::cmp::Reverse(forum.threads[t].1.last().map(|p| p.0)));
        let mut rows = String::new();
        for t in ts.iter().skip(start).take(PER_PAGE) {
            let (title, posts) = &forum.threads[t];
            let (last, by, _) = posts.last().cloned().unwrap_or_default();
            rows.push_str(&format!(
                "<li class=\"row bg1\"><dl class=\"row-item topic_read\"><dt title=\"No unread posts\"><div class=\"list-inner\">\
                 <a href=\"./viewtopic.php?t={t}&amp;sid={s}\" class=\"topictitle\">{title}</a><br />\
                 <div class=\"topic-poster responsive-hide left-box\">by <a href=\"./memberlist.php?mode=viewprofile&amp;u=2&amp;sid={s}\" class=\"username\">{first}</a> &raquo; {t0}</div></div></dt>\
                 <dd class=\"posts\">{replies} <dfn>Replies</dfn></dd><dd class=\"views\">{views} <dfn>Views</dfn></dd>\
                 <dd class=\"lastpost\"><span><dfn>Last post </dfn>by <a href=\"./memberlist.php?mode=viewprofile&amp;u=3&amp;sid={s}\" class=\"username\">{by}</a> \
                 <a href=\"./viewtopic.php?p={last}&amp;sid={s}#p{last}\" title=\"Go to last post\">&rarr;</a><br />{tl}</span></dd></dl></li>",
                s = sid(),
                first = posts[0].1,
                t0 = time(posts[0].0),
                replies = posts.len() - 1,
                // Views change on every visit: they must not count as activity.
                views = sid().len() + start,
                tl = time(last),
            ));
        }
        let body = format!(
            "<h2 class=\"forum-title\"><a href=\"./viewforum.php?f={f}\">{name}</a></h2>\
             <div class=\"forumbg\"><div class=\"inner\"><ul class=\"topiclist\"><li class=\"header\"><dl class=\"row-item\"><dt><div class=\"list-inner\">Topics</div></dt></dl></li></ul>\
             <ul class=\"topiclist topics\">{rows}</ul></div></div>{}",
            pagination(&format!("./viewforum.php?f={f}"), start, ts.len())
        );
        return (200, page(name, &body));
    }
    if path.starts_with("/viewtopic.php") {
        let t: u32 = q.get("t").and_then(|s| s.parse().ok()).unwrap_or(0);
        let Some((title, posts)) = forum.threads.get(&t) else {
            return (404, page("404", "<p>Not found</p>"));
        };
        let mut body = format!(
            "<h2 class=\"topic-title\"><a href=\"./viewtopic.php?t={t}&amp;sid={}\">{title}</a></h2>",
            sid()
        );
        for (id, author, text) in posts.iter().skip(start).take(PER_PAGE) {
            body.push_str(&format!(
                "<div id=\"p{id}\" class=\"post has-profile bg2\"><div class=\"inner\">\
                 <dl class=\"postprofile\" id=\"profile{id}\"><dt class=\"has-profile-rank no-avatar\">\
                 <a href=\"./memberlist.php?mode=viewprofile&amp;u=2&amp;sid={s}\" class=\"username\">{author}</a></dt>\
                 <dd class=\"profile-rank\">Membre</dd><dd class=\"profile-posts\"><strong>Posts:</strong> 12</dd></dl>\
                 <div class=\"postbody\"><div id=\"post_content{id}\">\
                 <h3 class=\"first\"><a href=\"./viewtopic.php?p={id}&amp;sid={s}#p{id}\">{title}</a></h3>\
                 <p class=\"author\"><a class=\"unread\" href=\"./viewtopic.php?p={id}&amp;sid={s}#p{id}\" title=\"Post\"><span class=\"sr-only\">Post</span></a>\
                 <span class=\"responsive-hide\">by <strong><a href=\"./memberlist.php?mode=viewprofile&amp;u=2&amp;sid={s}\" class=\"username\">{author}</a></strong> &raquo; </span>{tm}</p>\
                 <div class=\"content\">{text}<br>Contact: <a href=\"./ucp.php?i=pm&amp;mode=compose&amp;u=2&amp;sid={s}\">MP</a></div>\
                 </div></div></div></div>",
                s = sid(),
                tm = time(*id)
            ));
        }
        body.push_str(&pagination(
            &format!("./viewtopic.php?t={t}"),
            start,
            posts.len(),
        ));
        return (200, page(title, &body));
    }
    (
        404,
        page("Not found", "<p>The requested page does not exist.</p>"),
    )
}

fn post_keys(docs: &[CollectedDocument]) -> Vec<String> {
    docs.iter()
        .filter_map(|d| {
            d.document
                .lines()
                .find(|l| l.starts_with("Post: "))
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_budget_reaches_every_post_over_runs_and_a_recrawl_adds_nothing() {
    let forum = Arc::new(Mutex::new(Forum::new()));
    let total = forum.lock().unwrap().total_posts();
    let f = Arc::clone(&forum);
    let site = serve(Arc::new(move |p: &str| render(&f.lock().unwrap(), p)));
    let c = collector(
        site.port,
        "id = \"sante\"\nkind = \"forum\"\nengine = \"auto\"\nstart = \"/index.php\"\nmax_pages = 8\n",
    );

    let mut bytes: BTreeSet<String> = BTreeSet::new();
    let mut posts: BTreeSet<String> = BTreeSet::new();
    let mut runs = 0;
    while posts.len() < total && runs < 12 {
        let (docs, health) = run(&c, "sante").await;
        runs += 1;
        assert_eq!(health.status, HealthStatus::Ok, "{health:?}");
        assert!(health.pages_ok <= 8, "the budget holds: {health:?}");
        for d in &docs {
            assert!(!d.url.contains("sid="), "{}", d.url);
            assert!(!d.document.contains("sid="), "{}", d.document);
            assert!(d.document.contains("\nAuthor: vendeur"), "{}", d.document);
            assert!(d.document.contains("\nDate: 2026-10-"), "{}", d.document);
            assert!(
                !d.document.contains("Forum santé"),
                "page chrome: {}",
                d.document
            );
            bytes.insert(d.document.clone());
        }
        posts.extend(post_keys(&docs));
    }
    // 144 posts on 20 thread pages, and up to 3 listing pages a run: at 8 pages a run, four
    // or five runs when no thread page is read twice; re-reading every thread each run (the
    // old crawl) never gets past the first sub-forum.
    eprintln!("all {total} posts in {runs} runs");
    assert_eq!(posts.len(), total, "after {runs} runs");
    assert!(runs <= 5, "{runs} runs");
    // Same post, same bytes: as many distinct documents as posts, whatever the sid.
    assert_eq!(bytes.len(), total);

    // Nothing changed: the next run reads listings only and adds nothing.
    site.hits.lock().unwrap().clear();
    let (docs, health) = run(&c, "sante").await;
    assert_eq!(health.status, HealthStatus::Ok, "{health:?}");
    let new: Vec<&CollectedDocument> = docs
        .iter()
        .filter(|d| !bytes.contains(&d.document))
        .collect();
    assert!(new.is_empty(), "{new:?}");
    let hits = site.hits.lock().unwrap().clone();
    assert!(
        hits.iter().all(|h| !h.starts_with("/viewtopic.php")),
        "unchanged threads re-read: {hits:?}"
    );

    // A reply in an old thread moves its marker: the next run reads that thread's last page.
    forum
        .lock()
        .unwrap()
        .add_post(1, "acheteur", "Toujours dispo ? Je prends le lot CHU");
    let (docs, _) = run(&c, "sante").await;
    let new: Vec<&CollectedDocument> = docs
        .iter()
        .filter(|d| !bytes.contains(&d.document))
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert!(new[0].document.contains("Je prends le lot CHU"));
    assert!(new[0].document.contains("Author: acheteur"));
}

fn real(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/real")
        .join(path);
    String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_standing_in_for_content_are_named_not_blind() {
    let login = real("leak-sites/_noncontent/bluesky-decryptor-login.html");
    let captcha = real("leak-sites/_noncontent/cryptnet-captcha-login.html");
    let not_found = real("leak-sites/_noncontent/dunghill_leak-404.html");
    let site = serve(Arc::new(move |p: &str| {
        match p {
        "/login" => (200, login.clone()),
        "/captcha" => (200, captcha.clone()),
        "/gone" => (200, not_found.clone()),
        "/limited" => (429, "<p>Too Many Requests</p>".to_string()),
        "/moved" => (404, "<p>Not Found</p>".to_string()),
        // Prose that no reader can turn into posts: a content page, so the reader is blind.
        _ => (
            200,
            format!(
                "<html><head><title>Blog</title></head><body><article><h1>Notre histoire</h1>{}</article></body></html>",
                "<p>Nous écrivons ici des textes longs sur le forum et la vie du site, sans aucun sujet ni message.</p>".repeat(40)
            ),
        ),
    }
    }));
    let cases = [
        ("/login", "forum", HealthStatus::LoginWall),
        ("/login", "leak-site", HealthStatus::LoginWall),
        ("/captcha", "leak-site", HealthStatus::Captcha),
        ("/gone", "forum", HealthStatus::NotFound),
        ("/limited", "forum", HealthStatus::RateLimited),
        ("/moved", "leak-site", HealthStatus::NotFound),
        ("/prose", "forum", HealthStatus::Blind),
    ];
    for (path, kind, want) in cases {
        let c = collector(
            site.port,
            &format!("id = \"s\"\nkind = \"{kind}\"\nstart = \"{path}\"\n"),
        );
        let (docs, health) = run(&c, "s").await;
        assert!(docs.is_empty());
        assert_eq!(health.status, want, "{path} as {kind}: {health:?}");
        if want != HealthStatus::Blind {
            assert!(health.blind.is_empty(), "{health:?}");
            assert!(
                health.errors.iter().any(|e| e.contains(want.explain())),
                "{health:?}"
            );
        }
    }
}

fn leak_listing() -> String {
    let cards: String = [
        ("chu-exemple", "CHU Exemple", "chu-exemple.fr", "1.2 TB"),
        ("clinique-sud", "Clinique du Sud", "clinique-sud.fr", "340 GB"),
        ("labo-analyses", "Labo Analyses", "labo-analyses.fr", "85 GB"),
        ("ehpad-les-pins", "EHPAD Les Pins", "ehpad-pins.fr", "12 GB"),
    ]
    .iter()
    .map(|(slug, name, site, size)| {
        format!(
            "<div class=\"card\"><h3 class=\"card-title\"><a href=\"/victim/{slug}?sid={s}\">{name}</a></h3>\
             <p class=\"site\">{site}</p><p class=\"size\">Data: {size}</p>\
             <p class=\"timer\">Publication in {t}</p><p class=\"status\">Published</p></div>",
            s = sid(),
            t = sid().len() + sid().chars().filter(char::is_ascii_digit).count(),
        )
    })
    .collect();
    format!(
        "<html><head><title>Leaks</title></head><body><header><a href=\"/\">Home</a> <a href=\"/contact\">Contact</a></header>\
         <main><div class=\"grid\">{cards}</div></main></body></html>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_site_detail_pages_are_read_once_and_victims_stay_the_same_bytes() {
    let site = serve(Arc::new(|p: &str| {
        if p.starts_with("/victim/") {
            let slug = p
                .trim_start_matches("/victim/")
                .split('?')
                .next()
                .unwrap_or("");
            (
                200,
                format!(
                    "<html><head><title>{slug}</title></head><body><main><article class=\"post\">\
                     <h1>{slug}</h1><p>Stolen: patient records, HR, finance.</p>\
                     <pre>nom\tprenom\tnir\nDUPONT\tJean\t1 85 05 75 123 456 44</pre></article></main></body></html>"
                ),
            )
        } else {
            (200, leak_listing())
        }
    }));
    let c = collector(
        site.port,
        "id = \"leaks\"\nkind = \"leak-site\"\nstart = \"/\"\nmax_pages = 10\n",
    );
    let (first, health) = run(&c, "leaks").await;
    assert_eq!(health.status, HealthStatus::Ok, "{health:?}");
    let hits = site.hits.lock().unwrap().clone();
    let details: Vec<&String> = hits.iter().filter(|h| h.starts_with("/victim/")).collect();
    assert_eq!(details.len(), 4, "{hits:?}");
    assert!(first
        .iter()
        .all(|d| !d.document.contains("sid=") && !d.url.contains("sid=")));
    // The sample rows of a detail page stay rows.
    assert!(
        first
            .iter()
            .any(|d| d.document.contains("DUPONT\tJean\t1 85 05 75 123 456 44")),
        "{first:#?}"
    );

    site.hits.lock().unwrap().clear();
    let (second, _) = run(&c, "leaks").await;
    let hits = site.hits.lock().unwrap().clone();
    assert!(hits.iter().all(|h| !h.starts_with("/victim/")), "{hits:?}");
    // The listing's countdown moved, the victims did not: same bytes.
    let before: BTreeSet<&String> = first.iter().map(|d| &d.document).collect();
    for d in &second {
        assert!(
            before.contains(&d.document),
            "new bytes for a known victim:\n{}",
            d.document
        );
    }
    assert!(!second.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_document_has_its_author_date_own_text_rows_and_quotes_apart() {
    // One prosilver thread page: a moderator's coloured name, a code box of tab-separated
    // rows, and a reply quoting the sale.
    let thread = "<!DOCTYPE html><html dir=\"ltr\" lang=\"fr\"><head><meta charset=\"utf-8\" /><title>Vente base CHU - Forum santé</title></head>\
        <body id=\"phpbb\" class=\"nojs notouch section-viewtopic ltr\"><div id=\"wrap\" class=\"wrap\">\
        <div class=\"navbar\"><ul class=\"nav-main linklist\"><li><a href=\"./ucp.php?mode=login\">Login</a></li><li>Wed Nov 04, 2026 9:12 pm</li></ul></div>\
        <div id=\"page-body\" class=\"page-body\"><h2 class=\"topic-title\"><a href=\"./viewtopic.php?t=1\">Vente base CHU</a></h2>\
        <div id=\"p11\" class=\"post has-profile bg2\"><div class=\"inner\"><dl class=\"postprofile\" id=\"profile11\"><dt class=\"has-profile-rank no-avatar\">\
        <a href=\"./memberlist.php?mode=viewprofile&amp;u=2\" style=\"color: #AA0000;\" class=\"username-coloured\">darkmed</a></dt><dd class=\"profile-rank\">Modérateur</dd></dl>\
        <div class=\"postbody\"><div id=\"post_content11\"><h3 class=\"first\"><a href=\"./viewtopic.php?p=11#p11\">Vente base CHU</a></h3>\
        <p class=\"author\"><a class=\"unread\" href=\"./viewtopic.php?p=11#p11\" title=\"Post\"><span class=\"sr-only\">Post</span></a><span class=\"responsive-hide\">by <strong>\
        <a href=\"./memberlist.php?mode=viewprofile&amp;u=2\" style=\"color: #AA0000;\" class=\"username-coloured\">darkmed</a></strong> &raquo; </span>\
        <time datetime=\"2026-11-03T20:05:00+00:00\">Tue Nov 03, 2026 9:05 pm</time></p>\
        <div class=\"content\">Base patients, échantillon :<br><div class=\"codebox\"><p>Code: <a href=\"#\">Select all</a></p><pre><code>nom\tprenom\tville\nDUPONT\tJean\tNantes</code></pre></div></div>\
        </div></div></div></div>\
        <div id=\"p12\" class=\"post has-profile bg1\"><div class=\"inner\"><dl class=\"postprofile\" id=\"profile12\"><dt class=\"no-avatar\">\
        <a href=\"./memberlist.php?mode=viewprofile&amp;u=3\" class=\"username\">acheteur</a></dt></dl>\
        <div class=\"postbody\"><div id=\"post_content12\"><h3><a href=\"./viewtopic.php?p=12#p12\">Re: Vente base CHU</a></h3>\
        <p class=\"author\"><a class=\"unread\" href=\"./viewtopic.php?p=12#p12\" title=\"Post\"><span class=\"sr-only\">Post</span></a><span class=\"responsive-hide\">by <strong>\
        <a href=\"./memberlist.php?mode=viewprofile&amp;u=3\" class=\"username\">acheteur</a></strong> &raquo; </span>\
        <time datetime=\"2026-11-04T08:00:00+00:00\">Wed Nov 04, 2026 9:00 am</time></p>\
        <div class=\"content\"><blockquote><div><cite>darkmed wrote: <a href=\"./viewtopic.php?p=11#p11\">↑</a></cite>Base patients à vendre</div></blockquote>Toujours dispo ?</div>\
        </div></div></div></div></div></div></body></html>"
        .to_string();
    let site = serve(Arc::new(move |_: &str| (200, thread.clone())));
    let c = collector(
        site.port,
        "id = \"f\"\nkind = \"forum\"\nstart = \"/viewtopic.php?t=1\"\n",
    );
    let (docs, health) = run(&c, "f").await;
    assert_eq!(health.status, HealthStatus::Ok, "{health:?}");
    assert_eq!(docs.len(), 2, "{docs:#?}");
    let sale = &docs[0].document;
    assert!(sale.contains("\nThread: Vente base CHU\n"), "{sale}");
    assert!(sale.contains("\nAuthor: darkmed\n"), "{sale}");
    assert!(sale.contains("\nDate: 2026-11-03T20:05:00Z\n"), "{sale}");
    assert!(
        sale.contains("nom\tprenom\tville\nDUPONT\tJean\tNantes"),
        "{sale}"
    );
    let reply = &docs[1].document;
    assert!(reply.contains("\nAuthor: acheteur\n"), "{reply}");
    let (own, quoted) = reply.split_once("\nQuoted:\n").expect("a Quoted section");
    assert!(
        own.contains("Toujours dispo ?") && !own.contains("Base patients"),
        "{reply}"
    );
    assert!(
        quoted.contains("> ") && quoted.contains("Base patients à vendre"),
        "{reply}"
    );
    for d in &docs {
        assert!(
            !d.document.contains("Login") && !d.document.contains(" pm\n"),
            "page chrome: {}",
            d.document
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_forums_beyond_the_budget_are_reached_on_later_runs() {
    let forum = Arc::new(Mutex::new(Forum::wide()));
    let total = forum.lock().unwrap().total_posts();
    let f = Arc::clone(&forum);
    let site = serve(Arc::new(move |p: &str| render(&f.lock().unwrap(), p)));
    let c = collector(
        site.port,
        "id = \"wide\"\nkind = \"forum\"\nstart = \"/index.php\"\nmax_pages = 6\n",
    );
    let mut posts: BTreeSet<String> = BTreeSet::new();
    let mut runs = 0;
    while posts.len() < total && runs < 10 {
        let (docs, health) = run(&c, "wide").await;
        runs += 1;
        assert!(health.pages_ok <= 6, "{health:?}");
        posts.extend(post_keys(&docs));
    }
    // Index plus ten listings is more than six pages: without carrying the unreached
    // listings over, every run would stop at the fifth sub-forum.
    assert_eq!(posts.len(), total, "after {runs} runs");
    assert!(runs <= 5, "{runs} runs");
}
