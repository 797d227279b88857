//! Keyset pages of incidents for the console: most recently seen first, from a cursor, with a
//! caller's predicate and a bound on the incidents examined per page, so a page costs the
//! same at 100 or 100,000 incidents.

use rocksdb::{Direction, IteratorMode};

use crate::error::{bad, io, StoreError};
use crate::keys::{entity_prefix, read_u64, time_index, IDX_TIME};
use crate::model::{Incident, Timestamp};
use crate::store::Store;

/// Where a page starts: the (last seen, id) of the last incident of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    /// The incident's last-seen time.
    pub last_seen: Timestamp,
    /// Its id.
    pub id: u64,
}

/// Which incidents come first in a page: by last-seen time, then id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// The most recently seen first (the default).
    #[default]
    NewestFirst,
    /// The least recently seen first.
    OldestFirst,
}

/// One page of [`Store::incident_page`].
#[derive(Debug, Clone)]
pub struct IncidentPage {
    /// The incidents kept, most recently seen first.
    pub incidents: Vec<Incident>,
    /// Where the next page starts, when there may be more.
    pub next: Option<PageCursor>,
    /// Incidents examined.
    pub examined: usize,
    /// Whether the page stopped at the examination bound before filling (the next page goes
    /// on from there).
    pub bounded: bool,
}

impl Store {
    /// Incidents seen in `since..=until`, in `order`, starting after `after`, for which
    /// `keep` is true: at most `limit` of them, examining at most `max_examined`.
    #[allow(clippy::too_many_arguments)]
    pub fn incident_page(
        &self,
        order: Order,
        after: Option<PageCursor>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        limit: usize,
        max_examined: usize,
        keep: &mut dyn FnMut(&Store, &Incident) -> Result<bool, StoreError>,
    ) -> Result<IncidentPage, StoreError> {
        let cf = self.console_cf()?;
        // Walking backwards from `until` down to `since`, or forwards from `since` up to
        // `until`; a cursor moves the start, never past the range.
        let (start, direction, end) = match order {
            Order::NewestFirst => (
                match (after, until) {
                    (Some(c), Some(u)) if u < c.last_seen => time_index(u.0, u64::MAX),
                    (Some(c), _) => time_index(c.last_seen.0, c.id),
                    (None, Some(u)) => time_index(u.0, u64::MAX),
                    (None, None) => time_index(i64::MAX, u64::MAX),
                },
                Direction::Reverse,
                since.map(|s| time_index(s.0, 0)),
            ),
            Order::OldestFirst => (
                match (after, since) {
                    (Some(c), Some(s)) if s > c.last_seen => time_index(s.0, 0),
                    (Some(c), _) => time_index(c.last_seen.0, c.id),
                    (None, Some(s)) => time_index(s.0, 0),
                    (None, None) => time_index(i64::MIN, 0),
                },
                Direction::Forward,
                until.map(|u| time_index(u.0, u64::MAX)),
            ),
        };
        let mut page = IncidentPage {
            incidents: Vec::new(),
            next: None,
            examined: 0,
            bounded: false,
        };
        let mut last: Option<PageCursor> = None;
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&start, direction))
        {
            let (k, _) = item.map_err(io)?;
            if k.first() != Some(&IDX_TIME) {
                break;
            }
            if after.is_some() && *k == start {
                continue;
            }
            let beyond = end.as_ref().is_some_and(|e| match order {
                Order::NewestFirst => *k < e[..],
                Order::OldestFirst => *k > e[..],
            });
            if beyond {
                break;
            }
            if page.incidents.len() >= limit {
                page.next = last;
                break;
            }
            if page.examined >= max_examined {
                page.bounded = true;
                page.next = last;
                break;
            }
            let id = k
                .get(9..)
                .and_then(read_u64)
                .ok_or_else(|| bad("time index", "short key"))?;
            page.examined += 1;
            let Some(incident) = self.incident(id)? else {
                continue;
            };
            last = Some(PageCursor {
                last_seen: incident.last_seen,
                id,
            });
            if keep(self, &incident)? {
                page.incidents.push(incident);
            }
        }
        Ok(page)
    }

    /// Like [`Store::incident_page`], for the incidents naming one of `entities` (ids):
    /// read from the entity index, so the cost follows the organisations' own incidents,
    /// not the whole store. Every incident of the entities is examined (there is no bound to
    /// reach: `bounded` stays false).
    #[allow(clippy::too_many_arguments)]
    pub fn entity_incident_page(
        &self,
        order: Order,
        entities: &[&str],
        after: Option<PageCursor>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        limit: usize,
        keep: &mut dyn FnMut(&Store, &Incident) -> Result<bool, StoreError>,
    ) -> Result<IncidentPage, StoreError> {
        let cf = self.console_cf()?;
        let mut ids = Vec::new();
        for entity in entities {
            let prefix = entity_prefix(entity);
            for (k, _) in self.prefix_scan(cf, &prefix)? {
                ids.push(
                    k.get(prefix.len()..)
                        .and_then(read_u64)
                        .ok_or_else(|| bad("entity index", "short key"))?,
                );
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut page = IncidentPage {
            incidents: Vec::new(),
            next: None,
            examined: 0,
            bounded: false,
        };
        let mut candidates = Vec::new();
        for id in ids {
            page.examined += 1;
            let Some(incident) = self.incident(id)? else {
                continue;
            };
            let at = (incident.last_seen, incident.id);
            if since.is_some_and(|s| incident.last_seen < s)
                || until.is_some_and(|u| incident.last_seen > u)
                || after.is_some_and(|c| match order {
                    Order::NewestFirst => at >= (c.last_seen, c.id),
                    Order::OldestFirst => at <= (c.last_seen, c.id),
                })
            {
                continue;
            }
            candidates.push(incident);
        }
        match order {
            Order::NewestFirst => {
                candidates.sort_unstable_by_key(|i| std::cmp::Reverse((i.last_seen, i.id)))
            }
            Order::OldestFirst => candidates.sort_unstable_by_key(|i| (i.last_seen, i.id)),
        }
        let mut last = None;
        for incident in candidates {
            if page.incidents.len() >= limit {
                page.next = last;
                break;
            }
            last = Some(PageCursor {
                last_seen: incident.last_seen,
                id: incident.id,
            });
            if keep(self, &incident)? {
                page.incidents.push(incident);
            }
        }
        Ok(page)
    }
}
