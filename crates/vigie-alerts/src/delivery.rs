//! Delivery: signed POSTs from the store's outbox, with a timeout, retries with exponential
//! backoff and jitter, `Retry-After` honoured on 429 and 503, and a dead-letter state after
//! the last attempt. The outbox is the only state: a restart resumes where it stopped, and an
//! alert already accepted is never sent again (a receiver that accepted it but whose answer
//! was lost sees a repeat with the same `Idempotency-Key`).
//!
//! Each attempt first claims its entry by compare-and-swap (state and attempt count, see
//! [`AlertQueue::update`]): of two workers holding the same copy, or a stale one, only one
//! sends. An alert whose incident became a false positive while it waited is cancelled, not
//! sent. The default schedule keeps retrying for more than 72 hours
//! ([`DeliveryConfig::min_retry_horizon`]); an alert that still fails goes to the dead-letter
//! list, logged at `error`.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use tracing::{debug, error, info, warn};
use vigie_store::{AlertQueue, OutboxEntry, OutboxState, Timestamp};

use crate::payload::{idempotency_key, render};
use crate::signature::{sign, SIGNATURE_HEADER};
use crate::{AlertError, DeliveryConfig, Recipient};

/// Response bodies are read (to keep connections reusable) up to this size, then dropped.
const MAX_RESPONSE: u64 = 64 * 1024;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered {
        /// HTTP status.
        status: u16,
    },
    /// Try again at this time.
    Retry {
        /// When.
        at: Timestamp,
        /// What failed.
        error: String,
    },
    /// No more tries: the alert is in the dead-letter list.
    Dead {
        /// What failed last.
        error: String,
    },
    /// Not sent: its incident became a false positive.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// Not sent: the entry had moved on since it was read (another worker took it, or it
    /// was delivered meanwhile).
    Skipped,
}

/// Counts of one delivery round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Alerts accepted by their receiver.
    pub delivered: u64,
    /// Alerts that will be tried again.
    pub retried: u64,
    /// Alerts moved to the dead-letter list.
    pub dead: u64,
    /// Alerts cancelled because their incident became a false positive.
    pub cancelled: u64,
}

/// Sends alerts from the outbox.
pub struct Deliverer {
    queue: AlertQueue,
    recipients: BTreeMap<String, Recipient>,
    config: DeliveryConfig,
    sender: Sender,
}

/// What a receiver made of one signed POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Ok(u16),
    /// Worth retrying (connection error, timeout, 408, 425, 429, 5xx), maybe after the
    /// receiver's `Retry-After` seconds.
    Transient(String, Option<u64>),
    /// Retrying will not help (other 4xx, unknown recipient).
    Permanent(String),
}

/// Signed POSTs to webhooks: the one place Vigie's alerts and digests touch the network.
pub struct Sender {
    agent: ureq::Agent,
}

impl Sender {
    /// A sender whose every request is bounded by `timeout`.
    pub fn new(timeout: Duration) -> Sender {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // A webhook answers; it does not send us elsewhere.
            .max_redirects(0)
            // https with the system TLS library and the system CA store (SSL_CERT_FILE or
            // update-ca-certificates add a hospital's internal CA).
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .user_agent(concat!("vigie/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Sender { agent }
    }

    /// POSTs `body`, signed with the recipient's secret, with `key` as `Idempotency-Key`.
    pub fn post(
        &self,
        recipient: &Recipient,
        key: &str,
        content_type: &str,
        body: &[u8],
    ) -> Outcome {
        let t = Timestamp::now().unix_seconds();
        let result = self
            .agent
            .post(&recipient.config.url)
            .header("Content-Type", content_type)
            .header(SIGNATURE_HEADER, sign(recipient.secret(), t, body))
            .header("Idempotency-Key", key)
            .send(body);
        let response = match result {
            Ok(r) => r,
            Err(e) => return Outcome::Transient(e.to_string(), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut sink = Vec::new();
        // The answer is not used; a broken body after a 2xx still counts as delivered.
        let _ = response
            .into_body()
            .into_reader()
            .take(MAX_RESPONSE)
            .read_to_end(&mut sink);
        match status {
            200..=299 => Outcome::Ok(status),
            429 | 503 => Outcome::Transient(format!("HTTP {status}"), retry_after),
            408 | 425 | 500..=599 => Outcome::Transient(format!("HTTP {status}"), None),
            // Other refusals (bad signature, unknown path...) will not change by retrying:
            // an analyst fixes the receiver and redelivers.
            _ => Outcome::Permanent(format!("HTTP {status}")),
        }
    }

    /// POSTs with up to `config.max_attempts` tries in this thread, sleeping between them
    /// as the outbox would (for one-off sends such as the weekly digest).
    pub fn post_with_retries(
        &self,
        recipient: &Recipient,
        key: &str,
        content_type: &str,
        body: &[u8],
        config: &DeliveryConfig,
    ) -> Result<u16, String> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.post(recipient, key, content_type, body) {
                Outcome::Ok(status) => return Ok(status),
                Outcome::Permanent(e) => return Err(e),
                Outcome::Transient(e, _) if attempts >= config.max_attempts => return Err(e),
                Outcome::Transient(e, retry_after) => {
                    let ms = match retry_after {
                        Some(secs) => secs.min(config.max_backoff_secs) * 1000,
                        None => backoff_ms(config, attempts),
                    };
                    warn!(recipient = %recipient.id(), attempts, error = %e, "send failed; retrying in {ms} ms");
                    std::thread::sleep(Duration::from_millis(ms));
                }
            }
        }
    }
}

/// Exponential backoff with equal jitter: half the delay fixed, half random.
fn backoff_ms(config: &DeliveryConfig, attempts: u32) -> u64 {
    let capped = capped_backoff_ms(config, attempts);
    capped / 2 + fastrand::u64(0..=capped / 2)
}

/// The delay after `attempts` failures before jitter: doubling from `backoff_secs`, at most
/// `max_backoff_secs`.
fn capped_backoff_ms(config: &DeliveryConfig, attempts: u32) -> u64 {
    let base = config.backoff_secs.saturating_mul(1000);
    let exp = base.saturating_mul(1u64 << attempts.saturating_sub(1).min(30));
    exp.min(config.max_backoff_secs.saturating_mul(1000))
}

impl DeliveryConfig {
    /// The shortest time from the first attempt to the dead-letter list, when every attempt
    /// fails at once without `Retry-After` (each delay at its jitter's lower bound): how long
    /// a receiver may be down without losing an alert.
    pub fn min_retry_horizon(&self) -> Duration {
        let ms = (1..self.max_attempts)
            .map(|a| capped_backoff_ms(self, a) / 2)
            .fold(0u64, u64::saturating_add);
        Duration::from_millis(ms)
    }
}

impl Deliverer {
    /// A deliverer over the store's queue and the configured recipients.
    pub fn new(
        queue: AlertQueue,
        recipients: Vec<Recipient>,
        config: DeliveryConfig,
    ) -> Result<Deliverer, AlertError> {
        config.validate()?;
        let sender = Sender::new(config.timeout());
        Ok(Deliverer {
            queue,
            recipients: recipients
                .into_iter()
                .map(|r| (r.config.id.clone(), r))
                .collect(),
            config,
            sender,
        })
    }

    /// Makes one attempt at an outbox entry and records its result in the outbox.
    ///
    /// The entry is claimed first (compare-and-swap: its attempt count goes up and its next
    /// attempt moves past the request timeout); a copy that is stale by then is
    /// [`Attempt::Skipped`] without sending. A process killed mid-request leaves the claim,
    /// and the entry is tried again when it expires.
    pub fn attempt(&self, entry: &OutboxEntry) -> Result<Attempt, AlertError> {
        if entry.state != OutboxState::Pending {
            return Ok(Attempt::Skipped);
        }
        let now = Timestamp::now();
        let attempts = entry.attempts.saturating_add(1);
        let lease = self.config.timeout() + Duration::from_secs(5);
        let claimed = OutboxEntry {
            attempts,
            next_attempt: Timestamp(now.0.saturating_add(lease.as_millis() as i64)),
            ..entry.clone()
        };
        if !self.queue.update(entry, &claimed)? {
            debug!(
                alert = entry.alert,
                "outbox entry moved on since it was read; not sent"
            );
            return Ok(Attempt::Skipped);
        }
        let alert = self.queue.alert(entry.alert)?;
        if let Some(alert) = &alert {
            let triage = self.queue.triage(alert.incident.id)?;
            if let Some(t) = triage.filter(|t| t.state.silences()) {
                let reason = format!(
                    "cancelled: incident {} is {}{}",
                    alert.incident.id,
                    t.state.as_str().replace('_', " "),
                    t.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                );
                let cancelled = OutboxEntry {
                    state: OutboxState::Cancelled,
                    // Nothing was sent.
                    attempts: entry.attempts,
                    last_error: Some(reason.clone()),
                    ..claimed.clone()
                };
                if !self.queue.update(&claimed, &cancelled)? {
                    return Ok(Attempt::Skipped);
                }
                info!(alert = entry.alert, recipient = %entry.recipient, incident = alert.incident.id, "alert cancelled: its incident is a false positive");
                return Ok(Attempt::Cancelled { reason });
            }
        }
        let outcome = match (self.recipients.get(&entry.recipient), alert) {
            (None, _) => Outcome::Permanent(format!(
                "recipient {:?} is no longer configured",
                entry.recipient
            )),
            (_, None) => Outcome::Permanent("the alert record is missing".into()),
            (Some(recipient), Some(alert)) => {
                let body = render(&alert, &recipient.config);
                let key = idempotency_key(entry.alert);
                self.sender.post(recipient, &key, "application/json", &body)
            }
        };
        let now = Timestamp::now();
        let (next, attempt) = match outcome {
            Outcome::Ok(status) => (
                OutboxEntry {
                    state: OutboxState::Delivered,
                    delivered_at: Some(now),
                    last_error: None,
                    ..claimed.clone()
                },
                Attempt::Delivered { status },
            ),
            Outcome::Transient(error, retry_after) if attempts < self.config.max_attempts => {
                let delay = match retry_after {
                    Some(secs) => secs.min(self.config.max_backoff_secs) * 1000,
                    None => backoff_ms(&self.config, attempts),
                };
                let at = Timestamp(now.0.saturating_add(delay as i64));
                (
                    OutboxEntry {
                        next_attempt: at,
                        last_error: Some(error.clone()),
                        ..claimed.clone()
                    },
                    Attempt::Retry { at, error },
                )
            }
            Outcome::Transient(error, _) | Outcome::Permanent(error) => (
                OutboxEntry {
                    state: OutboxState::Dead,
                    last_error: Some(error.clone()),
                    ..claimed.clone()
                },
                Attempt::Dead { error },
            ),
        };
        if !self.queue.update(&claimed, &next)? {
            // Only an analyst's action moves a claimed entry (none does today): theirs stands.
            warn!(
                alert = entry.alert,
                "outbox entry changed during its delivery attempt; result not recorded"
            );
            return Ok(Attempt::Skipped);
        }
        match &attempt {
            Attempt::Delivered { status } => info!(
                alert = entry.alert,
                recipient = %entry.recipient,
                status,
                attempts,
                "alert delivered"
            ),
            Attempt::Retry { at, error } => warn!(
                alert = entry.alert,
                recipient = %entry.recipient,
                attempts,
                next_attempt = %at,
                error = %error,
                "alert delivery failed; will retry"
            ),
            // The CERT must see this: the recipient never got the alert.
            Attempt::Dead { error } => error!(
                alert = entry.alert,
                recipient = %entry.recipient,
                attempts,
                error = %error,
                "alert moved to the dead-letter list, not delivered (`vigie alerts outbox`; `vigie alerts redeliver ID` retries it)"
            ),
            Attempt::Cancelled { .. } | Attempt::Skipped => {}
        }
        Ok(attempt)
    }

    /// Attempts every entry due now, one at a time (for `vigie alerts deliver`).
    pub fn run_once(&self, limit: usize) -> Result<Round, AlertError> {
        let mut round = Round::default();
        for entry in self.queue.due(Timestamp::now(), limit)? {
            match self.attempt(&entry)? {
                Attempt::Delivered { .. } => round.delivered += 1,
                Attempt::Retry { .. } => round.retried += 1,
                Attempt::Dead { .. } => round.dead += 1,
                Attempt::Cancelled { .. } => round.cancelled += 1,
                Attempt::Skipped => {}
            }
        }
        Ok(round)
    }

    /// Starts the delivery threads: a dispatcher that hands due entries to
    /// `config.workers` senders. `wake` nudges it when new alerts are written; `stop` ends
    /// it (each sender finishes its current request, bounded by the timeout). Pending
    /// entries stay in the outbox for the next start.
    pub fn spawn(self, wake: Receiver<()>, stop: Arc<AtomicBool>) -> Vec<JoinHandle<()>> {
        let this = Arc::new(self);
        let in_flight: Arc<Mutex<HashSet<u64>>> = Arc::default();
        let (tx, rx) = crossbeam_channel::bounded::<OutboxEntry>(this.config.workers * 2);
        let mut handles = Vec::new();
        for n in 0..this.config.workers {
            let (this, rx, in_flight) = (Arc::clone(&this), rx.clone(), Arc::clone(&in_flight));
            let stop = Arc::clone(&stop);
            let spawned = std::thread::Builder::new()
                .name(format!("vigie-deliver-{n}"))
                .spawn(move || {
                    for entry in rx {
                        if stop.load(Ordering::Relaxed) {
                            // Left pending in the outbox for the next start.
                            continue;
                        }
                        if let Err(e) = this.attempt(&entry) {
                            warn!(alert = entry.alert, error = %e, "could not record a delivery attempt");
                        }
                        if let Ok(mut set) = in_flight.lock() {
                            set.remove(&entry.alert);
                        }
                    }
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => warn!(error = %e, "could not start a delivery thread"),
            }
        }
        let dispatcher = std::thread::Builder::new()
            .name("vigie-dispatch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let wait = match this.dispatch(&tx, &in_flight) {
                        Ok(wait) => wait,
                        Err(e) => {
                            warn!(error = %e, "reading the outbox failed; retrying in 5 s");
                            Duration::from_secs(5)
                        }
                    };
                    match wake.recv_timeout(wait) {
                        Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                        // The writer is gone: keep draining retries until stopped.
                        Err(RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
                    }
                }
                debug!("delivery dispatcher stopped");
                // Dropping `tx` ends the senders once they finish their current request.
            });
        match dispatcher {
            Ok(h) => handles.push(h),
            Err(e) => warn!(error = %e, "could not start the delivery dispatcher"),
        }
        handles
    }

    /// Hands due entries to the senders; returns how long to sleep before looking again.
    fn dispatch(
        &self,
        tx: &crossbeam_channel::Sender<OutboxEntry>,
        in_flight: &Mutex<HashSet<u64>>,
    ) -> Result<Duration, AlertError> {
        let now = Timestamp::now();
        for entry in self.queue.due(now, 1024)? {
            let fresh = in_flight
                .lock()
                .map(|mut set| set.insert(entry.alert))
                .unwrap_or(false);
            if fresh && tx.send(entry).is_err() {
                break;
            }
        }
        let next = self.queue.next_due()?;
        let ms = next.map_or(1000, |t| (t.0 - Timestamp::now().0).clamp(20, 1000));
        Ok(Duration::from_millis(ms as u64))
    }
}

/// `Retry-After` as seconds: a number, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .map_or(0, |d| d.as_secs()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(7));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
