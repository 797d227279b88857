/// What went wrong, classified by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The recipients or delivery settings are invalid: fix the config (never retried).
    #[error("invalid alert configuration: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] vigie_store::StoreError),
}
