//! `vigie scan`: reads inputs in bounded windows, scans windows on a pool of threads, merges
//! them per document in order, and prints one report per input.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;

use anyhow::{Context, Result};
use crossbeam_channel::{bounded, Receiver, Sender};
use vigie_core::Report;
use vigie_match::{
    document_text, looks_like_html, Matcher, Partial, ScanOptions, Window, WindowReader,
    MAX_HTML_BYTES,
};

use crate::args::ScanArgs;
use crate::{shipped, Outcome};

/// One input: a file or stdin.
#[derive(Debug, Clone)]
enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    fn label(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }
}

pub fn run(args: ScanArgs) -> Result<Outcome> {
    let watchlist = shipped::load(&args.watchlists)?;
    let matcher = Arc::new(Matcher::new(&watchlist).context("compiling the watchlists")?);
    let options = ScanOptions {
        reveal: args.reveal,
        origin: args.source_kind,
        ..ScanOptions::default()
    };
    let unpack = vigie_unpack::Options {
        passwords: args.passwords.clone(),
        ..vigie_unpack::Options::default()
    };
    let mut had_error = false;
    let mut inputs = Vec::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if let Err(e) = collect(path, &mut inputs) {
            eprintln!("vigie: {}: {e}", path.display());
            had_error = true;
        }
    }
    let threads = args.threads.map_or_else(
        || thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut found = false;
    let mut print = |report: Result<Report, (String, io::Error)>| -> Result<()> {
        match report {
            Ok(report) => {
                found |= report.is_hit();
                if args.json {
                    serde_json::to_writer(&mut out, &report)?;
                    writeln!(out)?;
                } else if report.is_hit() {
                    write_human(&mut out, &report)?;
                }
            }
            Err((label, e)) => {
                eprintln!("vigie: {label}: {e}");
                had_error = true;
            }
        }
        Ok(())
    };
    if threads <= 1 {
        for input in &inputs {
            print(scan_one(&matcher, input, options, &unpack))?;
        }
    } else {
        scan_parallel(&matcher, &inputs, threads, options, &unpack, &mut print)?;
    }
    out.flush()?;
    drop(out);
    Ok(if had_error {
        Outcome::Error
    } else if found {
        Outcome::Found
    } else {
        Outcome::NothingFound
    })
}

/// Adds a file, or every file under a directory.
fn collect(path: &Path, inputs: &mut Vec<Input>) -> io::Result<()> {
    let mut files = Vec::new();
    vigie_files::collect_files(path, &mut files)?;
    inputs.extend(files.into_iter().map(Input::File));
    Ok(())
}

/// Largest archive, workbook or PDF read whole to be unpacked (vigie-unpack's caps then apply).
const MAX_UNPACK_BYTES: u64 = 256 * 1024 * 1024;

/// The windows of one input, produced one at a time.
enum Source {
    /// A NUL byte in the first 2 KiB: a binary file, not scanned (as ripgrep does). Notes say
    /// why an archive among them was not unpacked.
    Binary(Vec<String>),
    /// An archive, workbook or PDF unpacked by vigie-unpack: each file's (each sheet's) text
    /// read as a document of its own, so a sheet's header is the first row its windows see;
    /// notes say what was left out.
    Unpacked(Unpacked),
    /// HTML parsed whole (bounded by [`MAX_HTML_BYTES`]), as one window.
    Whole(Option<Window>),
    Stream(WindowReader<Box<dyn Read + Send>>),
}

impl Source {
    fn open(input: &Input, unpack: &vigie_unpack::Options) -> io::Result<Source> {
        let mut reader: Box<dyn Read + Send> = match input {
            Input::Stdin => Box::new(io::stdin()),
            Input::File(p) => Box::new(File::open(p)?),
        };
        // Sniff the head to decide between HTML and text.
        let mut head = vec![0u8; 2048];
        let mut filled = 0;
        while filled < head.len() {
            match reader.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        head.truncate(filled);
        if vigie_unpack::worth_unpacking(&head) {
            return unpack_whole(input, head, reader, unpack);
        }
        if head.contains(&0) {
            tracing::info!(input = %input.label(), "binary file, not scanned");
            return Ok(Source::Binary(Vec::new()));
        }
        let is_html_name = matches!(input, Input::File(p) if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("html") || x.eq_ignore_ascii_case("htm")));
        let chained: Box<dyn Read + Send> = Box::new(io::Cursor::new(head.clone()).chain(reader));
        if is_html_name || looks_like_html(&head) {
            let mut bytes = Vec::new();
            chained
                .take(MAX_HTML_BYTES as u64 + 1)
                .read_to_end(&mut bytes)?;
            if bytes.len() <= MAX_HTML_BYTES {
                let text = document_text(&bytes);
                let len = text.len();
                return Ok(Source::Whole(Some(Window {
                    text,
                    base: 0,
                    accept_from: 0,
                    accept_to: len,
                    finess_context: false,
                })));
            }
            tracing::warn!(input = %input.label(), limit = MAX_HTML_BYTES, "html too large to parse, scanning it as text");
            let rest: Box<dyn Read + Send> = match input {
                Input::File(p) => Box::new(File::open(p)?),
                // Stdin cannot be rewound: scan what was read, then the rest.
                Input::Stdin => Box::new(io::Cursor::new(bytes).chain(io::stdin())),
            };
            return Ok(Source::Stream(WindowReader::new(rest)));
        }
        Ok(Source::Stream(WindowReader::new(chained)))
    }

    fn next_window(&mut self) -> io::Result<Option<Window>> {
        match self {
            Source::Binary(_) => Ok(None),
            Source::Unpacked(u) => u.next_window(),
            Source::Whole(w) => Ok(w.take()),
            Source::Stream(r) => r.next_window(),
        }
    }

    /// Notes for the report's `why` (taken once).
    fn take_notes(&mut self) -> Vec<String> {
        match self {
            Source::Binary(n) => std::mem::take(n),
            Source::Unpacked(u) => std::mem::take(&mut u.notes),
            _ => Vec::new(),
        }
    }
}

/// The sections of an unpacked sample, one window reader at a time.
struct Unpacked {
    sections: std::vec::IntoIter<Vec<u8>>,
    current: Option<WindowReader<Box<dyn Read + Send>>>,
    notes: Vec<String>,
}

impl Unpacked {
    fn next_window(&mut self) -> io::Result<Option<Window>> {
        loop {
            if let Some(reader) = self.current.as_mut() {
                if let Some(window) = reader.next_window()? {
                    return Ok(Some(window));
                }
            }
            let Some(body) = self.sections.next() else {
                return Ok(None);
            };
            self.current = Some(WindowReader::new(Box::new(io::Cursor::new(body))));
        }
    }
}

/// Reads an archive, workbook or PDF whole and scans what vigie-unpack finds in it. Entry
/// names stay out of the notes (they can carry identifiers); reasons and counts go in.
fn unpack_whole(
    input: &Input,
    head: Vec<u8>,
    rest: Box<dyn Read + Send>,
    options: &vigie_unpack::Options,
) -> io::Result<Source> {
    let mut bytes = Vec::new();
    io::Cursor::new(head)
        .chain(rest)
        .take(MAX_UNPACK_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_UNPACK_BYTES {
        return Ok(Source::Binary(vec![format!(
            "not unpacked: over {MAX_UNPACK_BYTES} bytes"
        )]));
    }
    let name = match input {
        Input::File(p) => p
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        Input::Stdin => String::new(),
    };
    match vigie_unpack::unpack(&name, &bytes, options) {
        Ok(x) => {
            let mut notes = vec![format!(
                "unpacked: {} files read, {} skipped",
                x.entries,
                x.skipped.len()
            )];
            let mut reasons: Vec<&str> = x.skipped.iter().map(|s| s.reason.as_str()).collect();
            reasons.dedup();
            notes.extend(reasons.into_iter().take(8).map(|r| format!("skipped: {r}")));
            if x.entries == 0 {
                return Ok(Source::Binary(notes));
            }
            let sections: Vec<Vec<u8>> = x
                .sections
                .iter()
                .filter_map(|s| x.text.get(s.range.clone()).map(<[u8]>::to_vec))
                .collect();
            Ok(Source::Unpacked(Unpacked {
                sections: sections.into_iter(),
                current: None,
                notes,
            }))
        }
        Err(e) => {
            tracing::info!(input = %input.label(), error = %e, "archive not unpacked");
            Ok(Source::Binary(vec![format!("not unpacked: {e}")]))
        }
    }
}

fn scan_one(
    matcher: &Matcher,
    input: &Input,
    options: ScanOptions,
    unpack: &vigie_unpack::Options,
) -> Result<Report, (String, io::Error)> {
    let label = input.label();
    let fail = |e| (label.clone(), e);
    let mut source = Source::open(input, unpack).map_err(fail)?;
    let binary = matches!(source, Source::Binary(_));
    let notes = source.take_notes();
    let mut partial = Partial::default();
    while let Some(window) = source.next_window().map_err(fail)? {
        partial.merge(matcher.scan_window(&window));
    }
    Ok(finish(matcher, &label, partial, options, binary, notes))
}

fn finish(
    matcher: &Matcher,
    label: &str,
    partial: Partial,
    options: ScanOptions,
    binary: bool,
    notes: Vec<String>,
) -> Report {
    let mut report = matcher.finish(label, partial, options);
    if binary {
        report.why.push("binary file, not scanned".into());
    }
    report.why.extend(notes);
    report
}

enum Event {
    Window {
        doc: usize,
        seq: usize,
        // Boxed: a window's findings are much larger than the end-of-document event.
        partial: Box<Partial>,
    },
    DocEnd {
        doc: usize,
        windows: usize,
        binary: bool,
        notes: Vec<String>,
        error: Option<io::Error>,
    },
}

struct Job {
    doc: usize,
    seq: usize,
    window: Window,
}

#[derive(Default)]
struct DocState {
    parts: BTreeMap<usize, Partial>,
    windows: Option<usize>,
    binary: bool,
    notes: Vec<String>,
    error: Option<io::Error>,
}

/// Reader thread → bounded queue → `threads` workers → this thread, which merges in order.
fn scan_parallel(
    matcher: &Arc<Matcher>,
    inputs: &[Input],
    threads: usize,
    options: ScanOptions,
    unpack: &vigie_unpack::Options,
    print: &mut impl FnMut(Result<Report, (String, io::Error)>) -> Result<()>,
) -> Result<()> {
    let (job_tx, job_rx): (Sender<Job>, Receiver<Job>) = bounded(threads * 2);
    let (event_tx, event_rx) = bounded::<Event>(threads * 4);
    thread::scope(|scope| -> Result<()> {
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let event_tx = event_tx.clone();
            let matcher = Arc::clone(matcher);
            scope.spawn(move || {
                for job in job_rx {
                    let partial = matcher.scan_window(&job.window);
                    let event = Event::Window {
                        doc: job.doc,
                        seq: job.seq,
                        partial: Box::new(partial),
                    };
                    if event_tx.send(event).is_err() {
                        break;
                    }
                }
            });
        }
        drop(job_rx);
        let reader_events = event_tx.clone();
        drop(event_tx);
        scope.spawn(move || {
            for (doc, input) in inputs.iter().enumerate() {
                let mut windows = 0;
                let mut binary = false;
                let mut notes = Vec::new();
                let error = match Source::open(input, unpack) {
                    Err(e) => Some(e),
                    Ok(mut source) => loop {
                        binary |= matches!(source, Source::Binary(_));
                        notes.extend(source.take_notes());
                        match source.next_window() {
                            Ok(Some(window)) => {
                                let job = Job {
                                    doc,
                                    seq: windows,
                                    window,
                                };
                                windows += 1;
                                if job_tx.send(job).is_err() {
                                    return;
                                }
                            }
                            Ok(None) => break None,
                            Err(e) => break Some(e),
                        }
                    },
                };
                let end = Event::DocEnd {
                    doc,
                    windows,
                    binary,
                    notes,
                    error,
                };
                if reader_events.send(end).is_err() {
                    return;
                }
            }
        });

        let mut docs: BTreeMap<usize, DocState> = BTreeMap::new();
        let mut next = 0;
        for event in event_rx {
            match event {
                Event::Window { doc, seq, partial } => {
                    docs.entry(doc).or_default().parts.insert(seq, *partial);
                }
                Event::DocEnd {
                    doc,
                    windows,
                    binary,
                    notes,
                    error,
                } => {
                    let state = docs.entry(doc).or_default();
                    state.windows = Some(windows);
                    state.binary = binary;
                    state.notes = notes;
                    state.error = error;
                }
            }
            // Print every finished document, in input order.
            while let Some(state) = docs.get(&next) {
                if state.windows != Some(state.parts.len()) {
                    break;
                }
                let Some(mut state) = docs.remove(&next) else {
                    break;
                };
                let label = inputs[next].label();
                let result = match state.error.take() {
                    Some(e) => Err((label, e)),
                    None => {
                        let mut merged = Partial::default();
                        for (_, part) in std::mem::take(&mut state.parts) {
                            merged.merge(part);
                        }
                        let notes = std::mem::take(&mut state.notes);
                        Ok(finish(
                            matcher,
                            &label,
                            merged,
                            options,
                            state.binary,
                            notes,
                        ))
                    }
                };
                print(result)?;
                next += 1;
            }
        }
        Ok(())
    })
}

/// ripgrep-like human output: the file and severity, then one line per finding.
fn write_human(out: &mut impl Write, r: &Report) -> io::Result<()> {
    let offer = if r.leak_offer { "  [leak offer]" } else { "" };
    writeln!(out, "{}: {}  {}{offer}", r.path, r.severity, r.kind)?;
    for e in &r.entities {
        let shown: Vec<String> = e
            .matches
            .iter()
            .take(3)
            .map(|m| format!("{:?}@{}", m.text, m.start))
            .collect();
        let more = if e.matches.len() > 3 {
            format!(" (+{} more)", e.matches.len() - 3)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  entity     {} [{}] ({}): {}{more}",
            e.name,
            e.id,
            e.category,
            shown.join(", ")
        )?;
    }
    for (kind, c) in &r.identifiers {
        let examples = if c.examples.is_empty() {
            String::new()
        } else {
            format!("  e.g. {}", c.examples.join(", "))
        };
        writeln!(
            out,
            "  identifier {}: {} valid, {} invalid{examples}",
            kind.label(),
            c.valid,
            c.invalid
        )?;
    }
    if let Some(s) = &r.sample {
        writeln!(
            out,
            "  sample     {} rows [{}]",
            s.rows,
            s.columns.join(", ")
        )?;
    }
    if !r.cues.is_empty() {
        writeln!(out, "  cues       {}", r.cues.join(", "))?;
    }
    writeln!(out, "  why        {}", r.why.join("; "))?;
    writeln!(out)
}
