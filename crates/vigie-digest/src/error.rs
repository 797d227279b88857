/// What went wrong building a digest.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// The week is not `YYYY-Www`.
    #[error("invalid week {0:?}: expected YYYY-Www, e.g. 2026-W47")]
    BadWeek(String),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] vigie_store::StoreError),
}
