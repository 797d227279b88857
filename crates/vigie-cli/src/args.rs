//! Command-line arguments. Parsing validates; it does not act.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Vigie watches leak forums, ransomware leak sites and Telegram channels for the French
/// health sector's stolen data.
#[derive(Debug, Parser)]
#[command(name = "vigie", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Configuration file (TOML); see ops/config/vigie.example.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Evidence store directory (default: the config's store.path, else `storage`).
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories or stdin for watched organisations, identifiers and offers.
    Scan(ScanArgs),
    /// Check or build watchlists.
    #[command(subcommand)]
    Watchlist(WatchlistCommand),
    /// Scan files and record them in the evidence store as sightings.
    Ingest(IngestArgs),
    /// List and show incidents (one sale or leak, wherever it was posted).
    #[command(subcommand)]
    Incidents(IncidentsCommand),
    /// Check and export evidence.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Apply the retention policy to raw snapshots.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Alerts: triage, the delivery outbox, redelivery.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// The Telegram account used for live collection.
    #[command(subcommand)]
    Telegram(TelegramCommand),
    /// Sources: candidates seen in collected material, awaiting an analyst.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Import collected material that did not come through a collector.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Incidents for the CERT's tools: MISP events, STIX 2.1 bundles (no raw identifier).
    #[command(subcommand)]
    Export(ExportCommand),
    /// The weekly threat digest (default: the last full ISO week, French, HTML).
    Digest(DigestArgs),
    /// The main job: collect (Tor sources, Telegram channels, the spool directory), match,
    /// store, alert and deliver until SIGINT or SIGTERM. With `--bus`, the recorder role:
    /// record what collectors publish to the bus instead of collecting here.
    Run {
        /// Consume events from this NATS JetStream bus (`nats://HOST:PORT`, `tls://…`;
        /// several comma-separated for a cluster).
        #[arg(long, value_name = "URL")]
        bus: Option<String>,
    },
    /// The collector role of distributed mode: run sources (all configured ones, or those
    /// named) and publish their events to the bus until SIGINT or SIGTERM.
    Collect {
        /// The NATS JetStream bus (`nats://HOST:PORT`, `tls://…`; comma-separated for a
        /// cluster).
        #[arg(long, value_name = "URL", required = true)]
        bus: String,
        /// Source names: `[[tor_source]]` ids, `telegram-preview`, `telegram`, `spool`.
        sources: Vec<String>,
    },
    /// Crawl Tor sources once (concurrently), record what they yield, print their health.
    Crawl {
        /// `[[tor_source]]` ids.
        #[arg(required = true)]
        sources: Vec<String>,
        /// Health records as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Console accounts (password read from stdin).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Serve the analyst console alone (when nothing is collecting): `[console]` in the config.
    Serve {
        /// Address to listen on (default: the config's console.listen, else 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
    },
    /// The console's audit trail (logins, triage, reveals with their reasons), newest first.
    Audit {
        /// Entries shown at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user, or change a user's role and password (the password is read from stdin,
    /// one line; at least 12 bytes).
    Add {
        /// Login name.
        name: String,
        /// admin, analyst or viewer.
        #[arg(long, value_parser = ["admin", "analyst", "viewer"])]
        role: String,
    },
    /// List users (name, role, second factor, lock state).
    List,
    /// Give a user a TOTP second factor (prints the otpauth:// URI to load into an
    /// authenticator app, once; a new secret replaces the old), or remove it.
    Totp {
        /// Login name.
        name: String,
        /// Remove the second factor instead.
        #[arg(long)]
        disable: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TelegramCommand {
    /// Sign in interactively (phone, code, two-step password); the session file is written
    /// with mode 0600 in the store directory (or `telegram.session`).
    Login,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Channels posts were forwarded from and onion addresses seen in pages, not followed yet.
    Candidates {
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Each Tor source's last runs: pages, what every selector found, errors; a parser that
    /// found nothing on pages that answer is flagged. Exit 1 if a source is blind or unreachable.
    Health {
        /// Runs shown per source (latest first).
        #[arg(long, default_value_t = 1)]
        history: usize,
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A Telegram Desktop export (`result.json`, one chat or a full account); files next to
    /// it are recorded as attachments and matched (ZIP archives unpacked in memory, bounded).
    TelegramExport {
        /// The export's result.json.
        file: PathBuf,
        /// Attachments larger than this are not read (recorded as metadata only), bytes.
        #[arg(long, default_value_t = 20 * 1024 * 1024)]
        max_attachment_bytes: u64,
        /// The export itself may be at most this large, bytes.
        #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024)]
        max_bytes: u64,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// MISP events (MISP core format): one object for --incident, an array for --since.
    Misp {
        /// One incident.
        #[arg(long, conflicts_with = "since", required_unless_present = "since")]
        incident: Option<u64>,
        /// Every incident seen since this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Write here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// A STIX 2.1 bundle of every incident seen since DATE.
    Stix {
        /// RFC 3339 or YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        since: String,
        /// Write here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// ISO week, e.g. 2026-W47 (default: the last full week).
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<String>,
    /// Language.
    #[arg(long, value_enum, default_value_t = DigestLang::Fr)]
    pub lang: DigestLang,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DigestFormat::Html)]
    pub format: DigestFormat,
    /// Write it here instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Also post it, signed, to the recipients marked `digest = true`.
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestLang {
    Fr,
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestFormat {
    Html,
    Md,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts, newest first, with their delivery state and the incident's triage.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// One alert: recipient, reason, delivery attempts, triage, and the payload as sent.
    Show {
        /// Alert id.
        id: u64,
        /// JSON.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge the alert's incident (an analyst is on it).
    Ack {
        /// Alert id.
        id: u64,
        /// Note kept with the triage.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Mark the alert's incident a false positive: no more alerts about it, and look-alikes
    /// (near-duplicates, same alias in the same context) are suppressed.
    FalsePositive {
        /// Alert id.
        id: u64,
        /// Why (kept with the triage and shown by `show`).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Pending and dead-letter deliveries.
    Outbox {
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Queue an alert (dead or delivered) for delivery again, now.
    Redeliver {
        /// Alert id.
        id: u64,
    },
    /// Deliver pending alerts now (without `vigie run`), retrying until none is due within
    /// --wait seconds.
    Deliver {
        /// Keep retrying failures that come due within this many seconds.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or directories (recursed).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Source label recorded with each sighting.
    #[arg(long, default_value = "ingest")]
    pub source: String,
    /// When the files were collected (RFC 3339 or YYYY-MM-DD; default: now).
    #[arg(long, value_name = "TIME")]
    pub seen_at: Option<String>,
    /// Watchlist files or directories; replaces the shipped lists. Repeatable.
    #[arg(long = "watchlists", value_name = "DIR")]
    pub watchlists: Vec<PathBuf>,
    /// Files larger than this are skipped (logged), in bytes.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_bytes: u64,
    /// Print one JSON object per file and a summary object.
    #[arg(long)]
    pub json: bool,
    /// Matcher threads (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Publish the files to this NATS JetStream bus (`nats://HOST:PORT`, `tls://…`) for a
    /// recorder elsewhere (`vigie run --bus`), instead of recording them here.
    #[arg(long, value_name = "URL")]
    pub bus: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, most recently seen first.
    List {
        /// Only incidents seen since this time (RFC 3339 or YYYY-MM-DD).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only incidents naming this watchlist id.
        #[arg(long, value_name = "ID")]
        entity: Option<String>,
        /// Only incidents at or above this severity (info, low, medium, high, critical).
        #[arg(long, value_name = "S")]
        severity: Option<vigie_core::Severity>,
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// One incident: sightings, organisations, masked identifier counts, hashes.
    Show {
        /// Incident id.
        id: u64,
        /// JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Recompute the chain of custody and every snapshot hash; exit 1 on the first broken link.
    Verify {
        /// JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compact the store: every column family rewritten into its last, compressed level
    /// (gives back the space of purged raw bytes and of uncompressed recent files).
    Compact,
    /// Write an incident's snapshots, manifest and SHA256SUMS as a .tar.gz.
    Export {
        /// Incident id.
        id: u64,
        /// Output file.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Time-stamp the chain head now with the configured RFC 3161 authority.
    Timestamp,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete raw bytes of snapshots with personal data older than retention.raw_days.
    Apply {
        /// Overrides retention.raw_days.
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, directories (recursed) or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Watchlist files or directories; replaces the shipped lists. Repeatable.
    #[arg(long = "watchlists", value_name = "DIR")]
    pub watchlists: Vec<PathBuf>,
    /// One JSON object per input file, one per line.
    #[arg(long)]
    pub json: bool,
    /// Show raw identifier values instead of masks.
    #[arg(long)]
    pub reveal: bool,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Where the files were collected: unknown, leak-site, forum, telegram, paste, news. A
    /// leak-site file (a victim entry) is a ransomware claim by construction.
    #[arg(long = "source-kind", value_name = "KIND", default_value = "unknown")]
    pub source_kind: vigie_core::Origin,
    /// A password to try on encrypted archives (zip, 7z, PDF). Repeatable; none is guessed.
    #[arg(long = "password", value_name = "PASSWORD")]
    pub passwords: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum WatchlistCommand {
    /// Report duplicate ids, shared aliases, names that fire on prose, invalid FINESS.
    Lint {
        /// Watchlist directory or files (default: the shipped lists).
        paths: Vec<PathBuf>,
    },
    /// Turn the FINESS etalab extract (semicolon CSV from data.gouv.fr) into a watchlist.
    ImportFiness {
        /// The extract.
        file: PathBuf,
        /// Write the watchlist here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

/// Logs go to stderr through `tracing`; RUST_LOG wins over -v.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
