//! One supervisor for every source: each runs on a thread of its own; a source that fails
//! (an error, a panic) is recorded as a `crashed` health record and run again after a
//! backoff (1 s doubling to 5 min, back to 1 s after an hour of healthy running), reading its
//! checkpoints anew. A source that finishes is not run again.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::{error, info, warn};
use vigie_core::{HealthRecord, HealthStatus};
use vigie_store::Timestamp;

use crate::event::{Event, Pending};
use crate::source::{Checkpoints, Shutdown, Source, SourceContext};

/// Restart delays: `initial` doubling to `max`; a source that ran `healthy` or longer before
/// failing starts again from `initial`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub healthy: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, healthy: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            healthy,
            next: initial,
        }
    }

    /// The wait before the next start, after a run of `uptime` failed.
    pub fn after_failure(&mut self, uptime: Duration) -> Duration {
        if uptime >= self.healthy {
            self.next = self.initial;
        }
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        wait
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(300),
            Duration::from_secs(3600),
        )
    }
}

/// Settings of a [`Supervisor`].
#[derive(Debug, Clone, Copy)]
pub struct SupervisorOptions {
    /// Events waiting for the recorder before sources wait too (backpressure).
    pub capacity: usize,
    pub backoff: Backoff,
}

impl Default for SupervisorOptions {
    fn default() -> SupervisorOptions {
        SupervisorOptions {
            capacity: 1024,
            backoff: Backoff::default(),
        }
    }
}

/// The running sources of a process.
pub struct Supervisor {
    shutdown: Shutdown,
    threads: Vec<(String, JoinHandle<()>)>,
}

impl Supervisor {
    /// Starts every source on its own thread; their events arrive, in each source's order, on
    /// the returned receiver. The receiver closes when every source has finished.
    pub fn start(
        sources: Vec<Box<dyn Source>>,
        checkpoints: Arc<dyn Checkpoints>,
        shutdown: Shutdown,
        options: SupervisorOptions,
    ) -> std::io::Result<(Supervisor, flume::Receiver<Pending>)> {
        let (tx, rx) = flume::bounded(options.capacity.max(1));
        let mut threads = Vec::new();
        for mut source in sources {
            let name = source.name().to_string();
            let cx = SourceContext::new(tx.clone(), shutdown.clone(), Arc::clone(&checkpoints));
            let backoff = options.backoff;
            let handle = std::thread::Builder::new()
                .name(format!("source-{name}"))
                .spawn(move || supervise(source.as_mut(), &cx, backoff))?;
            threads.push((name, handle));
        }
        Ok((Supervisor { shutdown, threads }, rx))
    }

    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Signals every source and waits up to `grace` for their threads. A thread still busy
    /// (a fetch that does not honour the signal) is left to end with the process: what it had
    /// not emitted is read again next run, from its checkpoint.
    pub fn stop(self, grace: Duration) {
        self.shutdown.signal();
        let deadline = Instant::now() + grace;
        for (name, handle) in self.threads {
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if handle.is_finished() {
                let _ = handle.join();
            } else {
                warn!(
                    source = %name,
                    "source still busy after the stop grace period; left behind"
                );
            }
        }
    }

    /// True once every source's thread has ended.
    pub fn finished(&self) -> bool {
        self.threads.iter().all(|(_, h)| h.is_finished())
    }
}

/// Runs `source` until it finishes or the run stops, restarting it after failures.
fn supervise(source: &mut dyn Source, cx: &SourceContext, mut backoff: Backoff) {
    let name = source.name().to_string();
    loop {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| source.run(cx)));
        if cx.is_stopping() {
            return;
        }
        let why = match result {
            Ok(Ok(())) => {
                info!(source = %name, "source finished");
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(panic) => format!("the thread panicked: {}", panic_text(panic.as_ref())),
        };
        let uptime = started.elapsed();
        let wait = backoff.after_failure(uptime);
        error!(source = %name, reason = %why, retry_in_ms = wait.as_millis() as u64, "source thread failed; restarting");
        let record = crashed(&name, why, wait, uptime);
        if cx.emit(Event::Health(record)).is_err() {
            return;
        }
        if cx.shutdown().sleep(wait) {
            return;
        }
    }
}

/// The health record of a failed run (`thread:NAME`, which no configured source id can be).
fn crashed(name: &str, why: String, wait: Duration, uptime: Duration) -> HealthRecord {
    HealthRecord {
        source: format!("thread:{name}"),
        at_ms: Timestamp::now().0,
        status: HealthStatus::Crashed,
        mirror: None,
        mirrors_failed: Vec::new(),
        pages_ok: 0,
        pages_failed: 0,
        documents: 0,
        counts: Default::default(),
        blind: Vec::new(),
        errors: vec![why, format!("restarting in {} ms", wait.as_millis())],
        elapsed_ms: u64::try_from(uptime.as_millis()).unwrap_or(u64::MAX),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{NoCheckpoints, SourceError};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_doubles_to_its_cap_and_resets_after_a_healthy_run() {
        let s = Duration::from_secs;
        let mut b = Backoff::new(s(1), s(5), s(60));
        let waits: Vec<_> = (0..5).map(|_| b.after_failure(s(0))).collect();
        assert_eq!(waits, [s(1), s(2), s(4), s(5), s(5)]);
        assert_eq!(b.after_failure(s(61)), s(1));
    }

    /// Fails its first two runs (an error, then a panic), then emits a checkpoint and finishes.
    struct Flaky {
        runs: Arc<AtomicU32>,
    }

    impl Source for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
            match self.runs.fetch_add(1, Ordering::SeqCst) {
                0 => Err(SourceError::Failed("disk gone".into())),
                1 => panic!("crafted page"),
                _ => {
                    cx.emit(Event::Checkpoint {
                        key: "flaky".into(),
                        value: b"done".to_vec(),
                    })
                    .map_err(|e| SourceError::Failed(e.to_string()))?;
                    Ok(())
                }
            }
        }
    }

    #[test]
    fn a_failing_source_is_recorded_restarted_and_a_finished_one_is_not() {
        let runs = Arc::new(AtomicU32::new(0));
        let options = SupervisorOptions {
            capacity: 8,
            backoff: Backoff::new(
                Duration::from_millis(1),
                Duration::from_millis(4),
                Duration::from_secs(60),
            ),
        };
        let (sup, rx) = Supervisor::start(
            vec![Box::new(Flaky {
                runs: Arc::clone(&runs),
            })],
            Arc::new(NoCheckpoints),
            Shutdown::new(),
            options,
        )
        .unwrap();
        let events: Vec<Event> = rx.iter().map(|p| p.event).collect(); // closes when the thread ends
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(events.len(), 3, "{events:?}");
        let Event::Health(first) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(first.status, HealthStatus::Crashed);
        assert_eq!(first.source, "thread:flaky");
        assert!(first.errors[0].contains("disk gone"));
        let Event::Health(second) = &events[1] else {
            panic!("{events:?}")
        };
        assert!(second.errors[0].contains("the thread panicked: crafted page"));
        assert!(matches!(&events[2], Event::Checkpoint { key, .. } if key == "flaky"));
        // The channel closes when the thread drops its sender, just before the thread itself
        // ends: give it a moment (CI once looked in between).
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sup.finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(sup.finished());
        sup.stop(Duration::from_secs(1));
    }

    /// Runs until stopped.
    struct Patient;

    impl Source for Patient {
        fn name(&self) -> &str {
            "patient"
        }
        fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError> {
            while !cx.shutdown().sleep(Duration::from_secs(60)) {}
            Ok(())
        }
    }

    #[test]
    fn stop_reaches_a_waiting_source() {
        let (sup, rx) = Supervisor::start(
            vec![Box::new(Patient)],
            Arc::new(NoCheckpoints),
            Shutdown::new(),
            SupervisorOptions::default(),
        )
        .unwrap();
        sup.stop(Duration::from_secs(5));
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_err(), "closed");
    }
}
