use std::path::PathBuf;

/// What went wrong in the store, classified by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory is not a Vigie store and is not empty: nothing was written to it.
    #[error("{path} is not a Vigie store (no {marker} file) and is not empty; refusing to use it", marker = crate::MARKER_FILE)]
    NotAStore {
        /// The directory given.
        path: PathBuf,
    },
    /// There is no store at this path (read-only commands do not create one).
    #[error("no Vigie store at {path} (run `vigie ingest` or `vigie run` to create one)")]
    Missing {
        /// The directory given.
        path: PathBuf,
    },
    /// The store was written by a newer Vigie.
    #[error("the store at {path} has schema version {found}, newer than this Vigie's {supported}; upgrade Vigie")]
    SchemaTooNew {
        /// The directory given.
        path: PathBuf,
        /// Version on disk.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// Another process holds the write lock (one writer at a time; queries open read-only).
    #[error("the store at {path} is open for writing by another process: {detail}")]
    Locked {
        /// The directory given.
        path: PathBuf,
        /// RocksDB's message.
        detail: String,
    },
    /// On-disk data is damaged or was not written by Vigie.
    #[error("the store at {path} is corrupt or not a Vigie store: {detail}")]
    Corrupt {
        /// The directory given.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A record could not be decoded.
    #[error("damaged {what} record: {detail}")]
    BadRecord {
        /// Which record.
        what: String,
        /// Why.
        detail: String,
    },
    /// The write or read failed in RocksDB or the file system (disk full, I/O error); the batch
    /// was not applied and nothing stored before it is lost.
    #[error("store I/O failed (batch not applied): {0}")]
    Io(String),
    /// A new snapshot was offered without its analysis.
    #[error("snapshot {0} is new: it must be recorded with the matcher's analysis")]
    MissingAnalysis(String),
    /// The store was opened read-only.
    #[error("the store is open read-only")]
    ReadOnly,
    /// No such incident.
    #[error("no incident {0}")]
    NoIncident(u64),
    /// A merge or split an analyst asked for cannot be done as asked (same incident twice,
    /// an incident already merged, a false positive, a split that keeps nothing or moves
    /// nothing); nothing was written. Retrying the same request fails the same way.
    #[error("{0}")]
    Regroup(String),
    /// Writing an export failed.
    #[error("export failed: {0}")]
    Export(#[from] std::io::Error),
}

impl StoreError {
    /// Whether trying again later may succeed (disk full, lock held by another process).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Io(_) | StoreError::Locked { .. })
    }
}

pub(crate) fn io(e: rocksdb::Error) -> StoreError {
    StoreError::Io(e.into_string())
}

pub(crate) fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::BadRecord {
        what: what.to_string(),
        detail: e.to_string(),
    }
}
