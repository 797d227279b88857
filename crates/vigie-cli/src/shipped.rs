//! The watchlists shipped in `watchlists/`, embedded at build time.

use std::path::Path;

use anyhow::{Context, Result};
use vigie_match::Watchlist;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// The shipped lists, or the given files and directories instead.
pub fn load(paths: &[impl AsRef<Path>]) -> Result<Watchlist> {
    if !paths.is_empty() {
        return Watchlist::load(paths).context("loading watchlists");
    }
    let mut list = Watchlist::default();
    for (name, text) in SHIPPED {
        list.add_toml(Path::new(&format!("watchlists/{name}")), text)
            .context("loading the shipped watchlists")?;
    }
    Ok(list)
}
