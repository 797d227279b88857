//! What a fetched onion page holds, read from real markup without configuration.
//!
//! A Tor source fetches pages; this crate says what is on them:
//! - [`forum`]: the posts of a thread page of phpBB, MyBB, XenForo, vBulletin, SMF or Invision
//!   (engine recognised from the page), with author, date, own text apart from quotes, and the
//!   thread and sub-forum links of listing pages;
//! - [`leak`]: the victim entries of a ransomware leak site, found as repeated sibling blocks
//!   (or by a shipped per-group profile), each with its name and whatever fields it shows;
//! - [`classify`]: why a page holds nothing (login wall, CAPTCHA or queue, not found, rate
//!   limit) before anyone blames the parser;
//! - [`dates`]: dates as forums and leak sites write them (French, English, Russian, relative);
//! - [`urlkey`]: URLs without session parameters, as keys and in stored documents.
//!
//! It is not for fetching (see `vigie-tor`) nor for judging what a post means (`vigie-match`).
//! Every function works on an already parsed [`scraper::Html`] (built by
//! [`vigie_html::parse_document`], which bounds depth) in time linear in the page.
//!
//! ```
//! use vigie_pages::{Entry, PageContext};
//! let ctx = PageContext::new(url::Url::parse("http://example.onion/viewtopic.php?t=1").unwrap());
//! let e = Entry { title: "Base CHU".into(), ..Entry::default() };
//! assert_eq!(e.title, "Base CHU");
//! assert_eq!(ctx.base.host_str(), Some("example.onion"));
//! ```

pub mod classify;
pub mod dates;
pub mod forum;
pub mod leak;
mod model;
pub mod urlkey;

pub use model::{Entry, PageContext};
