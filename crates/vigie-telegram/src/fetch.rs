//! Fetching web previews: directly (plain HTTP or https with the system TLS library and CA
//! store), or through any other [`PageFetcher`] — `vigie run` passes one over Tor.

use std::io::Read;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::preview::{parse_preview, PreviewPage};
use crate::{TelegramError, TelegramMessage};

/// Gets one page's body. The direct fetcher is built in; `vigie run` supplies one over Tor.
pub trait PageFetcher: Send {
    /// The body of `url` (at most `max_body` bytes, else an error); HTTP errors are errors.
    fn get(&self, url: &str, max_body: u64) -> Result<Vec<u8>, TelegramError>;
}

/// Direct HTTP(S) with ureq: a deadline per request, at most 3 redirects.
struct Direct {
    agent: ureq::Agent,
}

impl PageFetcher for Direct {
    fn get(&self, url: &str, max_body: u64) -> Result<Vec<u8>, TelegramError> {
        let response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| TelegramError::Fetch(format!("{url}: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(TelegramError::Fetch(format!("{url}: HTTP {status}")));
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_body + 1)
            .read_to_end(&mut body)
            .map_err(|e| TelegramError::Fetch(format!("{url}: {e}")))?;
        if body.len() as u64 > max_body {
            return Err(TelegramError::Fetch(format!(
                "{url}: body over {max_body} bytes, refused"
            )));
        }
        Ok(body)
    }
}

/// How far a channel's preview has been read: the checkpoint its caller keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewCursor {
    /// Every post up to this id was read.
    pub last_id: i64,
    /// Set when a poll ran out of pages before reaching `last_id`: the posts read are kept,
    /// the ones between `last_id` and the gap are read by the next polls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
}

/// Posts after a checkpoint not read yet: those between the checkpoint and `before`
/// (exclusive); the posts from `before` to `newest` were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The oldest post read above the gap.
    pub before: i64,
    /// The newest post read above the gap.
    pub newest: i64,
}

/// What one poll of a preview read.
#[derive(Debug, Default)]
pub struct Polled {
    /// Posts not recorded yet, oldest first, each with the cursor to keep once it (and every
    /// post before it) is recorded: a stop in the middle loses nothing.
    pub new: Vec<(TelegramMessage, PreviewCursor)>,
    /// Posts already recorded that the pages read showed again, oldest first: recorded again,
    /// they keep views and forwards current (the content, hence the snapshot, is unchanged
    /// unless the post was edited).
    pub seen_again: Vec<TelegramMessage>,
    /// The cursor once all of `new` is recorded (`None`: nothing read yet). With a gap, the
    /// poll ran out of pages (`max_pages`), or an older page failed, before reaching the
    /// checkpoint.
    pub cursor: Option<PreviewCursor>,
    /// An older page that failed after newer ones were read: what was read is in `new` and
    /// the cursor keeps a gap from there, so the next poll resumes where this one stopped.
    pub failed: Option<TelegramError>,
}

/// Fetches and pages `t.me/s/NAME` previews.
pub struct PreviewClient {
    fetcher: Box<dyn PageFetcher>,
    base_url: String,
    max_body: u64,
    max_pages: usize,
}

impl PreviewClient {
    /// A client for `base_url` (`https://t.me` in production); each request is bounded by
    /// `timeout`, bodies by `max_body` bytes, and one poll by `max_pages` pages.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        max_body: u64,
        max_pages: usize,
    ) -> PreviewClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(3)
            // https with the system TLS library and the system CA store (SSL_CERT_FILE or
            // update-ca-certificates add a hospital's internal CA).
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build()
            .into();
        PreviewClient::with_fetcher(base_url, Box::new(Direct { agent }), max_body, max_pages)
    }

    /// A client whose pages come through `fetcher` (Tor, in `vigie run`).
    pub fn with_fetcher(
        base_url: &str,
        fetcher: Box<dyn PageFetcher>,
        max_body: u64,
        max_pages: usize,
    ) -> PreviewClient {
        PreviewClient {
            fetcher,
            base_url: base_url.trim_end_matches('/').to_string(),
            max_body,
            max_pages: max_pages.max(1),
        }
    }

    /// One page: the latest posts, or those before `before`.
    pub fn page(&self, channel: &str, before: Option<i64>) -> Result<PreviewPage, TelegramError> {
        let url = match before {
            Some(b) => format!("{}/s/{channel}?before={b}", self.base_url),
            None => format!("{}/s/{channel}", self.base_url),
        };
        let body = self.fetcher.get(&url, self.max_body)?;
        let page = parse_preview(&String::from_utf8_lossy(&body), channel);
        debug!(%url, posts = page.messages.len(), older = ?page.older, "preview page");
        Ok(page)
    }

    /// Posts newer than the checkpoint `cursor`, oldest first. On a first poll (`None`), the
    /// latest `backfill` posts. Pages back with `?before=` until the checkpoint is reached,
    /// the backfill is met, or `max_pages` pages were read; in that last case the cursor keeps
    /// a [`Gap`] and the next poll pages on from the oldest post read, down to the checkpoint,
    /// before it reads the newest posts again. Posts at or below the checkpoint on the pages
    /// read come back in `seen_again`, with today's views and forwards.
    pub fn poll(
        &self,
        channel: &str,
        cursor: Option<PreviewCursor>,
        backfill: usize,
    ) -> Result<Polled, TelegramError> {
        let after = cursor.map(|c| c.last_id);
        let gap = cursor.and_then(|c| c.gap);
        // In a gap, only posts below it are new (those above were read).
        let below = gap.map(|g| g.before);
        let mut out: Vec<TelegramMessage> = Vec::new();
        let mut seen_again: Vec<TelegramMessage> = Vec::new();
        let mut before = below;
        let mut oldest_read: Option<i64> = None;
        let mut complete = false;
        let mut failed = None;
        for read in 0..self.max_pages {
            let page = match self.page(channel, before) {
                Ok(page) => page,
                // The pages read are kept; the rest is a gap the next poll reads.
                Err(e) if read > 0 => {
                    warn!(channel, before = ?before, error = %e, "older preview page failed; the pages read are kept");
                    failed = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            };
            let oldest = page.messages.iter().map(|m| m.id).min();
            for m in page.messages {
                if after.is_some_and(|a| m.id <= a) {
                    seen_again.push(m);
                } else if below.is_none_or(|b| m.id < b) {
                    out.push(m);
                }
            }
            oldest_read = match (oldest_read, oldest) {
                (Some(r), Some(o)) => Some(r.min(o)),
                (r, o) => r.or(o),
            };
            let done = match (after, oldest) {
                (_, None) => true,
                (Some(a), Some(o)) => o <= a.saturating_add(1),
                (None, Some(_)) => out.len() >= backfill,
            };
            match page.older {
                Some(older) if !done => before = Some(older),
                _ => {
                    complete = true;
                    break;
                }
            }
        }
        out.sort_by_key(|m| m.id);
        out.dedup_by_key(|m| m.id);
        if after.is_none() && out.len() > backfill {
            out.drain(..out.len() - backfill);
        }
        seen_again.sort_by_key(|m| m.id);
        seen_again.dedup_by_key(|m| m.id);
        let newest = out.last().map(|m| m.id);
        // A first poll cut short by a failed older page: the rest of the backfill, down to
        // `newest - backfill` (ids are sequential in a channel), is a gap the next poll reads.
        let unread_backfill = match (cursor, &failed, newest, oldest_read) {
            (None, Some(_), Some(n), Some(at)) if out.len() < backfill => {
                let floor = n
                    .saturating_sub(i64::try_from(backfill).unwrap_or(i64::MAX))
                    .max(0);
                (floor.saturating_add(1) < at).then_some((floor, at, n))
            }
            _ => None,
        };
        let (new, cursor) = match (cursor, gap) {
            (None, _) if unread_backfill.is_some() => {
                let (floor, at, n) = unread_backfill.unwrap_or_default();
                let gap_to = |newest| PreviewCursor {
                    last_id: floor,
                    gap: Some(Gap { before: at, newest }),
                };
                (with_cursors(out, gap_to), Some(gap_to(n)))
            }
            // First poll: each post read moves the cursor past it.
            (None, _) => {
                let end = newest.map(|n| PreviewCursor {
                    last_id: n,
                    gap: None,
                });
                (
                    with_cursors(out, |id| PreviewCursor {
                        last_id: id,
                        gap: None,
                    }),
                    end,
                )
            }
            (Some(c), None) if complete => {
                let end = PreviewCursor {
                    last_id: newest.map_or(c.last_id, |n| n.max(c.last_id)),
                    gap: None,
                };
                (
                    with_cursors(out, |id| PreviewCursor {
                        last_id: id,
                        gap: None,
                    }),
                    Some(end),
                )
            }
            // Out of pages above the checkpoint: what was read is kept, the rest is a gap.
            (Some(c), None) => {
                let at = oldest_read.unwrap_or(c.last_id.saturating_add(1));
                let gap_to = |newest| PreviewCursor {
                    last_id: c.last_id,
                    gap: Some(Gap { before: at, newest }),
                };
                let end = gap_to(newest.unwrap_or(at));
                (with_cursors(out, gap_to), Some(end))
            }
            // The gap is read to the checkpoint: closed.
            (Some(c), Some(g)) if complete => {
                let end = PreviewCursor {
                    last_id: g.newest.max(c.last_id),
                    gap: None,
                };
                (
                    with_cursors(out, |id| PreviewCursor {
                        last_id: id,
                        gap: Some(g),
                    }),
                    Some(end),
                )
            }
            // Still out of pages: the gap narrows once all of it is recorded.
            (Some(c), Some(g)) => {
                let end = PreviewCursor {
                    last_id: c.last_id,
                    gap: Some(Gap {
                        before: oldest_read.map_or(g.before, |o| o.min(g.before)),
                        newest: g.newest,
                    }),
                };
                (with_cursors(out, |_| c), Some(end))
            }
        };
        Ok(Polled {
            new,
            seen_again,
            cursor,
            failed,
        })
    }
}

/// Pairs each post with the cursor to keep once it is recorded.
fn with_cursors(
    posts: Vec<TelegramMessage>,
    cursor: impl Fn(i64) -> PreviewCursor,
) -> Vec<(TelegramMessage, PreviewCursor)> {
    posts
        .into_iter()
        .map(|m| {
            let c = cursor(m.id);
            (m, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    type Shared<T> = Arc<Mutex<T>>;

    /// A channel of posts `1..=newest` (shared so a test can publish), 20 per page as t.me.
    struct Channel {
        newest: Shared<i64>,
        requests: Shared<Vec<Option<i64>>>,
        /// `?before=` values whose page fails (HTTP 502).
        failing: Shared<Vec<i64>>,
    }

    impl PageFetcher for Channel {
        fn get(&self, url: &str, _: u64) -> Result<Vec<u8>, TelegramError> {
            let before = url
                .split_once("?before=")
                .and_then(|(_, b)| b.parse::<i64>().ok());
            self.requests.lock().unwrap().push(before);
            if before.is_some_and(|b| self.failing.lock().unwrap().contains(&b)) {
                return Err(TelegramError::Fetch(format!("{url}: HTTP 502")));
            }
            let newest = *self.newest.lock().unwrap();
            let top = before.map_or(newest, |b| (b - 1).min(newest));
            let first = (top - 19).max(1);
            let mut html = String::from("<html><head>");
            if first > 1 {
                html += &format!("<link rel=\"prev\" href=\"/s/medleaks?before={first}\">");
            }
            html += "</head><body>";
            for id in first..=top {
                html += &format!(
                    "<div class=\"tgme_widget_message\" data-post=\"medleaks/{id}\"><div class=\"tgme_widget_message_text\">post {id}</div></div>"
                );
            }
            html += "</body></html>";
            Ok(html.into_bytes())
        }
    }

    fn client(max_pages: usize) -> (PreviewClient, Shared<i64>, Shared<Vec<Option<i64>>>) {
        let (client, newest, requests, _) = failing_client(max_pages);
        (client, newest, requests)
    }

    type Failing = (
        PreviewClient,
        Shared<i64>,
        Shared<Vec<Option<i64>>>,
        Shared<Vec<i64>>,
    );

    fn failing_client(max_pages: usize) -> Failing {
        let newest = Arc::new(Mutex::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(Mutex::new(Vec::new()));
        let fetcher = Channel {
            newest: Arc::clone(&newest),
            requests: Arc::clone(&requests),
            failing: Arc::clone(&failing),
        };
        (
            PreviewClient::with_fetcher("http://x", Box::new(fetcher), 1 << 20, max_pages),
            newest,
            requests,
            failing,
        )
    }

    #[test]
    fn a_first_poll_cut_short_resumes_its_backfill_and_no_further() {
        let (client, newest, requests, failing) = failing_client(5);
        *newest.lock().unwrap() = 50;
        failing.lock().unwrap().push(31);
        // Backfill 30: the latest page (31..=50) is read, the next one fails.
        let first = client.poll("medleaks", None, 30).unwrap();
        assert_eq!(ids(&first), (31..=50).collect::<Vec<_>>());
        assert!(first.failed.is_some());
        let gap = PreviewCursor {
            last_id: 20,
            gap: Some(Gap {
                before: 31,
                newest: 50,
            }),
        };
        assert_eq!(first.cursor, Some(gap));
        // The next poll reads the rest of the backfill (21..=30), not the whole channel.
        failing.lock().unwrap().clear();
        let second = client.poll("medleaks", first.cursor, 30).unwrap();
        assert_eq!(ids(&second), (21..=30).collect::<Vec<_>>());
        assert_eq!(
            second.cursor,
            Some(PreviewCursor {
                last_id: 50,
                gap: None
            })
        );
        assert_eq!(*requests.lock().unwrap(), [None, Some(31), Some(31)]);
    }

    #[test]
    fn a_failed_older_page_keeps_what_was_read_and_the_next_poll_resumes_there() {
        let (client, newest, requests, failing) = failing_client(5);
        *newest.lock().unwrap() = 5;
        let first = client.poll("medleaks", None, 5).unwrap();
        assert_eq!(first.cursor.map(|c| c.last_id), Some(5));
        // 45 posts published; the second page (before 31) fails.
        *newest.lock().unwrap() = 50;
        failing.lock().unwrap().push(31);
        let second = client.poll("medleaks", first.cursor, 5).unwrap();
        assert_eq!(ids(&second), (31..=50).collect::<Vec<_>>());
        assert!(second.failed.is_some());
        let gap = PreviewCursor {
            last_id: 5,
            gap: Some(Gap {
                before: 31,
                newest: 50,
            }),
        };
        assert_eq!(second.cursor, Some(gap));
        // The page works again: the next poll reads from where the last one stopped.
        failing.lock().unwrap().clear();
        let third = client.poll("medleaks", second.cursor, 5).unwrap();
        assert_eq!(ids(&third), (6..=30).collect::<Vec<_>>());
        assert!(third.failed.is_none());
        assert_eq!(
            third.cursor,
            Some(PreviewCursor {
                last_id: 50,
                gap: None
            })
        );
        assert_eq!(
            *requests.lock().unwrap(),
            [None, None, Some(31), Some(31), Some(11)]
        );
    }

    fn ids(p: &Polled) -> Vec<i64> {
        p.new.iter().map(|(m, _)| m.id).collect()
    }

    #[test]
    fn a_poll_out_of_pages_keeps_a_gap_that_the_next_polls_read() {
        let (client, newest, requests) = client(1);
        *newest.lock().unwrap() = 5;
        let first = client.poll("medleaks", None, 5).unwrap();
        assert_eq!(ids(&first), [1, 2, 3, 4, 5]);
        let at5 = PreviewCursor {
            last_id: 5,
            gap: None,
        };
        assert_eq!(first.cursor, Some(at5));

        // 45 posts published meanwhile: one page (31..=50) per poll.
        *newest.lock().unwrap() = 50;
        let second = client.poll("medleaks", first.cursor, 5).unwrap();
        assert_eq!(ids(&second), (31..=50).collect::<Vec<_>>());
        let gap = |before, newest| PreviewCursor {
            last_id: 5,
            gap: Some(Gap { before, newest }),
        };
        // The cursor does not pass the unread posts 6..=30.
        assert_eq!(second.new[0].1, gap(31, 31));
        assert_eq!(second.new[19].1, gap(31, 50));
        assert_eq!(second.cursor, Some(gap(31, 50)));

        // The next poll pages on from there, not from the newest post.
        *newest.lock().unwrap() = 51;
        let third = client.poll("medleaks", second.cursor, 5).unwrap();
        assert_eq!(ids(&third), (11..=30).collect::<Vec<_>>());
        assert_eq!(third.cursor, Some(gap(11, 50)));
        // Reaches the checkpoint: the gap is closed, the cursor jumps to the newest read.
        let fourth = client.poll("medleaks", third.cursor, 5).unwrap();
        assert_eq!(ids(&fourth), (6..=10).collect::<Vec<_>>());
        assert_eq!(fourth.seen_again.len(), 5, "posts 1..=5 on that page");
        assert_eq!(
            fourth.new[0].1,
            PreviewCursor {
                last_id: 6,
                gap: Some(Gap {
                    before: 11,
                    newest: 50
                })
            }
        );
        assert_eq!(
            fourth.cursor,
            Some(PreviewCursor {
                last_id: 50,
                gap: None
            })
        );
        // Then the post published meanwhile.
        let fifth = client.poll("medleaks", fourth.cursor, 5).unwrap();
        assert_eq!(ids(&fifth), [51]);
        assert_eq!(
            *requests.lock().unwrap(),
            [None, None, Some(31), Some(11), None]
        );
    }

    #[test]
    fn a_checkpoint_within_the_pages_read_moves_with_each_post() {
        let (client, newest, _) = client(3);
        *newest.lock().unwrap() = 30;
        let at = |last_id| PreviewCursor { last_id, gap: None };
        let p = client.poll("medleaks", Some(at(12)), 5).unwrap();
        assert_eq!(ids(&p), (13..=30).collect::<Vec<_>>());
        assert_eq!(p.new[0].1, at(13));
        assert_eq!(p.cursor, Some(at(30)));
        // An old checkpoint without a gap reads as before (`{"last_id": N}`).
        let old: PreviewCursor = serde_json::from_str(r#"{"last_id":12}"#).unwrap();
        assert_eq!(old, at(12));
    }
}
