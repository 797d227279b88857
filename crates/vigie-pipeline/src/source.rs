//! The [`Source`] trait and the context a source runs in.
//!
//! A source reads one kind of place (Tor sites, Telegram channels, a spool directory, files)
//! and emits [`Event`]s through its [`SourceContext`]. It never sees the matcher nor the store:
//! its checkpoints come from the context when it starts, and it stops when the context's
//! [`Shutdown`] is signalled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::event::{Event, Pending, Receipt};

/// Why a source stopped without finishing.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The configuration cannot work (the supervisor still retries, with backoff: the
    /// operator may fix a file the source reads).
    #[error("configuration: {0}")]
    Config(String),
    /// Anything else: I/O, a network failure the source could not ride out.
    #[error("{0}")]
    Failed(String),
}

/// A collector. `run` is called on a thread of its own; it returns `Ok(())` when its work is
/// finished (a finite source: files, an export) or when shutdown was signalled, and an error
/// when it failed (the supervisor records it and runs the source again after a backoff,
/// from the checkpoints of that moment).
pub trait Source: Send {
    /// The name used in logs and health records (`tor`, `telegram-preview`, `spool`…).
    fn name(&self) -> &str;
    /// Reads and emits until done, stopped or failed.
    fn run(&mut self, cx: &SourceContext) -> Result<(), SourceError>;
}

/// Read access to the checkpoints sources left (the store's, or the bus's key-value bucket).
pub trait Checkpoints: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Every checkpoint whose key starts with `prefix`, by key.
    fn with_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String>;
}

/// No checkpoints (a first run, a test).
pub struct NoCheckpoints;

impl Checkpoints for NoCheckpoints {
    fn get(&self, _: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
    fn with_prefix(&self, _: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        Ok(Vec::new())
    }
}

impl Checkpoints for vigie_store::StoreReader {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.checkpoint(key).map_err(|e| e.to_string())
    }
    fn with_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.checkpoints_with_prefix(prefix)
            .map_err(|e| e.to_string())
    }
}

/// The stop signal shared by a run: set once, seen by every source, waitable from threads
/// and from async tasks.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

#[derive(Default)]
struct ShutdownInner {
    set: Arc<AtomicBool>,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Signals every holder.
    pub fn signal(&self) {
        self.inner.set.store(true, Ordering::SeqCst);
        let _guard = self.inner.lock.lock();
        self.inner.wake.notify_all();
    }

    pub fn is_signalled(&self) -> bool {
        self.inner.set.load(Ordering::SeqCst)
    }

    /// The flag itself, for a signal handler to set (`signal_hook::flag::register`); the
    /// waiting sides see it within 100 ms.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.inner.set)
    }

    /// Sleeps for `d` or until signalled; true when signalled.
    pub fn sleep(&self, d: Duration) -> bool {
        let guard = match self.inner.lock.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if self.is_signalled() {
            return true;
        }
        // Signals set by a signal handler (no notify) are seen within 100 ms.
        let deadline = std::time::Instant::now() + d;
        let mut guard = guard;
        loop {
            let now = std::time::Instant::now();
            if self.is_signalled() {
                return true;
            }
            if now >= deadline {
                return false;
            }
            let step = (deadline - now).min(Duration::from_millis(100));
            guard = match self.inner.wake.wait_timeout(guard, step) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// Returned by [`SourceContext::emit`] once the run is stopping and nobody will take the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline is stopping")]
pub struct Stopped;

/// What a running source gets: its output channel, the stop signal, the checkpoints.
#[derive(Clone)]
pub struct SourceContext {
    events: flume::Sender<Pending>,
    shutdown: Shutdown,
    checkpoints: Arc<dyn Checkpoints>,
}

impl SourceContext {
    pub fn new(
        events: flume::Sender<Pending>,
        shutdown: Shutdown,
        checkpoints: Arc<dyn Checkpoints>,
    ) -> SourceContext {
        SourceContext {
            events,
            shutdown,
            checkpoints,
        }
    }

    /// Hands an event over, waiting while the recorder is behind (backpressure). Fails only
    /// when the receiving side is gone.
    pub fn emit(&self, event: Event) -> Result<(), Stopped> {
        self.events.send(event.into()).map_err(|_| Stopped)
    }

    /// Hands a document over with a receipt, settled once it is stored (or published to the
    /// bus), or refused with the reason.
    pub fn emit_with_receipt(&self, event: Event, receipt: Receipt) -> Result<(), Stopped> {
        let pending = Pending {
            event,
            receipt: Some(receipt),
        };
        self.events.send(pending).map_err(|_| Stopped)
    }

    /// The same, from an async task (never blocks the runtime's thread).
    pub async fn emit_async(&self, event: Event) -> Result<(), Stopped> {
        self.events
            .send_async(event.into())
            .await
            .map_err(|_| Stopped)
    }

    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    pub fn is_stopping(&self) -> bool {
        self.shutdown.is_signalled()
    }

    /// A checkpoint as stored when the source (re)started; `None` when unreadable (logged)
    /// or absent: the source starts from scratch, and the store's deduplication absorbs what
    /// it reads twice.
    pub fn checkpoint(&self, key: &str) -> Option<Vec<u8>> {
        match self.checkpoints.get(key) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(key, error = %e, "checkpoint unreadable; starting from scratch");
                None
            }
        }
    }

    pub fn checkpoints_with_prefix(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        match self.checkpoints.with_prefix(prefix) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(prefix, error = %e, "checkpoints unreadable; starting from scratch");
                Vec::new()
            }
        }
    }

    /// The checkpoint reader itself (for a source that hands it to code of its own).
    pub fn checkpoint_reader(&self) -> Arc<dyn Checkpoints> {
        Arc::clone(&self.checkpoints)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeping_thread_wakes_when_signalled() {
        let s = Shutdown::new();
        let t = {
            let s = s.clone();
            std::thread::spawn(move || s.sleep(Duration::from_secs(60)))
        };
        std::thread::sleep(Duration::from_millis(50));
        s.signal();
        assert!(t.join().unwrap(), "woke because signalled");
        assert!(!Shutdown::new().sleep(Duration::from_millis(1)));
    }

    #[test]
    fn emit_fails_once_the_receiver_is_gone() {
        let (tx, rx) = flume::bounded(1);
        let cx = SourceContext::new(tx, Shutdown::new(), Arc::new(NoCheckpoints));
        let ev = Event::Checkpoint {
            key: "k".into(),
            value: vec![],
        };
        assert_eq!(cx.emit(ev.clone()), Ok(()));
        drop(rx);
        assert_eq!(cx.emit(ev), Err(Stopped));
    }
}
