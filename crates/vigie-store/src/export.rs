//! Evidence export: one incident as a `.tar.gz` a third party can check with `sha256sum -c`.

use std::collections::HashSet;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{bad, StoreError};
use crate::model::*;
use crate::store::{parse_hash, Head, Store};

/// The manifest's format name.
pub const EXPORT_FORMAT: &str = "vigie-evidence-export/1";

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    exported_at: Timestamp,
    custody_hash_rule: &'static str,
    incident: &'a Incident,
    snapshots: Vec<ManifestSnapshot>,
    sightings: Vec<SightingRecord>,
    custody: Vec<CustodyEntry>,
    custody_head: &'a Head,
}

#[derive(Serialize)]
struct ManifestSnapshot {
    sha256: String,
    size: u64,
    first_seen: Timestamp,
    file: Option<String>,
    purged_at: Option<Timestamp>,
    severity: vigie_core::Severity,
    why: Vec<String>,
}

/// What an export holds.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// Snapshot files written.
    pub files: usize,
    /// Snapshots whose bytes were purged (listed in the manifest only).
    pub purged: usize,
    /// Sightings listed.
    pub sightings: usize,
    /// Custody entries listed.
    pub custody_entries: usize,
}

impl Store {
    /// Writes incident `id` as a gzip-compressed tar to `out`: under `incident-ID/`, the
    /// original bytes of each snapshot (`snapshots/HASH.bin`), `manifest.json` (sightings,
    /// times, URLs, hashes, the custody entries that concern them and the chain head), and
    /// `SHA256SUMS` (run `sha256sum -c SHA256SUMS` inside `incident-ID/`).
    pub fn export_incident<W: Write>(&self, id: u64, out: W) -> Result<ExportSummary, StoreError> {
        let incident = self.incident(id)?.ok_or(StoreError::NoIncident(id))?;
        let sightings = self.incident_sightings(&incident)?;
        let now = Timestamp::now();
        let dir = format!("incident-{id}");
        let mut tar = tar::Builder::new(GzEncoder::new(out, Compression::default()));
        let mut sums = String::new();
        let mut summary = ExportSummary::default();
        let mut snapshots = Vec::new();
        for h in &incident.snapshots {
            let hash = parse_hash(h).ok_or_else(|| bad("incident", "bad snapshot hash"))?;
            let record = self
                .snapshot_record(&hash)?
                .ok_or_else(|| bad("incident", format!("snapshot {h} has no findings")))?;
            let file = match self.snapshot_bytes(&hash)? {
                Some(bytes) => {
                    let name = format!("snapshots/{h}.bin");
                    append(&mut tar, &format!("{dir}/{name}"), &bytes, now)?;
                    sums.push_str(&format!(
                        "{}  {name}\n",
                        hex::encode(Sha256::digest(&bytes))
                    ));
                    summary.files += 1;
                    Some(name)
                }
                None => {
                    summary.purged += 1;
                    None
                }
            };
            snapshots.push(ManifestSnapshot {
                sha256: h.clone(),
                size: record.size,
                first_seen: record.first_seen,
                file,
                purged_at: record.purged_at,
                severity: record.analysis.report.severity,
                why: record.analysis.report.why.clone(),
            });
        }
        let mut keys: HashSet<String> = incident.snapshots.iter().cloned().collect();
        for s in &sightings {
            let hash = parse_hash(&s.snapshot).ok_or_else(|| bad("sighting", "bad hash"))?;
            keys.insert(hex::encode(crate::keys::sighting_key(&hash, s.id)));
        }
        let custody: Vec<CustodyEntry> = self
            .custody_entries()?
            .into_iter()
            .filter(|e| keys.contains(&e.key))
            .collect();
        summary.sightings = sightings.len();
        summary.custody_entries = custody.len();
        let manifest = Manifest {
            format: EXPORT_FORMAT,
            exported_at: now,
            custody_hash_rule: "sha256(\"vigie-custody-v1\\n\" + seq + \"\\n\" + time_ms + \"\\n\" + action + \"\\n\" + key + \"\\n\" + object + \"\\n\" + prev + \"\\n\")",
            incident: &incident,
            snapshots,
            sightings,
            custody,
            custody_head: self.custody_head(),
        };
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(|e| bad("manifest", e))?;
        append(&mut tar, &format!("{dir}/manifest.json"), &manifest, now)?;
        sums.push_str(&format!(
            "{}  manifest.json\n",
            hex::encode(Sha256::digest(&manifest))
        ));
        append(&mut tar, &format!("{dir}/SHA256SUMS"), sums.as_bytes(), now)?;
        tar.into_inner()?.finish()?.flush()?;
        Ok(summary)
    }
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    bytes: &[u8],
    now: Timestamp,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(now.unix_seconds().max(0) as u64);
    header.set_cksum();
    tar.append_data(&mut header, path, bytes)
}
