use std::path::PathBuf;

/// Everything that can go wrong while loading watchlists or scanning.
///
/// Every variant says what the caller should do: fix the named file (`Watchlist*`), check the
/// input path (`Io`), or report a bug (none of these should happen on any input).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// A file could not be read. Retrying helps only if the file system changes.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A watchlist file is not valid TOML in the watchlist format.
    #[error("watchlist {path}: {message}")]
    WatchlistSyntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The watchlists parse but cannot be used together (duplicate ids, unusable names...).
    #[error("watchlist {path}: entity {id:?}: {message}")]
    WatchlistInvalid {
        /// The file that holds the entity.
        path: PathBuf,
        /// The entity id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// No watchlist file was found where one was expected.
    #[error("no watchlist (*.toml) found in {0}")]
    NoWatchlist(PathBuf),
    /// The FINESS extract is not in the etalab format.
    #[error("FINESS extract {path}, line {line}: {message}")]
    FinessFormat {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The Aho-Corasick automaton could not be built (too many or too long names).
    #[error("cannot build the name automaton: {0}")]
    Automaton(String),
}
