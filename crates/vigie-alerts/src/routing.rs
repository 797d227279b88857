//! Who hears about an incident, and when again.
//!
//! An incident's organisations → their watchlist `notify` lists → recipients; catch-all
//! recipients (the CERT itself) hear about everything. A recipient is alerted once per
//! incident, then again only when the severity rises or identifier kinds appear that it was
//! not told about.

use std::collections::{BTreeMap, BTreeSet};

use vigie_core::{Category, IdentifierKind, Severity};
use vigie_store::{AlertDecision, AlertMark, AlertPolicy, Incident};

use crate::Recipient;

#[derive(Debug, Clone)]
struct Route {
    id: String,
    min_severity: Severity,
    categories: Vec<Category>,
    catch_all: bool,
}

/// The [`AlertPolicy`] the store consults while it records.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
    notify: BTreeMap<String, BTreeSet<String>>,
}

impl Router {
    /// A router over `recipients`; `notify` maps watchlist entity ids to the recipient ids
    /// of their `notify` lists. Returns the router and the recipient ids named in `notify`
    /// that are not configured (the caller warns: a shipped watchlist may name recipients a
    /// given deployment does not have).
    pub fn new(
        recipients: &[Recipient],
        notify: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> (Router, BTreeSet<String>) {
        let routes: Vec<Route> = recipients
            .iter()
            .map(|r| Route {
                id: r.config.id.clone(),
                min_severity: r.config.min_severity,
                categories: r.config.categories.clone(),
                catch_all: r.config.catch_all,
            })
            .collect();
        let known: BTreeSet<&str> = routes.iter().map(|r| r.id.as_str()).collect();
        let mut unknown = BTreeSet::new();
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (entity, ids) in notify {
            for id in ids {
                if !known.contains(id.as_str()) {
                    unknown.insert(id.clone());
                }
                map.entry(entity.clone()).or_default().insert(id);
            }
        }
        (
            Router {
                routes,
                notify: map,
            },
            unknown,
        )
    }

    fn concerns(&self, route: &Route, incident: &Incident) -> bool {
        let category_ok =
            |c: Category| route.categories.is_empty() || route.categories.contains(&c);
        if route.catch_all && incident.entities.is_empty() {
            // Identifiers on sale without a named organisation: only the CERT hears of it.
            return route.categories.is_empty();
        }
        incident.entities.iter().any(|e| {
            let routed = route.catch_all
                || self
                    .notify
                    .get(&e.id)
                    .is_some_and(|ids| ids.contains(&route.id));
            routed && category_ok(e.category)
        })
    }
}

/// Identifier kinds with at least one valid value.
pub fn valid_kinds(incident: &Incident) -> BTreeSet<IdentifierKind> {
    incident
        .identifiers
        .iter()
        .filter(|(_, c)| c.valid > 0)
        .map(|(k, _)| *k)
        .collect()
}

impl AlertPolicy for Router {
    fn decide(&self, incident: &Incident, previous: &[AlertMark]) -> Vec<AlertDecision> {
        let kinds = valid_kinds(incident);
        let mut out = Vec::new();
        for route in &self.routes {
            if incident.severity < route.min_severity || !self.concerns(route, incident) {
                continue;
            }
            let reason = match previous.iter().find(|m| m.recipient == route.id) {
                None => "new incident".to_string(),
                Some(mark) if incident.severity > mark.severity => format!(
                    "severity rose from {} to {}",
                    mark.severity.as_str(),
                    incident.severity.as_str()
                ),
                Some(mark) => {
                    let new: Vec<&str> = kinds
                        .iter()
                        .filter(|k| !mark.kinds.contains(k))
                        .map(|k| k.as_str())
                        .collect();
                    if new.is_empty() {
                        continue;
                    }
                    format!("new identifier kinds: {}", new.join(", "))
                }
            };
            out.push(AlertDecision {
                recipient: route.id.clone(),
                reason,
            });
        }
        out
    }
}
