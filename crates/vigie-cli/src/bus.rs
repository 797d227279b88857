//! `--bus`: Vigie's roles over NATS JetStream. `vigie collect --bus` runs sources and publishes
//! their events, `vigie ingest --bus` publishes files, `vigie run --bus` records what the bus
//! holds. The work itself is vigie-pipeline's bus module; this file assembles and prints.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use vigie_bus::{Bus, BusConfig};
use vigie_files::FilesReport;
use vigie_pipeline::bus::{forward, Forwarded};
use vigie_pipeline::{NoCheckpoints, Shutdown, Source, Supervisor, SupervisorOptions};

use crate::config::Config;
use crate::Outcome;

/// The `[bus]` section with `url` (comma-separated for a cluster) from the command line.
pub fn settings(config: &Config, url: &str) -> Result<BusConfig> {
    let mut bus = config.bus.clone().unwrap_or_else(|| BusConfig::new(url));
    bus.url = url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    bus.validate().context("checking the bus settings")?;
    Ok(bus)
}

/// The runtime the NATS client runs on (two threads: the client's I/O and the publisher).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vigie-bus")
        .enable_all()
        .build()
        .context("starting the bus runtime")
}

/// Connects (waiting up to a minute for a bus that is not up yet), creating the stream and
/// the checkpoint bucket if absent.
pub fn connect(runtime: &tokio::runtime::Runtime, settings: &BusConfig) -> Result<Bus> {
    runtime
        .block_on(Bus::connect_with_retry(
            settings,
            Some(Duration::from_secs(60)),
        ))
        .with_context(|| format!("connecting to the bus {}", settings.redacted_urls()))
}

/// `vigie ingest --bus URL PATH…`: publishes the files; a recorder records them.
pub fn ingest(
    config: &Config,
    url: &str,
    files: Box<dyn Source>,
    report: &Arc<Mutex<FilesReport>>,
) -> Result<Outcome> {
    let settings = settings(config, url)?;
    let runtime = runtime()?;
    let bus = connect(&runtime, &settings)?;
    let publisher = {
        let _in_runtime = runtime.enter();
        bus.publisher()
    };
    let checkpoints = runtime
        .block_on(bus.checkpoints())
        .context("opening the checkpoint bucket")?;
    let shutdown = Shutdown::new();
    let (supervisor, events) = Supervisor::start(
        vec![files],
        Arc::new(NoCheckpoints),
        shutdown.clone(),
        SupervisorOptions::default(),
    )
    .context("starting the files source")?;
    let sent = forward(
        &events,
        &publisher,
        &checkpoints,
        runtime.handle(),
        &shutdown,
    );
    supervisor.stop(Duration::from_secs(5));
    let report = report.lock().unwrap_or_else(|p| p.into_inner());
    for (path, e) in &report.errors {
        eprintln!("vigie: {}: {e}", path.display());
    }
    print_forwarded(&sent, &settings);
    println!(
        "{} skipped (over --max-bytes), {} errors",
        report.skipped,
        report.errors.len()
    );
    Ok(if report.errors.is_empty() && sent.refused == 0 {
        Outcome::Success
    } else {
        Outcome::Error
    })
}

pub fn print_forwarded(sent: &Forwarded, settings: &BusConfig) {
    println!(
        "published to {} (stream {}): {} documents, {} health records and candidates, {} checkpoints; the bus kept {} and dropped {} as already published; {} refused",
        settings.redacted_urls(),
        settings.stream,
        sent.documents,
        sent.other,
        sent.checkpoints,
        sent.stats.published,
        sent.stats.duplicates,
        sent.refused
    );
}
