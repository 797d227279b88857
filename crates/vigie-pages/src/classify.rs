//! Why a page holds nothing.
//!
//! A crawler that finds no post on a page must not blame its parser before ruling out the
//! usual reasons a site shows no content: a login form instead of the forum (the session
//! cookie expired), a CAPTCHA or a DDoS-protection queue (EndGame and its kin, common on onion
//! forums and leak sites), a "not found" or empty page, a maintenance notice, or a rate limit.
//! [`classify`] tells these apart from the HTTP status, the markup (password fields, CAPTCHA
//! images and forms) and the words of the page (English, French, Russian). Wording found in the
//! body counts only on short pages: a long page that mentions "captcha" in a post is content.
//! It is meant for pages that yielded nothing; on a page that did yield posts it still answers
//! [`PageClass::Content`] unless the page is short and plainly one of the others.

use scraper::{Html, Selector};

/// What kind of page was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageClass {
    /// Looks like content.
    Content,
    /// A login form stands in for the content (expired cookie?).
    LoginWall,
    /// A CAPTCHA or a DDoS-protection queue (EndGame and the like).
    Captcha,
    /// 404, "not found", an empty page.
    NotFound,
    /// "Maintenance", "be right back".
    Maintenance,
    /// 429 or "too many requests".
    RateLimited,
}

impl PageClass {
    /// A short, stable name (`content`, `login_wall`, `captcha`, `not_found`, `maintenance`,
    /// `rate_limited`).
    pub fn name(self) -> &'static str {
        match self {
            PageClass::Content => "content",
            PageClass::LoginWall => "login_wall",
            PageClass::Captcha => "captcha",
            PageClass::NotFound => "not_found",
            PageClass::Maintenance => "maintenance",
            PageClass::RateLimited => "rate_limited",
        }
    }
}

/// Pages with fewer words than this are "short": their wording alone can classify them.
/// Login, CAPTCHA, queue and error pages measured in the real fixtures stay under 400 words
/// including the theme's menus; a forum thread or a victim list page is longer, and when it is
/// not, it yields entries, so it is never classified.
const SHORT_PAGE_WORDS: usize = 600;

const RATE_LIMITED: &[&str] = &[
    "too many requests",
    "rate limit",
    "rate-limit",
    "ratelimit",
    "request limit",
    "slow down",
    "trop de requêtes",
    "trop de requetes",
    "слишком много запросов",
];

const CAPTCHA: &[&str] = &[
    "captcha",
    "checking your browser",
    "attention required",
    "you have been blocked",
    "check your browser",
    "browser verification",
    "ddos protection",
    "ddos-guard",
    "anti-ddos",
    "anti ddos",
    "verify you are human",
    "verifying you are human",
    "are you human",
    "prove you are human",
    "not a robot",
    "security check",
    "just a moment...",
    "you are in queue",
    "you are in the queue",
    "placed in a queue",
    "position in queue",
    "position in the queue",
    "queue position",
    "waiting room",
    "access queue",
    "please wait while",
    "vérification de sécurité",
    "проверка браузера",
    "введите капчу",
    "вы не робот",
];

/// Said in place of the content. Not "please login": SMF greets every guest with it.
const LOGIN_REQUIRED: &[&str] = &[
    "you must be logged in",
    "you must be logged-in",
    "you need to be logged in",
    "you need to log in",
    "you need to login",
    "you must log in",
    "you must login",
    "registered and logged in",
    "you are not logged in",
    "not logged in or do not have permission",
    "either not logged in",
    "login required",
    "log in to continue",
    "sign in to continue",
    "login to view",
    "log in to view",
    "vous devez être connecté",
    "vous devez vous connecter",
    "veuillez vous connecter",
    "вы должны войти",
    "необходимо авторизоваться",
    "необходимо войти",
];

/// Titles and headings of login pages.
const LOGIN_TITLE: &[&str] = &[
    "log in",
    "login",
    "log-in",
    "sign in",
    "connexion",
    "se connecter",
    "вход",
    "авторизация",
];

/// Not the bare word: a victim's sector reads "maintenance" too.
const MAINTENANCE: &[&str] = &[
    "under maintenance",
    "maintenance mode",
    "down for maintenance",
    "in maintenance",
    "scheduled maintenance",
    "maintenance in progress",
    "en maintenance",
    "maintenance en cours",
    "be right back",
    "temporarily unavailable",
    "temporarily down",
    "currently disabled",
    "currently closed",
    "технические работы",
    "техническое обслуживание",
];

const NOT_FOUND: &[&str] = &[
    "not found",
    "404",
    "does not exist",
    "doesn't exist",
    "no longer exists",
    "no longer available",
    "has been removed",
    "has been deleted",
    "invalid thread",
    "invalid topic",
    "introuvable",
    "n'existe pas",
    "не найден",
    "не существует",
];

/// Classifies a page from its HTTP status, tree and readable text.
pub fn classify(status: u16, doc: &Html, text: &str) -> PageClass {
    match status {
        429 => return PageClass::RateLimited,
        404 | 410 => return PageClass::NotFound,
        _ => {}
    }
    let words = text.split_whitespace().take(SHORT_PAGE_WORDS).count();
    let short = words < SHORT_PAGE_WORDS;
    let title = first_text(doc, "title").to_lowercase();
    // Only short pages are lowered whole: the cost stays small on long content pages.
    let body = if short {
        text.to_lowercase()
    } else {
        String::new()
    };
    let said = |phrases: &[&str]| {
        phrases
            .iter()
            .any(|p| title.contains(p) || (short && body.contains(p)))
    };
    if said(RATE_LIMITED) {
        return PageClass::RateLimited;
    }
    if said(CAPTCHA) || (short && has(doc, CAPTCHA_MARKUP)) {
        return PageClass::Captcha;
    }
    let password = short && has(doc, "input[type=password], input[type=PASSWORD]");
    // "You must log in to reply" sits under guest-visible threads: the wording counts with
    // the login form the engines show in place of the content, or on a near-empty page.
    if short && (password || words < 100) && said(LOGIN_REQUIRED) {
        return PageClass::LoginWall;
    }
    if password {
        let heading = format!(
            "{title} {}",
            first_text(doc, "h1, h2, legend").to_lowercase()
        );
        // A login box beside content (MyBB and phpBB show one to guests) is not a wall: the
        // page must be about logging in, or hold almost nothing else.
        if LOGIN_TITLE.iter().any(|p| heading.contains(p)) || words < 150 {
            return PageClass::LoginWall;
        }
    }
    // A bare form (a victim ID, a "recovery ID", a key) and almost nothing else: a gate.
    if words < 150 && has(doc, GATE_FORM) {
        return PageClass::LoginWall;
    }
    if status == 401 || status == 403 {
        return PageClass::LoginWall;
    }
    if status == 503 || (short && said(MAINTENANCE)) {
        return PageClass::Maintenance;
    }
    if short && said(NOT_FOUND) {
        return PageClass::NotFound;
    }
    // Nothing to read: an empty page, or a shell whose content only JavaScript would load.
    if words < 8 {
        return PageClass::NotFound;
    }
    PageClass::Content
}

/// CAPTCHA widgets and images, EndGame's queue and challenge forms.
const CAPTCHA_MARKUP: &str = "img[src*=captcha i], img[alt*=captcha i], input[name*=captcha i], \
     form[action*=captcha i], [id*=captcha i], [class*=captcha i], .g-recaptcha, .h-captcha, \
     .cf-turnstile, #challenge-form, [class*=queue i], [id*=queue i]";

/// A form field a visitor fills in (hidden fields and search boxes do not count).
const GATE_FORM: &str = "form input:not([type=hidden]):not([type=submit]):not([type=button])\
     :not([type=search]):not([name=q]):not([name=s]):not([name=search]):not([name=query])\
     :not([name=keywords]), form textarea";

fn has(doc: &Html, css: &str) -> bool {
    Selector::parse(css).is_ok_and(|s| doc.select(&s).next().is_some())
}

fn first_text(doc: &Html, css: &str) -> String {
    let Ok(s) = Selector::parse(css) else {
        return String::new();
    };
    doc.select(&s)
        .next()
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16, html: &str) -> PageClass {
        let doc = vigie_html::parse_document(html, vigie_html::DEFAULT_MAX_DEPTH).unwrap();
        let text = vigie_html::readable_text(doc.root_element());
        classify(status, &doc, &text)
    }

    #[test]
    fn statuses_decide_first() {
        assert_eq!(class(429, "<p>x</p>"), PageClass::RateLimited);
        assert_eq!(class(404, "<p>Welcome</p>"), PageClass::NotFound);
        assert_eq!(
            class(503, "<p>Oops, back soon.</p>"),
            PageClass::Maintenance
        );
        assert_eq!(class(403, "<p>Forbidden for you</p>"), PageClass::LoginWall);
    }

    #[test]
    fn empty_pages_are_not_found() {
        assert_eq!(class(200, ""), PageClass::NotFound);
        assert_eq!(
            class(200, "<html><body> </body></html>"),
            PageClass::NotFound
        );
    }

    #[test]
    fn a_long_post_that_mentions_captcha_is_content() {
        let post =
            "Selling a CAPTCHA solver and a login page kit, not found elsewhere. ".repeat(60);
        assert_eq!(
            class(200, &format!("<title>Forum</title><div>{post}</div>")),
            PageClass::Content
        );
    }

    #[test]
    fn a_guest_login_box_beside_content_is_not_a_wall() {
        let post = "Base patients clinique, 45 000 lignes, échantillon en privé. ".repeat(30);
        let html = format!(
            "<title>Vente base | Forum</title><form><input name=username>\
             <input type=password name=password><button>Go</button></form><div>{post}</div>"
        );
        assert_eq!(class(200, &html), PageClass::Content);
    }
}
