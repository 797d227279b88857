//! A page written back from its tokens, so that `html5ever`'s tokenizer only ever sees tags
//! with a bounded number of attributes.

use crate::tokens::{Token, Tokens};

/// The page as tokens written back: the same elements, text and attribute values (up to
/// [`crate::MAX_ATTRIBUTES`] per tag, all double-quoted), comments dropped, NUL characters
/// dropped from text, `<` of text escaped wherever it could open markup. Character references
/// are left for the parser. Linear in the page's length.
///
/// Why this bounds `html5ever`: in the output, every `<` that could open markup starts a tag
/// (or the doctype) written here, and every tag ends at the first `>` after it that is outside
/// a double-quoted value — a value holds no `"`, and a name is only ever followed by `="` —
/// so whatever state the parser is in, no tag it reads has more attributes than were written.
pub fn canonicalize(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    for token in Tokens::new(html) {
        match token {
            Token::Text(text) => push_text(&mut out, text),
            Token::StartTag(tag) => {
                out.push('<');
                push_name(&mut out, tag.name);
                for (name, value) in tag.attributes {
                    out.push(' ');
                    push_name(&mut out, name);
                    out.push_str("=\"");
                    push_value(&mut out, value);
                    out.push('"');
                }
                out.push_str(if tag.self_closing { "/>" } else { ">" });
            }
            Token::EndTag(name) => {
                out.push_str("</");
                push_name(&mut out, name);
                out.push('>');
            }
            // A doctype ends at its first `>`, quotes or not: written back as it was, it
            // selects the same quirks mode.
            Token::Doctype(inner) => {
                out.push_str("<!");
                push_text(&mut out, inner);
                out.push('>');
            }
            Token::Ignored => {}
        }
    }
    out
}

/// Text is written back as it was, NUL characters dropped (the tree builder drops them from
/// HTML content), with `<` escaped where it could start markup: before a letter, `/`, `!`, `?`,
/// or at the end of the text (the next token written could start with a letter once a comment
/// between them is dropped).
fn push_text(out: &mut String, text: &str) {
    let owned;
    let text = if text.contains('\0') {
        owned = text.replace('\0', "");
        owned.as_str()
    } else {
        text
    };
    let b = text.as_bytes();
    let mut from = 0;
    for lt in memchr::memchr_iter(b'<', b) {
        let opens = b
            .get(lt + 1)
            .is_none_or(|c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?'));
        if opens {
            out.push_str(&text[from..lt]);
            out.push_str("&lt;");
            from = lt + 1;
        }
    }
    out.push_str(&text[from..]);
}

/// A value is written back between double quotes: `"` escaped, NUL replaced as the tokenizer
/// does.
fn push_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// A tag or attribute name ends at white space, `/`, `>` (or `=`, which the tokenizer never
/// leaves inside one), so it is written as it was, NUL replaced as the tokenizer does.
fn push_name(out: &mut String, name: &str) {
    if name.contains('\0') {
        out.push_str(&name.replace('\0', "\u{fffd}"));
    } else {
        out.push_str(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_is_written_back_as_it_reads() {
        let page = "<!DOCTYPE html><html><head><title>A &amp; B</title></head>\
                    <body class=\"x\" id='y' hidden><!-- hidden --><p>1 < 2 &eacute;</p>\
                    <a href=/t?id=1&amp;p=2>lien</a><br/><script>if (a < b) {}</script>\
                    </body></html>";
        let out = canonicalize(page);
        assert_eq!(
            out,
            "<!DOCTYPE html><html><head><title>A &amp; B</title></head>\
             <body class=\"x\" id=\"y\" hidden=\"\"><p>1 < 2 &eacute;</p>\
             <a href=\"/t?id=1&amp;p=2\">lien</a><br/><script>if (a < b) {}</script>\
             </body></html>"
        );
    }

    #[test]
    fn attributes_are_capped_deduplicated_and_quoted() {
        let mut page = String::from("<div a=1 a=2 q='say \"hi\"'");
        for i in 0..1000 {
            page.push_str(&format!(" x{i}"));
        }
        page.push_str(">text</div>");
        let out = canonicalize(&page);
        assert!(out.starts_with("<div a=\"1\" q=\"say &quot;hi&quot;\" x0=\"\" x1=\"\" "));
        let tag = &out[..out.find('>').unwrap()];
        assert_eq!(tag.matches("=\"").count(), crate::MAX_ATTRIBUTES);
        assert!(out.ends_with(">text</div>"));
    }

    #[test]
    fn a_quoted_gt_cannot_smuggle_attributes_past_the_cap() {
        // html5ever reads one tag across `>` inside quotes: the count must follow quotes.
        let mut page = String::from("<div");
        for i in 0..500 {
            page.push_str(&format!(" a{i}=\">\""));
        }
        page.push_str(">after");
        let out = canonicalize(&page);
        assert_eq!(out.matches("=\">\"").count(), crate::MAX_ATTRIBUTES);
        let doc = scraper::Html::parse_document(&out);
        let div = doc
            .select(&scraper::Selector::parse("div").unwrap())
            .next()
            .unwrap();
        assert_eq!(div.value().attrs().count(), crate::MAX_ATTRIBUTES);
        assert_eq!(div.text().collect::<String>(), "after");
    }

    #[test]
    fn nul_characters_and_broken_entities_do_not_survive_as_markup() {
        let out = canonicalize("<p>a\0b &bogus; &#xD800; <</p><p attr=\"\0\" b'c=1 d<e=2>x<\0y");
        assert!(!out.contains('\0'));
        assert!(out.contains("<p>ab &bogus; &#xD800; &lt;</p>"));
        // Dropping the NUL must not make `<y` a tag.
        assert!(out.ends_with("<p attr=\"\u{fffd}\" b'c=\"1\" d<e=\"2\">x&lt;y"));
    }
}
