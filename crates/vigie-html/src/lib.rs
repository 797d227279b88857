//! Hostile HTML in bounded time.
//!
//! Vigie reads pages written by the people it watches, so every HTML page is attacker-shaped
//! input. `html5ever`, the parser behind `scraper`, is correct but not bounded: its tokenizer
//! checks each attribute against every earlier one of the same tag (quadratic in the number of
//! attributes), and its tree builder scans the stack of open elements on each tag (quadratic in
//! nesting depth; `<div></x>` repeated builds a tree as deep as the page is long). This crate
//! puts both behind limits, and every stage that parses HTML goes through it:
//!
//! - [`canonicalize`] re-tokenizes a page in one forward pass and writes it back with at most
//!   [`MAX_ATTRIBUTES`] distinct attributes per tag, comments dropped, and every `<` of text
//!   escaped — so the tags `html5ever` sees are exactly the ones written back;
//! - [`parse_document`] parses the canonical page with `html5ever` in chunks, through a tree
//!   sink that measures the depth of the tree it actually builds and stops at `max_depth`
//!   ([`HtmlRefused::TooDeep`]);
//! - [`html_to_text`] turns a page into readable text (scripts, styles and templates dropped,
//!   blocks as lines, table cells as tabs) from the token stream alone: no tree, linear;
//! - [`readable_text`] does the same for an element of a parsed tree, iteratively;
//! - [`hostile`] generates the attacker-shaped pages the tests and the benchmark run.
//!
//! Not for: fetching, charset detection (callers decode first) or selecting content (callers
//! use `scraper` selectors on the returned [`scraper::Html`]).
//!
//! ```
//! let page = "<html><body><div class=post>Vends base <b>CHU</b></div></body></html>";
//! let doc = vigie_html::parse_document(page, vigie_html::DEFAULT_MAX_DEPTH).unwrap();
//! let post = scraper::Selector::parse("div.post").unwrap();
//! let el = doc.select(&post).next().unwrap();
//! assert_eq!(vigie_html::readable_text(el), "Vends base CHU");
//!
//! let deep = "<div></x>".repeat(100_000);
//! assert!(vigie_html::parse_document(&deep, vigie_html::DEFAULT_MAX_DEPTH).is_err());
//! assert_eq!(vigie_html::html_to_text("<p>a</p><table><tr><td>1<td>2</table>").trim(), "a\n1\t2");
//! ```
#![deny(missing_docs)]

mod canonical;
pub mod hostile;
mod text;
mod tokens;
mod tree;

pub use canonical::canonicalize;
pub use text::{html_to_text, readable_text};
pub use tokens::MAX_ATTRIBUTES;
pub use tree::{parse_document, HtmlRefused, DEFAULT_MAX_DEPTH};
