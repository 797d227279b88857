//! What a digest says, computed from the store: figures, incidents, trends, source activity.

use std::collections::{BTreeMap, BTreeSet};

use vigie_core::{Category, HealthStatus, IdentifierKind, Severity};
use vigie_store::{Incident, SightingRecord, SourceKind, Store, Timestamp, TriageState};

use crate::{DigestError, IsoWeek};

/// Weeks shown in the trend charts.
pub const TREND_WEEKS: usize = 8;
/// Weeks a source must have been active in, before this one, to count as gone quiet.
pub const QUIET_LOOKBACK_WEEKS: u32 = 4;

/// A figure this week and the week before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pair {
    /// This week.
    pub this: u64,
    /// The previous week.
    pub previous: u64,
}

/// One row of the week's incident table.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    /// Incident id.
    pub id: u64,
    /// Organisation names.
    pub organisations: Vec<String>,
    /// Their categories.
    pub categories: Vec<Category>,
    /// Where it was seen.
    pub source_kinds: Vec<SourceKind>,
    /// First sighting.
    pub first_seen: Timestamp,
    /// Last sighting.
    pub last_seen: Timestamp,
    /// Severity.
    pub severity: Severity,
    /// Analysts' triage.
    pub triage: TriageState,
    /// SHA-256 of its first snapshot.
    pub evidence: String,
    /// Distinct sightings.
    pub sightings: u64,
    /// Why it rates so (the matcher's reasons; masked counts only).
    pub why: Vec<String>,
    /// Offer cues seen.
    pub cues: Vec<String>,
    /// Whether it is an offer.
    pub leak_offer: bool,
    /// What it is (sale, free dump, ransomware claim...).
    pub kind: vigie_core::DocumentKind,
    /// Largest sample, in rows.
    pub sample_rows: u64,
    /// Valid identifiers by kind (counts only).
    pub identifiers: Vec<(IdentifierKind, u64)>,
    /// Where, as source ids and defanged places (at most five).
    pub places: Vec<String>,
}

/// Counts of one week, for the trend charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekCounts {
    /// The week.
    pub week: IsoWeek,
    /// New incidents by severity.
    pub by_severity: BTreeMap<Severity, u64>,
    /// New incidents by the category of the organisations they name (an incident naming a
    /// hospital and an insurer counts in both).
    pub by_category: BTreeMap<Category, u64>,
}

/// Source activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceActivity {
    /// Sources with at least one sighting, this week and the week before.
    pub active: Pair,
    /// This week's active sources by kind.
    pub by_kind: BTreeMap<SourceKind, u64>,
    /// Sources active in the previous weeks but not this one: (source, kind, last seen).
    pub quiet: Vec<(String, SourceKind, Timestamp)>,
    /// Collector runs this week, per Tor source (from the collector's health records).
    pub collectors: Vec<CollectorWeek>,
}

/// One Tor source's runs during the week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectorWeek {
    /// The source id (`thread:NAME` for a `vigie run` source thread).
    pub source: String,
    /// Runs (thread failures not counted).
    pub runs: u64,
    /// Runs where some mirror answered.
    pub reachable_runs: u64,
    /// Pages read.
    pub pages_ok: u64,
    /// Pages that failed.
    pub pages_failed: u64,
    /// Runs where a parser found nothing on pages that answered.
    pub blind_runs: u64,
    /// The selectors that went blind, over the week.
    pub blind_selectors: Vec<String>,
    /// Failures of a `vigie run` source thread (`thread:…`), each restarted.
    pub crashes: u64,
    /// Runs where the site answered but kept the collector from its content, by status
    /// (login wall, CAPTCHA, not found, maintenance, rate limit).
    pub kept_out: BTreeMap<HealthStatus, u64>,
}

impl CollectorWeek {
    /// No run of the week reached the site.
    pub fn failed_all_week(&self) -> bool {
        self.runs > 0 && self.reachable_runs == 0
    }
}

/// The whole digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// The week covered.
    pub week: IsoWeek,
    /// When it was built.
    pub generated_at: Timestamp,
    /// New incidents by severity (every severity present, zeros included).
    pub new_by_severity: BTreeMap<Severity, Pair>,
    /// Distinct organisations named by new incidents, by category.
    pub organisations_by_category: BTreeMap<Category, Pair>,
    /// Valid identifiers in new incidents, by kind (counts only).
    pub identifiers: BTreeMap<IdentifierKind, Pair>,
    /// The week's new incidents, most severe first.
    pub incidents: Vec<IncidentRow>,
    /// Eight weeks, oldest first, ending with this one.
    pub trend: Vec<WeekCounts>,
    /// Sources.
    pub sources: SourceActivity,
    /// Alerts in the dead-letter list now: recipients that never got them.
    pub dead_letters: u64,
}

impl Digest {
    /// The week's critical and high incidents (one section each).
    pub fn serious(&self) -> impl Iterator<Item = &IncidentRow> {
        self.incidents
            .iter()
            .filter(|i| i.severity >= Severity::High)
    }

    /// Total new incidents this week and the week before.
    pub fn total(&self) -> Pair {
        self.new_by_severity
            .values()
            .fold(Pair::default(), |a, p| Pair {
                this: a.this + p.this,
                previous: a.previous + p.previous,
            })
    }
}

/// Builds the digest of `week` from the store.
pub fn build(store: &Store, week: IsoWeek, now: Timestamp) -> Result<Digest, DigestError> {
    let incidents = store.incidents(&Default::default())?;
    let previous = week.previous();
    let in_week = |i: &&Incident, w: IsoWeek| w.contains(i.first_seen);

    let mut new_by_severity: BTreeMap<Severity, Pair> =
        [Severity::Critical, Severity::High, Severity::Medium]
            .into_iter()
            .map(|s| (s, Pair::default()))
            .collect();
    let mut orgs: BTreeMap<Category, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut identifiers: BTreeMap<IdentifierKind, Pair> = BTreeMap::new();
    for (w, this) in [(week, true), (previous, false)] {
        for i in incidents.iter().filter(|i| in_week(i, w)) {
            let slot = new_by_severity.entry(i.severity).or_default();
            bump(slot, this, 1);
            for e in &i.entities {
                let (a, b) = orgs.entry(e.category).or_default();
                if this { a } else { b }.insert(e.id.clone());
            }
            for (kind, count) in &i.identifiers {
                if count.valid > 0 {
                    bump(identifiers.entry(*kind).or_default(), this, count.valid);
                }
            }
        }
    }
    let organisations_by_category = orgs
        .into_iter()
        .map(|(c, (a, b))| {
            (
                c,
                Pair {
                    this: a.len() as u64,
                    previous: b.len() as u64,
                },
            )
        })
        .collect();

    let mut rows = Vec::new();
    for i in incidents.iter().filter(|i| in_week(i, week)) {
        rows.push(row(store, i)?);
    }
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen.cmp(&b.first_seen))
    });

    let mut trend = Vec::new();
    let mut w = week;
    for _ in 0..TREND_WEEKS {
        let mut counts = WeekCounts {
            week: w,
            by_severity: BTreeMap::new(),
            by_category: BTreeMap::new(),
        };
        for i in incidents.iter().filter(|i| in_week(i, w)) {
            *counts.by_severity.entry(i.severity).or_default() += 1;
            let cats: BTreeSet<Category> = i.entities.iter().map(|e| e.category).collect();
            for c in cats {
                *counts.by_category.entry(c).or_default() += 1;
            }
        }
        trend.push(counts);
        w = w.previous();
    }
    trend.reverse();

    let mut sources = source_activity(&store.sightings()?, &incidents, week);
    sources.collectors = collector_weeks(store, week)?;
    Ok(Digest {
        week,
        generated_at: now,
        new_by_severity,
        organisations_by_category,
        identifiers,
        incidents: rows,
        trend,
        sources,
        dead_letters: store.alert_queue().dead_letters()?,
    })
}

fn bump(p: &mut Pair, this: bool, n: u64) {
    if this {
        p.this += n;
    } else {
        p.previous += n;
    }
}

fn row(store: &Store, i: &Incident) -> Result<IncidentRow, DigestError> {
    let sightings = store.incident_sightings(i)?;
    let kinds: BTreeSet<SourceKind> = sightings
        .iter()
        .map(|s| SourceKind::of(&s.locator, &i.topics))
        .collect();
    let mut places: Vec<String> = sightings
        .iter()
        .map(|s| format!("{} — {}", s.source, vigie_store::place(&s.locator)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    places.truncate(5);
    // A store written before triage existed reads as "new".
    let triage = store
        .triage(i.id)
        .ok()
        .flatten()
        .map_or(TriageState::New, |t| t.state);
    Ok(IncidentRow {
        id: i.id,
        organisations: i.entities.iter().map(|e| e.name.clone()).collect(),
        categories: i
            .entities
            .iter()
            .map(|e| e.category)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        source_kinds: kinds.into_iter().collect(),
        first_seen: i.first_seen,
        last_seen: i.last_seen,
        severity: i.severity,
        triage,
        evidence: i.snapshots.first().cloned().unwrap_or_default(),
        sightings: i.sightings,
        why: i.why.clone(),
        cues: i.cues.clone(),
        leak_offer: i.leak_offer,
        kind: i.kind,
        sample_rows: i.sample_rows,
        identifiers: i
            .identifiers
            .iter()
            .filter(|(_, c)| c.valid > 0)
            .map(|(k, c)| (*k, c.valid))
            .collect(),
        places,
    })
}

fn source_activity(
    sightings: &[SightingRecord],
    incidents: &[Incident],
    week: IsoWeek,
) -> SourceActivity {
    // Topics decide tor_forum vs leak_site; take them from the sighting's incident if any.
    let topics_of: BTreeMap<&str, &Incident> = incidents
        .iter()
        .flat_map(|i| i.snapshots.iter().map(move |h| (h.as_str(), i)))
        .collect();
    let lookback_start =
        Timestamp(week.start().0 - i64::from(QUIET_LOOKBACK_WEEKS) * 7 * 86_400_000);
    let previous = week.previous();
    let mut this: BTreeMap<String, SourceKind> = BTreeMap::new();
    let mut prev: BTreeSet<String> = BTreeSet::new();
    let mut before: BTreeMap<String, (SourceKind, Timestamp)> = BTreeMap::new();
    for s in sightings {
        let topics = topics_of
            .get(s.snapshot.as_str())
            .map_or(&[][..], |i| &i.topics[..]);
        let kind = SourceKind::of(&s.locator, topics);
        // A sighting spans first_seen..last_seen: it is active in any week it overlaps.
        let active_in = |w: IsoWeek| s.first_seen < w.end() && s.last_seen >= w.start();
        if active_in(week) {
            this.insert(s.source.clone(), kind);
        }
        if active_in(previous) {
            prev.insert(s.source.clone());
        }
        if s.first_seen < week.start() && s.last_seen >= lookback_start {
            let last = s.last_seen.min(Timestamp(week.start().0 - 1));
            let slot = before.entry(s.source.clone()).or_insert((kind, last));
            slot.1 = slot.1.max(last);
        }
    }
    let mut by_kind = BTreeMap::new();
    for kind in this.values() {
        *by_kind.entry(*kind).or_default() += 1;
    }
    let quiet = before
        .into_iter()
        .filter(|(source, _)| !this.contains_key(source))
        .map(|(source, (kind, last))| (source, kind, last))
        .collect();
    SourceActivity {
        active: Pair {
            this: this.len() as u64,
            previous: prev.len() as u64,
        },
        by_kind,
        quiet,
        collectors: Vec::new(),
    }
}

/// The collectors' health records that fall in the week, per source (from the store's typed
/// health history; records this build cannot read were already skipped there).
fn collector_weeks(store: &Store, week: IsoWeek) -> Result<Vec<CollectorWeek>, DigestError> {
    let mut out = Vec::new();
    for (source, records) in store.health_all()? {
        let mut w = CollectorWeek {
            source,
            ..CollectorWeek::default()
        };
        let mut blind = BTreeSet::new();
        for r in records
            .iter()
            .filter(|r| r.at_ms >= week.start().0 && r.at_ms < week.end().0)
        {
            if r.status == HealthStatus::Crashed {
                w.crashes += 1;
                continue;
            }
            w.runs += 1;
            if r.status != HealthStatus::Unreachable {
                w.reachable_runs += 1;
            }
            if r.status.is_kept_out() {
                *w.kept_out.entry(r.status).or_default() += 1;
            }
            w.pages_ok += r.pages_ok as u64;
            w.pages_failed += r.pages_failed as u64;
            if !r.blind.is_empty() {
                w.blind_runs += 1;
                blind.extend(r.blind.iter().cloned());
            }
        }
        w.blind_selectors = blind.into_iter().collect();
        if w.runs > 0 || w.crashes > 0 {
            out.push(w);
        }
    }
    Ok(out)
}
