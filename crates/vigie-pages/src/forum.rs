//! Forum pages of the common engines.
//!
//! CONTRACT (vigie-tor codes against it; the forum engineer fills it in, keeping these names):
//! `Engine`, `Engine::from_name`, `Engine::name`, `detect`, `ForumPage`, `ThreadLink`,
//! `read_forum_page`.

use scraper::Html;
use url::Url;

use crate::{Entry, PageContext};

/// The forum engines Vigie reads without configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    PhpBb,
    MyBb,
    XenForo,
    VBulletin,
    Smf,
    Invision,
}

impl Engine {
    /// The engine named in a config (`phpbb`, `mybb`, `xenforo`, `vbulletin`, `smf`, `invision`).
    pub fn from_name(name: &str) -> Option<Engine> {
        Some(match name {
            "phpbb" => Engine::PhpBb,
            "mybb" => Engine::MyBb,
            "xenforo" => Engine::XenForo,
            "vbulletin" => Engine::VBulletin,
            "smf" => Engine::Smf,
            "invision" => Engine::Invision,
            _ => return None,
        })
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::PhpBb => "phpbb",
            Engine::MyBb => "mybb",
            Engine::XenForo => "xenforo",
            Engine::VBulletin => "vbulletin",
            Engine::Smf => "smf",
            Engine::Invision => "invision",
        }
    }
}

/// The engine that rendered a page (generator meta, class names), if one is recognised.
pub fn detect(_doc: &Html) -> Option<Engine> {
    None // TODO(forum engineer)
}

/// A thread as a listing (forum index, sub-forum, search page) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadLink {
    /// Its first page, session parameters removed.
    pub url: Url,
    pub title: String,
    /// What changes when someone posts in it (last post id, date or reply count as shown);
    /// empty when the listing shows nothing of the kind.
    pub last_post: String,
}

/// What a forum page holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForumPage {
    pub engine: Option<Engine>,
    /// The thread's title on a thread page.
    pub thread_title: String,
    /// The posts of a thread page, in page order; never theme headers, ads or announcements.
    pub posts: Vec<Entry>,
    /// Threads listed on an index or sub-forum page.
    pub threads: Vec<ThreadLink>,
    /// Sub-forums linked from an index or forum page.
    pub subforums: Vec<Url>,
    /// The next page of this thread or listing.
    pub next_page: Option<Url>,
}

/// Reads a forum page; `engine` forces an engine, `None` detects it.
pub fn read_forum_page(doc: &Html, engine: Option<Engine>, _ctx: &PageContext) -> ForumPage {
    ForumPage {
        engine: engine.or_else(|| detect(doc)),
        ..ForumPage::default()
    } // TODO(forum engineer)
}
