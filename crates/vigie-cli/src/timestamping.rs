//! Trusted time for the custody chain: when to ask the TSA, and checking stored tokens.

use std::time::{Duration, Instant};

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

/// First retry delay after a TSA failure; doubles on each failure, up to the interval.
const RETRY_FIRST: Duration = Duration::from_secs(30);

/// A chain head to stamp, and what the TSA answered.
type Request = (u64, [u8; 32]);
type Answer = (u64, std::result::Result<Vec<u8>, String>);

/// Time-stamping for `vigie run`: the TSA is asked on a thread of its own, and the token
/// comes back over a channel to the run loop, which stores it (the store keeps one writer).
/// Recording never waits for the TSA; after a failure the next request waits, doubling from
/// 30 s up to the interval.
pub struct Stamper {
    interval_secs: i64,
    requests: Option<crossbeam_channel::Sender<Request>>,
    answers: crossbeam_channel::Receiver<Answer>,
    in_flight: bool,
    /// The last stored token: custody position and its time (seconds).
    last: Option<(u64, i64)>,
    failures: u32,
    retry_at: Instant,
    retry_max: Duration,
}

impl Stamper {
    /// Starts the TSA thread when `[timestamping]` is configured.
    pub fn start(tsa: Option<&TimestampingConfig>, store: &Store) -> Result<Option<Stamper>> {
        let Some(tsa) = tsa else {
            return Ok(None);
        };
        let last = store
            .timestamp_tokens()?
            .pop()
            .map(|(seq, token)| (seq, vigie_timestamp::token_unix_time(&token).unwrap_or(0)));
        let (req_tx, req_rx) = crossbeam_channel::bounded::<Request>(1);
        let (ans_tx, ans_rx) = crossbeam_channel::bounded::<Answer>(1);
        let url = tsa.url.clone();
        std::thread::Builder::new()
            .name("vigie-tsa".into())
            .spawn(move || {
                for (seq, digest) in req_rx {
                    let answer = vigie_timestamp::Authority::new(&url, TSA_TIMEOUT)
                        .stamp(&digest)
                        .map_err(|e| format!("{e:#}"));
                    if ans_tx.send((seq, answer)).is_err() {
                        break;
                    }
                }
            })
            .context("starting the time-stamping thread")?;
        let interval = Duration::from_secs(u64::from(tsa.interval_minutes) * 60);
        Ok(Some(Stamper {
            interval_secs: i64::from(tsa.interval_minutes) * 60,
            requests: Some(req_tx),
            answers: ans_rx,
            in_flight: false,
            last,
            failures: 0,
            retry_at: Instant::now(),
            retry_max: interval.max(RETRY_FIRST),
        }))
    }

    /// From the run loop, never blocking: stores a token that came back, and asks for one
    /// when the head moved, the interval passed and no failure asks to wait.
    pub fn poll(&mut self, store: &mut Store) {
        if let Ok((seq, answer)) = self.answers.try_recv() {
            self.in_flight = false;
            self.record(store, seq, answer);
        }
        if self.in_flight || Instant::now() < self.retry_at {
            return;
        }
        let head = store.custody_head().clone();
        if head.seq == 0 {
            return;
        }
        if let Some((seq, time)) = self.last {
            let now = vigie_store::Timestamp::now().unix_seconds();
            if seq == head.seq || now - time < self.interval_secs {
                return;
            }
        }
        let Some(digest) = hex_digest(&head.hash) else {
            tracing::warn!(
                seq = head.seq,
                "the custody head hash is not SHA-256 hex; not time-stamped"
            );
            return;
        };
        if let Some(requests) = &self.requests {
            self.in_flight = requests.try_send((head.seq, digest)).is_ok();
        }
    }

    fn record(
        &mut self,
        store: &mut Store,
        seq: u64,
        answer: std::result::Result<Vec<u8>, String>,
    ) {
        let stored = answer.and_then(|token| {
            store
                .add_timestamp_token(seq, &token)
                .map_err(|e| format!("storing the token failed: {e}"))?;
            Ok(vigie_timestamp::token_unix_time(&token).unwrap_or(0))
        });
        match stored {
            Ok(time) => {
                self.last = Some((seq, time));
                self.failures = 0;
                tracing::info!(seq, "custody head time-stamped");
            }
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                let wait = RETRY_FIRST
                    .saturating_mul(1u32 << self.failures.saturating_sub(1).min(16))
                    .min(self.retry_max);
                self.retry_at = Instant::now() + wait;
                tracing::warn!(seq, error = %error, retry_in_secs = wait.as_secs(), "time-stamping failed; recording goes on");
            }
        }
    }

    /// At the end of a run: stores a token already back; one still being requested is
    /// abandoned (the thread ends after its request, bounded by the TSA timeout; the next
    /// run stamps the head).
    pub fn stop(mut self, store: &mut Store) {
        self.requests = None;
        if let Ok((seq, answer)) = self.answers.try_recv() {
            self.record(store, seq, answer);
        }
    }
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
