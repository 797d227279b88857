//! PDF text through pdf-extract, on its own thread: capped in pages and time, and a panic in
//! the parser (it has `unwrap`s on document structure) is caught and reported.

use std::sync::mpsc;
use std::thread;

use pdf_extract::{Document, Object, ObjectId, PlainTextOutput};

use crate::unpack::Budget;

/// Stack of the PDF thread: page-tree walks in the parser recurse.
const STACK: usize = 64 * 1024 * 1024;
/// Deepest page-tree ancestry accepted (real documents: a handful of levels).
const MAX_TREE_DEPTH: usize = 64;

/// The text of a PDF's first pages, or why there is none.
pub(crate) fn read(bytes: &[u8], budget: &mut Budget) -> Result<String, String> {
    let limit = budget.limits.pdf_time.min(budget.remaining());
    let max_pages = budget.limits.max_pdf_pages;
    let passwords = budget.passwords.to_vec();
    let data = bytes.to_vec();
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name("vigie-pdf".into())
        .stack_size(STACK)
        .spawn(move || {
            let result = std::panic::catch_unwind(move || extract(&data, max_pages, &passwords));
            // The receiver may have given up on us: nothing to do then.
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(format!("PDF not read: no thread ({e})"));
    }
    match rx.recv_timeout(limit) {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err("PDF not read: the PDF parser failed on this file (panic caught)".into()),
        // The thread cannot be killed: it is left to finish on its own and its result dropped.
        Err(_) => Err(format!("PDF not read: time cap of {limit:?} reached")),
    }
}

fn extract(bytes: &[u8], max_pages: usize, passwords: &[String]) -> Result<String, String> {
    let mut doc =
        Document::load_mem(bytes).map_err(|e| format!("PDF not read: unreadable ({e})"))?;
    if doc.is_encrypted() {
        let opened = std::iter::once("")
            .chain(passwords.iter().map(String::as_str))
            .any(|p| doc.decrypt(p).is_ok());
        if !opened {
            return Err(format!(
                "PDF not read: encrypted, none of the {} stated or configured passwords opens it",
                passwords.len()
            ));
        }
    }
    let pages = doc.get_pages();
    let total = pages.len();
    let mut text = String::new();
    let mut read = 0usize;
    for (&number, &id) in pages.iter().take(max_pages) {
        if !page_tree_is_sane(&doc, id) {
            return Err("PDF not read: page tree loops or nests too deep".into());
        }
        let mut page = String::new();
        {
            let mut output = PlainTextOutput::new(&mut page);
            // A page the extractor cannot read is left out; the others still count.
            if pdf_extract::output_doc_page(&doc, &mut output, number).is_err() {
                continue;
            }
        }
        text.push_str(&page);
        read += 1;
    }
    if total == 0 {
        return Err(
            "PDF not read: no page found (damaged, or a page tree the reader does not follow)"
                .into(),
        );
    }
    if text.trim().is_empty() {
        return Err(format!(
            "PDF not read: no text layer on {read} of {total} pages (scanned?)"
        ));
    }
    if total > max_pages {
        text.push_str(&format!("\n[first {max_pages} of {total} pages read]\n"));
    }
    Ok(text)
}

/// Walks a page's `Parent` chain iteratively: the extractor follows it by recursion, so a
/// loop there would never end.
fn page_tree_is_sane(doc: &Document, page: ObjectId) -> bool {
    let mut seen: Vec<ObjectId> = vec![page];
    let mut current = page;
    loop {
        let Ok(dict) = doc.get_dictionary(current) else {
            return true;
        };
        let Ok(Object::Reference(parent)) = dict.get(b"Parent") else {
            return true;
        };
        if seen.contains(parent) || seen.len() >= MAX_TREE_DEPTH {
            return false;
        }
        seen.push(*parent);
        current = *parent;
    }
}
