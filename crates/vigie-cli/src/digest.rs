//! `vigie digest`: the weekly threat digest, written out and optionally sent.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use vigie_alerts::{resolve, Format, Language, Sender};
use vigie_digest::{build, html, markdown, IsoWeek};
use vigie_store::Timestamp;

use crate::args::{DigestArgs, DigestFormat, DigestLang};
use crate::config::Config;
use crate::incidents::open_for_queries;
use crate::Outcome;

pub fn run(args: DigestArgs, config: &Config, store_flag: Option<&Path>) -> Result<Outcome> {
    let now = Timestamp::now();
    let week = match &args.week {
        Some(w) => w.parse::<IsoWeek>()?,
        None => IsoWeek::last_full(now),
    };
    let lang = match args.lang {
        DigestLang::Fr => Language::Fr,
        DigestLang::En => Language::En,
    };
    // Recipients are checked before any work, like every command that sends.
    let recipients = if args.send {
        let all = resolve(&config.recipient, |name| std::env::var(name).ok())
            .context("checking [[recipient]] entries")?;
        let digest: Vec<_> = all.into_iter().filter(|r| r.config.digest).collect();
        if digest.is_empty() {
            bail!("--send: no [[recipient]] has `digest = true`");
        }
        digest
    } else {
        Vec::new()
    };
    let store = open_for_queries(config, store_flag)?;
    let digest =
        build(&store, week, now).with_context(|| format!("building the digest of {week}"))?;
    let page = match args.format {
        DigestFormat::Html => html(&digest, lang),
        DigestFormat::Md => markdown(&digest, lang),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &page).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().lock().write_all(page.as_bytes())?,
    }
    if recipients.is_empty() {
        return Ok(Outcome::Success);
    }
    let sender = Sender::new(config.delivery.timeout());
    let key = format!("vigie-digest-{week}-{}", args.lang.as_str());
    let mut failed = 0;
    for r in &recipients {
        let body = match r.config.format {
            Format::Json => serde_json::to_vec(&serde_json::json!({
                "schema": "vigie.digest/1",
                "week": week.to_string(),
                "language": args.lang.as_str(),
                "html": html(&digest, lang),
                "markdown": markdown(&digest, lang),
            }))?,
            Format::Chat => serde_json::to_vec(&serde_json::json!({
                "username": "Vigie",
                "text": markdown(&digest, lang),
            }))?,
        };
        match sender.post_with_retries(r, &key, "application/json", &body, &config.delivery) {
            Ok(status) => eprintln!("vigie: digest {week} sent to {} (HTTP {status})", r.id()),
            Err(e) => {
                eprintln!("vigie: digest {week} not delivered to {}: {e}", r.id());
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

impl DigestLang {
    fn as_str(self) -> &'static str {
        match self {
            DigestLang::Fr => "fr",
            DigestLang::En => "en",
        }
    }
}
