//! A small HTML tokenizer: one forward pass, no recursion, every token a slice of the input.
//!
//! It follows the WHATWG tokenizer where pages differ in practice (quoted and unquoted
//! attribute values, `/>`, comments, doctypes, bogus comments, the raw-text elements whose
//! content is not markup) and leaves character references undecoded. It is not a second
//! parser: it only has to split a page where `html5ever` would, closely enough that a tree built
//! from its tokens written back ([`crate::canonicalize`]) is the tree of the original page.

/// Distinct attributes kept per tag; later ones are dropped. Real tags carry a few dozen at
/// most; `html5ever` compares each attribute with all earlier ones of its tag.
pub const MAX_ATTRIBUTES: usize = 128;

/// One token; text and values are raw (character references undecoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    Text(&'a str),
    StartTag(Tag<'a>),
    EndTag(&'a str),
    /// What stands between `<!` and `>` of a doctype.
    Doctype(&'a str),
    /// Comments, bogus comments and anything else that is neither text nor element.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    pub name: &'a str,
    /// At most [`MAX_ATTRIBUTES`], first occurrence of each name (ASCII case folded).
    pub attributes: Vec<(&'a str, &'a str)>,
    pub self_closing: bool,
}

/// Elements whose content is text up to their end tag (scripting on, as scraper parses).
fn raw_text_element(name: &str) -> bool {
    [
        "script",
        "style",
        "textarea",
        "title",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "plaintext",
    ]
    .iter()
    .any(|e| e.eq_ignore_ascii_case(name))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

pub(crate) struct Tokens<'a> {
    s: &'a str,
    pos: usize,
    /// Inside a raw-text element: the name whose end tag ends it.
    raw_until: Option<&'a str>,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(s: &'a str) -> Tokens<'a> {
        Tokens {
            s,
            pos: 0,
            raw_until: None,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.bytes().get(i).copied()
    }

    /// Text up to `end`, and the position moved there.
    fn text_to(&mut self, end: usize) -> Token<'a> {
        let text = self.s.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Token::Text(text)
    }

    /// The position after the next `>` from `from` (or the end).
    fn after_gt(&self, from: usize) -> usize {
        memchr::memchr(b'>', self.bytes().get(from..).unwrap_or_default())
            .map_or(self.s.len(), |p| from + p + 1)
    }

    /// Raw text: up to `</name` followed by a space, `/` or `>`.
    fn raw_text(&mut self, name: &str) -> Token<'a> {
        let b = self.bytes();
        let mut i = self.pos;
        while let Some(p) = memchr::memchr(b'<', b.get(i..).unwrap_or_default()) {
            let lt = i + p;
            let name_at = lt + 2;
            let name_end = name_at + name.len();
            let closes = b.get(lt + 1) == Some(&b'/')
                && b.get(name_at..name_end)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
                && b.get(name_end)
                    .is_some_and(|&c| is_space(c) || c == b'/' || c == b'>');
            if closes {
                self.raw_until = None;
                return self.text_to(lt);
            }
            i = lt + 1;
        }
        self.raw_until = None;
        self.text_to(self.s.len())
    }

    /// A start or end tag whose name starts at `name_at`; `None` when the page ends inside it
    /// (the tag is then dropped, as the standard says).
    fn tag(&mut self, name_at: usize, end_tag: bool) -> Option<Token<'a>> {
        let b = self.bytes();
        let mut i = name_at;
        while i < b.len() && !is_space(b[i]) && b[i] != b'/' && b[i] != b'>' {
            i += 1;
        }
        let name = self.s.get(name_at..i)?;
        let mut tag = Tag {
            name,
            attributes: Vec::new(),
            self_closing: false,
        };
        loop {
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            match b.get(i)? {
                b'>' => {
                    i += 1;
                    break;
                }
                b'/' => {
                    i += 1;
                    if b.get(i) == Some(&b'>') {
                        tag.self_closing = true;
                        i += 1;
                        break;
                    }
                    continue;
                }
                _ => {}
            }
            // An attribute name; a leading `=` belongs to it.
            let attr_at = i;
            i += 1;
            while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let attr_name = self.s.get(attr_at..i)?;
            let mut value = "";
            let mut j = i;
            while j < b.len() && is_space(b[j]) {
                j += 1;
            }
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && is_space(b[j]) {
                    j += 1;
                }
                match b.get(j)? {
                    q @ (b'"' | b'\'') => {
                        let start = j + 1;
                        let len = memchr::memchr(*q, b.get(start..)?)?;
                        value = self.s.get(start..start + len)?;
                        j = start + len + 1;
                    }
                    b'>' => {}
                    _ => {
                        let start = j;
                        while j < b.len() && !is_space(b[j]) && b[j] != b'>' {
                            j += 1;
                        }
                        value = self.s.get(start..j)?;
                    }
                }
                i = j;
            }
            let fresh = !tag
                .attributes
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(attr_name));
            if tag.attributes.len() < MAX_ATTRIBUTES && fresh {
                tag.attributes.push((attr_name, value));
            }
        }
        self.pos = i;
        if end_tag {
            return Some(Token::EndTag(name));
        }
        // `<script/>` still opens a script: HTML ignores `/` on non-void elements.
        if raw_text_element(name) {
            self.raw_until = Some(name);
        }
        Some(Token::StartTag(tag))
    }

    /// Markup starting with `<` at `lt`, or `None` when that `<` is text.
    fn markup(&mut self, lt: usize) -> Option<Option<Token<'a>>> {
        let b = self.bytes();
        let next = self.at(lt + 1)?;
        if next.is_ascii_alphabetic() {
            return Some(self.tag(lt + 1, false));
        }
        if next == b'/' {
            return match self.at(lt + 2) {
                Some(c) if c.is_ascii_alphabetic() => Some(self.tag(lt + 2, true)),
                // `</>` vanishes; `</` and anything else opens a bogus comment.
                Some(_) => {
                    self.pos = self.after_gt(lt + 2);
                    Some(Some(Token::Ignored))
                }
                None => None,
            };
        }
        if next == b'?' {
            self.pos = self.after_gt(lt + 2);
            return Some(Some(Token::Ignored));
        }
        if next != b'!' {
            return None;
        }
        let rest = b.get(lt + 2..).unwrap_or_default();
        if rest.starts_with(b"--") {
            let body = lt + 4;
            // `<!-->` and `<!--->` close at once.
            let tail = b.get(body..).unwrap_or_default();
            self.pos = if tail.starts_with(b">") {
                body + 1
            } else if tail.starts_with(b"->") {
                body + 2
            } else {
                let close = memchr::memmem::find(tail, b"-->").map(|p| p + 3);
                let bang = memchr::memmem::find(tail, b"--!>").map(|p| p + 4);
                match (close, bang) {
                    (Some(a), Some(c)) => body + a.min(c),
                    (Some(a), None) | (None, Some(a)) => body + a,
                    (None, None) => self.s.len(),
                }
            };
            return Some(Some(Token::Ignored));
        }
        let end = self.after_gt(lt + 2);
        let inner = self
            .s
            .get(lt + 2..end.saturating_sub(1).max(lt + 2))
            .unwrap_or_default();
        self.pos = end;
        let is_doctype = inner
            .get(..7)
            .is_some_and(|d| d.eq_ignore_ascii_case("doctype"));
        Some(Some(if is_doctype && b.get(end - 1) == Some(&b'>') {
            Token::Doctype(inner)
        } else {
            Token::Ignored
        }))
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if self.pos >= self.s.len() {
            return None;
        }
        if let Some(name) = self.raw_until {
            if name.eq_ignore_ascii_case("plaintext") {
                return Some(self.text_to(self.s.len()));
            }
            return Some(self.raw_text(name));
        }
        let b = self.bytes();
        let mut from = self.pos;
        loop {
            let Some(p) = memchr::memchr(b'<', b.get(from..).unwrap_or_default()) else {
                return Some(self.text_to(self.s.len()));
            };
            let lt = from + p;
            if lt > self.pos {
                // Text first; the markup comes as the next token.
                if starts_markup(b, lt) {
                    return Some(self.text_to(lt));
                }
                from = lt + 1;
                continue;
            }
            match self.markup(lt) {
                Some(Some(token)) => return Some(token),
                // The page ended inside a tag: dropped.
                Some(None) => {
                    self.pos = self.s.len();
                    return None;
                }
                None => {
                    from = lt + 1;
                    // A `<` that opens nothing is text, up to the next `<`.
                    let next = memchr::memchr(b'<', b.get(from..).unwrap_or_default())
                        .map_or(self.s.len(), |p| from + p);
                    return Some(self.text_to(next));
                }
            }
        }
    }
}

/// Whether the `<` at `lt` opens markup (cheap: looks at the next two bytes only).
fn starts_markup(b: &[u8], lt: usize) -> bool {
    match b.get(lt + 1) {
        Some(c) if c.is_ascii_alphabetic() => true,
        Some(b'/') => b.get(lt + 2).is_some(),
        Some(b'!' | b'?') => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<Token<'_>> {
        Tokens::new(s).collect()
    }

    #[test]
    fn tags_attributes_and_text() {
        let t = tokens("<p class=\"a b\" id='x' data-n=3 hidden>1 < 2 &amp; 3</p><br/>");
        assert_eq!(
            t,
            vec![
                Token::StartTag(Tag {
                    name: "p",
                    attributes: vec![
                        ("class", "a b"),
                        ("id", "x"),
                        ("data-n", "3"),
                        ("hidden", "")
                    ],
                    self_closing: false
                }),
                Token::Text("1 < 2 &amp; 3"),
                Token::EndTag("p"),
                Token::StartTag(Tag {
                    name: "br",
                    attributes: vec![],
                    self_closing: true
                }),
            ]
        );
    }

    #[test]
    fn quoted_values_hold_markup_characters() {
        let t = tokens("<a title=\"x > y <b>\" href=/t?a=1&b=2>z</a>");
        assert_eq!(
            t[0],
            Token::StartTag(Tag {
                name: "a",
                attributes: vec![("title", "x > y <b>"), ("href", "/t?a=1&b=2")],
                self_closing: false
            })
        );
        assert_eq!(t[1], Token::Text("z"));
    }

    #[test]
    fn comments_doctypes_and_raw_text() {
        let t = tokens(
            "<!DOCTYPE html><!-- <p>no --><!--><?xml x?><script>if (a</b) x='</p>'</script >\
             <title>A <b></title>",
        );
        assert_eq!(
            t,
            vec![
                Token::Doctype("DOCTYPE html"),
                Token::Ignored,
                Token::Ignored,
                Token::Ignored,
                Token::StartTag(Tag {
                    name: "script",
                    attributes: vec![],
                    self_closing: false
                }),
                Token::Text("if (a</b) x='</p>'"),
                Token::EndTag("script"),
                Token::StartTag(Tag {
                    name: "title",
                    attributes: vec![],
                    self_closing: false
                }),
                Token::Text("A <b>"),
                Token::EndTag("title"),
            ]
        );
    }

    #[test]
    fn duplicates_dropped_and_attributes_capped() {
        let mut page = String::from("<div A=1 a=2");
        for i in 0..1000 {
            page.push_str(&format!(" x{i}"));
        }
        page.push('>');
        let t = tokens(&page);
        let Token::StartTag(tag) = &t[0] else {
            panic!("{t:?}")
        };
        assert_eq!(tag.attributes.len(), MAX_ATTRIBUTES);
        assert_eq!(tag.attributes[0], ("A", "1"));
        assert_eq!(tag.attributes[1], ("x0", ""));
    }

    #[test]
    fn a_page_ending_inside_a_tag_drops_the_tag() {
        assert_eq!(
            tokens("text<div a=\"unterminated"),
            vec![Token::Text("text")]
        );
        assert_eq!(tokens("<"), vec![Token::Text("<")]);
        assert_eq!(tokens("a <3 b"), vec![Token::Text("a <3 b")]);
    }
}
