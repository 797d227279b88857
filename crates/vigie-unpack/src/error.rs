//! The crate's one error type.

/// Why a sample was not unpacked at all. Skipped entries inside a sample are not errors: they
/// are listed in [`crate::Unpacked::skipped`] with their reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnpackError {
    /// A cap was hit in a way that makes the sample a bomb (ratio, total size, entry count):
    /// the whole sample is refused, never expanded further. The caller keeps its bytes.
    #[error("{0}: refused")]
    Refused(String),
    /// The top-level container is not readable (corrupt, truncated, not what it says).
    #[error("{0}")]
    Unreadable(String),
}
