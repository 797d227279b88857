//! What is inside a sample file, under hard caps: archives (zip, 7z, tar, gzip, bzip2, zstd),
//! spreadsheets (xlsx, xlsb, xls, ods) and PDFs turned into text to match and rows per sheet.
//!
//! Overview: [`unpack`] takes a file's name and bytes and [`Options`] ([`Limits`] plus the
//! passwords to try) and returns [`Unpacked`]: the text to match, the [`Table`]s read from
//! spreadsheets (optional header, rows of cells), the [`FileRead`]s opened and every
//! [`Skipped`] entry with its reason. Archives nested in archives are opened to
//! [`Limits::max_depth`] from a work list (no recursion). A sample that breaks the ratio,
//! total-size or entry caps is a bomb: [`UnpackError::Refused`], never expanded further, its
//! bytes stay with the caller as evidence. [`passwords_from_text`] reads the passwords a post
//! states (`pass:`, `password:`, `mot de passe :`, `mdp:`, `пароль:`); nothing is guessed.
//!
//! Not for: writing anything to disk (entry names are labels, never paths), the network,
//! RAR (no maintained reader without the proprietary unRAR library: recorded as not read),
//! images (a scanned PDF is reported as "no text layer"), matching (see `vigie-match`).
//!
//! ```
//! use vigie_unpack::{unpack, Options};
//! let x = unpack("rows.csv", b"nom;nir\nA;1\n", &Options::default()).unwrap();
//! assert_eq!(x.text, b"nom;nir\nA;1\n");
//! ```

mod cfb;
mod error;
mod passwords;
mod pdf;
mod sevenz;
mod sheet;
mod tarfmt;
mod unpack;
mod zipfmt;

pub use error::UnpackError;
pub use passwords::passwords_from_text;
pub use unpack::{
    unpack, worth_unpacking, FileRead, Format, Limits, Options, Section, Skipped, Table, Unpacked,
};
