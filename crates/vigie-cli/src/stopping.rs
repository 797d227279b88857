//! Stopping a source's thread in `vigie run`: what it already handed over is recorded, within
//! a bound, and the thread is reaped if it has finished (one still in a fetch is left behind;
//! what it had not handed over is read again next run, from the checkpoint).

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::warn;

/// What one non-blocking receive gave.
pub enum Received<T> {
    Event(T),
    Empty,
    Closed,
}

/// The channels sources hand their events over (tokio's and std's).
pub trait TryReceive<T> {
    fn try_receive(&mut self) -> Received<T>;
}

impl<T> TryReceive<T> for tokio::sync::mpsc::Receiver<T> {
    fn try_receive(&mut self) -> Received<T> {
        match self.try_recv() {
            Ok(t) => Received::Event(t),
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => Received::Empty,
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => Received::Closed,
        }
    }
}

impl<T> TryReceive<T> for std::sync::mpsc::Receiver<T> {
    fn try_receive(&mut self) -> Received<T> {
        match self.try_recv() {
            Ok(t) => Received::Event(t),
            Err(std::sync::mpsc::TryRecvError::Empty) => Received::Empty,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Received::Closed,
        }
    }
}

/// The events still coming from a stopping thread, until it closes its channel or the grace
/// period ends (then `late` is logged).
pub struct Drain {
    deadline: Instant,
    late: &'static str,
}

impl Drain {
    pub fn new(grace: Duration, late: &'static str) -> Drain {
        Drain {
            deadline: Instant::now() + grace,
            late,
        }
    }

    /// The next event, waiting for it until the deadline; `None` when there are no more.
    pub fn next<T>(&self, events: &mut impl TryReceive<T>) -> Option<T> {
        loop {
            match events.try_receive() {
                Received::Event(t) => return Some(t),
                Received::Closed => return None,
                Received::Empty if Instant::now() > self.deadline => {
                    warn!("{}", self.late);
                    return None;
                }
                Received::Empty => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// Joins `thread` if it has finished; one still busy is left to end with the process.
pub fn reap(thread: Option<JoinHandle<()>>) {
    if let Some(t) = thread {
        if t.is_finished() {
            let _ = t.join();
        }
    }
}
