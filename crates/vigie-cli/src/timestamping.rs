//! Trusted time for the custody chain: when to ask the TSA, and checking stored tokens.

use std::time::Duration;

use anyhow::{Context, Result};
use vigie_store::Store;

use crate::config::TimestampingConfig;

const TSA_TIMEOUT: Duration = Duration::from_secs(20);

/// Time-stamps the chain head if it moved since the last token and the interval has passed
/// (or always with `force`). Returns the custody position stamped.
pub fn stamp_head(store: &mut Store, tsa: &TimestampingConfig, force: bool) -> Result<Option<u64>> {
    let head = store.custody_head().clone();
    if head.seq == 0 {
        return Ok(None);
    }
    let tokens = store.timestamp_tokens()?;
    if let Some((seq, token)) = tokens.last() {
        if *seq == head.seq {
            return Ok(None);
        }
        let interval = i64::from(tsa.interval_minutes) * 60;
        let last = vigie_timestamp::token_unix_time(token).unwrap_or(0);
        let now = vigie_store::Timestamp::now().unix_seconds();
        if !force && now - last < interval {
            return Ok(None);
        }
    }
    let digest: [u8; 32] =
        hex_digest(&head.hash).context("the custody head hash is not SHA-256 hex")?;
    let token = vigie_timestamp::Authority::new(&tsa.url, TSA_TIMEOUT)
        .stamp(&digest)
        .with_context(|| format!("time-stamping custody entry {}", head.seq))?;
    store.add_timestamp_token(head.seq, &token)?;
    tracing::info!(seq = head.seq, tsa = %tsa.url, "custody head time-stamped");
    Ok(Some(head.seq))
}

/// After a write run: time-stamp if due; a failing TSA is logged, not fatal (the chain
/// itself is intact, and the next run tries again).
pub fn stamp_if_due(store: &mut Store, tsa: Option<&TimestampingConfig>) {
    if let Some(tsa) = tsa {
        if let Err(e) = stamp_head(store, tsa, false) {
            tracing::warn!(error = %format!("{e:#}"), "time-stamping failed; will retry on the next run");
        }
    }
}

/// What checking the stored tokens found.
pub struct TokenCheck {
    pub checked: usize,
    pub problems: Vec<String>,
}

/// Verifies every stored token against the configured CA and the custody entry it covers.
pub fn check_tokens(store: &Store, tsa: Option<&TimestampingConfig>) -> Result<TokenCheck> {
    let tokens = store.timestamp_tokens()?;
    let mut check = TokenCheck {
        checked: 0,
        problems: Vec::new(),
    };
    if tokens.is_empty() {
        return Ok(check);
    }
    let Some(tsa) = tsa else {
        tracing::warn!(
            tokens = tokens.len(),
            "time-stamp tokens not checked: no [timestamping] ca_file in the config"
        );
        return Ok(check);
    };
    let ca = std::fs::read(&tsa.ca_file)
        .with_context(|| format!("reading {}", tsa.ca_file.display()))?;
    for (seq, token) in tokens {
        let Some(entry) = store.custody_entry(seq)? else {
            check.problems.push(format!(
                "time-stamp token for custody entry {seq}, which is missing"
            ));
            continue;
        };
        let Some(digest) = hex_digest(&entry.hash) else {
            check
                .problems
                .push(format!("custody entry {seq}: hash is not SHA-256 hex"));
            continue;
        };
        match vigie_timestamp::verify(&token, &digest, &ca) {
            Ok(_) => check.checked += 1,
            Err(e) => check
                .problems
                .push(format!("time-stamp token for custody entry {seq}: {e}")),
        }
    }
    Ok(check)
}

fn hex_digest(s: &str) -> Option<[u8; 32]> {
    vigie_store::parse_hash(s)
}
