//! Rich text written in the composer (B3): its HTML cleaned to the little a message needs, and
//! the text/plain alternative made from it.
//!
//! The editor is the browser's own (`contenteditable`), so what arrives is whatever it or a
//! paste produced: it is cleaned here with a policy far narrower than the reader's, because it
//! is shown again inside the web client's own page when the draft is taken up.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, EndTag, StartTag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer,
};

/// The tags the toolbar makes (and a paste may bring that mean the same).
const TAGS: &[&str] = &[
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
];

/// The images an editor may hold: pictures put in the text, as `data:` URLs until the message
/// is built (then they are parts of it, `cid:`). Never an address on the network: a draft
/// shown again must not call anyone.
const IMAGE_PREFIXES: &[&str] =
    &["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,", "data:image/webp;base64,"];

/// What a `style` attribute may say: the toolbar's size, colour and alignment.
const STYLE_PROPERTIES: &[&str] = &[
    "background-color",
    "color",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-decoration-line",
];

/// `html` (a fragment, as the editor holds it) with only [`TAGS`], links to the web or to an
/// address, images of [`IMAGE_PREFIXES`], and [`STYLE_PROPERTIES`] left.
pub fn clean_composed_html(html: &str) -> String {
    let tags: HashSet<&str> = TAGS.iter().copied().collect();
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    attributes.insert("a", ["href"].into_iter().collect());
    attributes.insert("img", ["src", "alt"].into_iter().collect());
    // The composer finds the signature's block by it (B13).
    attributes.insert("div", ["data-signature"].into_iter().collect());
    let cleaned = ammonia::Builder::default()
        .tags(tags)
        .tag_attributes(attributes)
        .generic_attributes(["style"].into_iter().collect())
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect())
        .url_schemes(["http", "https", "mailto", "data"].into_iter().collect())
        // `data:` only for an image's pixels, never a link. A link's scheme is read as the
        // browser reads it (a URL parser drops tabs and line breaks: "d&#10;ata:" is data:).
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("img", "src") if IMAGE_PREFIXES.iter().any(|prefix| value.starts_with(prefix)) => Some(value.into()),
            ("img", "src") => None,
            (_, "href") => match ammonia::Url::parse(value) {
                Ok(url) if matches!(url.scheme(), "http" | "https" | "mailto") => Some(value.into()),
                _ => None,
            },
            _ => Some(value.into()),
        })
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        // Nesting is bounded first, as for mail that comes in: the text version's indents and
        // quote marks, and the parser's time, grow with it.
        .clean(&crate::sanitize::limit_nesting(html))
        .to_string();
    without_empty_images(&cleaned)
}

/// Cleaned HTML without the `<img>` whose source was dropped (a picture from the network):
/// nothing to show, and "[image]" in the text version for nothing.
fn without_empty_images(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<img") {
        out.push_str(&rest[..at]);
        let end = at + tag_len(&rest[at..]);
        let tag = &rest[at..end];
        if src_value(tag).is_some() {
            out.push_str(tag);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Where the value of the `src` attribute of `tag` (cleaned HTML) is, as a byte range: found
/// outside quotes only (an `alt` may end with the letters `src=`).
fn src_value(tag: &str) -> Option<std::ops::Range<usize>> {
    const SRC: &str = " src=\"";
    let mut quoted = false;
    for (index, c) in tag.char_indices() {
        if !quoted && tag[index..].starts_with(SRC) {
            let start = index + SRC.len();
            let end = tag[start..].find('"').map_or(tag.len(), |end| start + end);
            return Some(start..end);
        }
        if c == '"' {
            quoted = !quoted;
        }
    }
    None
}

/// The length of the tag `html` starts with, up to its closing `>`. The cleaner's output
/// quotes every attribute value with `"` and writes a `"` inside one as `&quot;`, so a `>`
/// outside quotes ends the tag (one inside, as in `alt="a>b"`, does not). In text, `<` is
/// always `&lt;`, so `<img` only ever starts a tag.
fn tag_len(html: &str) -> usize {
    let mut quoted = false;
    for (index, c) in html.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return index + 1,
            _ => {}
        }
    }
    html.len()
}

/// A picture of the text, as a part of the message built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// Without angle brackets.
    pub content_id: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Cleaned composed HTML with its `data:` images taken out as parts: each `src` becomes
/// `cid:` and the id `content_id(n)` gives the n-th distinct image (the same picture twice is
/// one part). An image whose data does not decode, or larger than a picture shown in the text
/// may be ([`types::MAX_INLINE_IMAGE_BYTES`]), loses its source.
pub fn take_inline_images(html: &str, mut content_id: impl FnMut(usize) -> String) -> (String, Vec<InlineImage>) {
    use base64::Engine as _;
    let mut images: Vec<InlineImage> = Vec::new();
    let mut by_data: HashMap<&str, usize> = HashMap::new();
    let mut out = String::with_capacity(html.len().min(64 * 1024));
    let mut rest = html;
    // Only in an `<img>` tag: the same letters typed in the text are text.
    while let Some(at) = rest.find("<img") {
        let end = at + tag_len(&rest[at..]);
        let tag = &rest[at..end];
        let Some(src) = src_value(tag) else {
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        };
        let value = &tag[src.clone()];
        out.push_str(&rest[..at + src.start]);
        rest = &rest[at + src.end..];
        let Some(prefix) = IMAGE_PREFIXES.iter().find(|prefix| value.starts_with(**prefix)) else {
            out.push_str(value);
            continue;
        };
        if let Some(&index) = by_data.get(value) {
            out.push_str(&format!("cid:{}", images[index].content_id));
            continue;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(&value[prefix.len()..]);
        let Ok(bytes) = decoded
            .map_err(|_| ())
            .and_then(|b| if b.len() <= types::MAX_INLINE_IMAGE_BYTES { Ok(b) } else { Err(()) })
        else {
            continue;
        };
        let content_type = prefix["data:".len()..prefix.len() - ";base64,".len()].to_string();
        let image = InlineImage { content_id: content_id(images.len()), content_type, bytes };
        out.push_str(&format!("cid:{}", image.content_id));
        by_data.insert(value, images.len());
        images.push(image);
    }
    out.push_str(rest);
    (out, images)
}

/// The text/plain alternative of cleaned composed HTML: a line per block, list items marked,
/// quotes behind "> ", a link's address after its words when they differ.
pub fn composed_to_text(html: &str) -> String {
    let sink = TextSink::default();
    let tokenizer = Tokenizer::new(sink, Default::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    let text = tokenizer.sink.text.take();
    tidy_lines(&text)
}

/// How deep quotes and lists show in the text version.
const MAX_TEXT_DEPTH: usize = 10;

/// Walks the tokens of cleaned HTML, writing text as it goes. (A token stream is enough: the
/// HTML is the cleaner's output, well formed; no DOM is built.)
#[derive(Default)]
struct TextSink {
    text: RefCell<String>,
    state: RefCell<Walk>,
}

#[derive(Default)]
struct Walk {
    quote_depth: usize,
    /// For each open list, the next number (`None`: bullets).
    lists: Vec<Option<u32>>,
    /// The open link's address and the length of the text when it opened.
    link: Option<(String, usize)>,
    in_pre: bool,
}

impl TextSink {
    /// Ends the current line unless it is already empty.
    fn break_line(text: &mut String) {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    }
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let mut text = self.text.borrow_mut();
        let mut walk = self.state.borrow_mut();
        match token {
            TagToken(tag) => {
                let name: &str = &tag.name;
                match (tag.kind, name) {
                    (StartTag, "br") => {
                        // A line of its own (the editor's empty line) is still part of a quote.
                        if text.is_empty() || text.ends_with('\n') {
                            text.push_str(&">".repeat(walk.quote_depth));
                        }
                        text.push('\n');
                    }
                    (StartTag, "hr") => {
                        Self::break_line(&mut text);
                        text.push_str("----\n");
                    }
                    (StartTag, "blockquote") => {
                        Self::break_line(&mut text);
                        // Deeper quotes than this read as this deep (each level costs a
                        // character on every line).
                        walk.quote_depth = (walk.quote_depth + 1).min(MAX_TEXT_DEPTH);
                    }
                    (EndTag, "blockquote") => {
                        Self::break_line(&mut text);
                        walk.quote_depth = walk.quote_depth.saturating_sub(1);
                    }
                    (StartTag, "ul") => walk.lists.push(None),
                    (StartTag, "ol") => walk.lists.push(Some(1)),
                    (EndTag, "ul" | "ol") => {
                        walk.lists.pop();
                        Self::break_line(&mut text);
                    }
                    (StartTag, "li") => {
                        Self::break_line(&mut text);
                        let indent = "  ".repeat(walk.lists.len().saturating_sub(1).min(MAX_TEXT_DEPTH));
                        let marker = match walk.lists.last_mut() {
                            Some(Some(number)) => {
                                *number += 1;
                                format!("{}. ", *number - 1)
                            }
                            _ => "- ".to_string(),
                        };
                        push_text(&mut text, walk.quote_depth, &format!("{indent}{marker}"));
                    }
                    (StartTag, "a") => {
                        let href = tag.attrs.iter().find(|a| &*a.name.local == "href").map(|a| a.value.to_string());
                        walk.link = href.map(|href| (href, text.len()));
                    }
                    (EndTag, "a") => {
                        if let Some((href, start)) = walk.link.take() {
                            let words = text[start.min(text.len())..].trim().to_string();
                            let shown = href.strip_prefix("mailto:").unwrap_or(&href);
                            if !words.is_empty() && words != shown && words != href {
                                text.push_str(&format!(" <{shown}>"));
                            } else if words.is_empty() {
                                text.push_str(shown);
                            }
                        }
                    }
                    (StartTag, "pre") => {
                        Self::break_line(&mut text);
                        walk.in_pre = true;
                    }
                    (EndTag, "pre") => {
                        walk.in_pre = false;
                        Self::break_line(&mut text);
                    }
                    (StartTag, "img") => {
                        let alt = tag.attrs.iter().find(|a| &*a.name.local == "alt").map(|a| a.value.to_string());
                        push_text(
                            &mut text,
                            walk.quote_depth,
                            &format!("[{}]", alt.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| "image".into())),
                        );
                    }
                    (StartTag, "b" | "strong") | (EndTag, "b" | "strong") => text.push('*'),
                    (StartTag, "i" | "em") | (EndTag, "i" | "em") => text.push('_'),
                    (_, "div" | "p" | "h1" | "h2" | "h3" | "li") => Self::break_line(&mut text),
                    _ => {}
                }
            }
            CharacterTokens(chars) => {
                let chars: String = if walk.in_pre {
                    chars.to_string()
                } else {
                    // HTML's white space collapses; non-breaking spaces stay (but as spaces).
                    let mut collapsed = String::new();
                    for c in chars.chars() {
                        let c = if c == '\u{a0}' { ' ' } else { c };
                        if c.is_ascii_whitespace() {
                            let at_start = collapsed.is_empty() && ends_blank(&text);
                            if !collapsed.ends_with(' ') && !at_start {
                                collapsed.push(' ');
                            }
                        } else {
                            collapsed.push(c);
                        }
                    }
                    collapsed
                };
                push_text(&mut text, walk.quote_depth, &chars);
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// Whether the text ends a line or is empty: a space there would start a line.
fn ends_blank(text: &str) -> bool {
    text.is_empty() || text.ends_with('\n') || text.ends_with(' ')
}

/// Appends `chars`, each new line of a quote behind its "> " marks.
fn push_text(text: &mut String, quote_depth: usize, chars: &str) {
    for (index, piece) in chars.split('\n').enumerate() {
        if index > 0 {
            text.push('\n');
        }
        if quote_depth > 0 && (text.is_empty() || text.ends_with('\n')) && (!piece.is_empty() || index > 0) {
            text.push_str(&">".repeat(quote_depth));
            text.push(' ');
        }
        text.push_str(piece);
    }
}

/// Lines without trailing spaces, at most one blank line in a row, none at the ends; a quote's
/// blank line is ">" alone.
fn tidy_lines(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        // The signature's separator keeps its space (RFC 3676 §4.3).
        let line = if line == "-- " { line } else { line.trim_end() };
        let blank = line.trim_start_matches(['>', ' ']).is_empty();
        if blank && lines.last().is_some_and(|last: &String| last.trim_start_matches(['>', ' ']).is_empty()) {
            continue;
        }
        lines.push(line.to_string());
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_toolbar_makes_is_kept() {
        let dirty = r#"<div style="color: red; position: fixed; background-image: url(https://t.example/x)">Rouge</div><script>alert(1)</script><img src="https://t.example/p.gif" onerror="alert(1)"><a href="javascript:alert(1)" onclick="x()">lien</a><a href="https://example.org/a?b=1&amp;c">ok</a><iframe src="https://evil.example"></iframe><span style="font-size: x-large">Grand</span><!-- note -->"#;
        let clean = clean_composed_html(dirty);
        assert!(clean.contains(r#"<div style="color:red">Rouge</div>"#), "{clean}");
        assert!(!clean.contains("script") && !clean.contains("alert") && !clean.contains("img"), "{clean}");
        assert!(!clean.contains("iframe") && !clean.contains("url(") && !clean.contains("position"), "{clean}");
        assert!(clean.contains(r#"<a rel="noopener noreferrer">lien</a>"#), "{clean}");
        assert!(clean.contains(r#"href="https://example.org/a?b=1&amp;c""#), "{clean}");
        assert!(clean.contains(r#"<span style="font-size:x-large">Grand</span>"#), "{clean}");
        assert!(!clean.contains("note"), "comments go");
    }

    #[test]
    fn pictures_stay_as_data_and_leave_as_parts() {
        let png = "data:image/png;base64,iVBORw0KGgo=";
        let dirty = format!(
            r#"<div><img src="{png}" alt="logo"><img src="https://t.example/p.gif"><img src="data:image/svg+xml;base64,PHN2Zz4="><a href="data:text/html;base64,PHNjcmlwdD4=">x</a><img src="{png}"></div>"#
        );
        let clean = clean_composed_html(&dirty);
        assert_eq!(clean.matches(png).count(), 2, "{clean}");
        assert!(!clean.contains("t.example") && !clean.contains("svg") && !clean.contains("text/html"), "{clean}");
        let (html, images) = take_inline_images(&clean, |n| format!("img{n}@example.org"));
        assert_eq!(images.len(), 1, "the same picture twice is one part");
        assert_eq!(images[0].content_type, "image/png");
        assert_eq!(images[0].bytes, b"\x89PNG\r\n\x1a\n");
        assert_eq!(html.matches("cid:img0@example.org").count(), 2, "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert_eq!(composed_to_text(&clean), "[logo]x[image]", "pictures from elsewhere are gone");
        // An `alt` ending in `src=` is not the source; an image without a source does not stop
        // the ones after it.
        let tricky = clean_composed_html(&format!(r#"<img alt="x src="><img alt="y" src="{png}">"#));
        let (html, images) = take_inline_images(&tricky, |n| format!("img{n}@example.org"));
        assert_eq!(images.len(), 1, "{html}");
        assert!(!html.contains("data:"), "{html}");
        // A link smuggling `data:` past a naive check is dropped; deep nesting is bounded.
        let smuggled =
            clean_composed_html(r#"<a href="d&#10;ata:text/html,x">x</a><a href="java&#9;script:alert(1)">y</a>"#);
        assert!(!smuggled.contains("href"), "{smuggled}");
        for levels in [5_000, 50_000] {
            let deep = format!("{}x{}", "<ul><li>".repeat(levels), "</li></ul>".repeat(levels));
            assert!(composed_to_text(&clean_composed_html(&deep)).len() < 10_000, "bounded whatever the depth");
        }
        // The same letters in the text are text; an `alt` with a `>` does not end its tag.
        let typed = clean_composed_html(&format!(r#"<div>src="{png}"<img alt="a>b" src="{png}"></div>"#));
        let (html, images) = take_inline_images(&typed, |n| format!("img{n}@example.org"));
        assert_eq!(images.len(), 1);
        assert_eq!(html, format!(r#"<div>src="{png}"<img alt="a&gt;b" src="cid:img0@example.org"></div>"#));
    }

    #[test]
    fn the_text_alternative_keeps_the_shape() {
        let html = "<div>Bonjour <b>Ana</b>,</div><div><br></div><div>Voici l’ordre du jour&nbsp;:</div>\
            <ol><li>Budget</li><li>Été &amp; <i>fête</i></li></ol><ul><li>un</li><li>deux<ul><li>deux bis</li></ul></li></ul>\
            <div>Voir <a href=\"https://example.org/cr\">le compte rendu</a> ou \
            <a href=\"mailto:ana@example.org\">ana@example.org</a>.</div>\
            <blockquote><div>Texte cité</div><div><br></div><blockquote>plus ancien</blockquote></blockquote>\
            <div style=\"text-align:center\">Fin</div>";
        assert_eq!(
            composed_to_text(html),
            "Bonjour *Ana*,\n\nVoici l’ordre du jour :\n1. Budget\n2. Été & _fête_\n- un\n- deux\n  - deux bis\n\
             Voir le compte rendu <https://example.org/cr> ou ana@example.org.\n> Texte cité\n>\n>> plus ancien\nFin"
        );
    }

    #[test]
    fn the_editors_lines_and_quotes_come_back_as_text() {
        // What the composer makes of a plain text reply (the app's `rich_text::text_to_html`).
        let html = "<div>Bonjour,</div><div><br></div><div>À &lt;lundi&gt; &amp; après.</div><div><br></div>\
             <div>Le 7 décembre, Jo a écrit :</div><blockquote><div>Premier</div><div><br></div>\
             <blockquote><div>Ancien</div></blockquote><div>Dernier</div></blockquote>";
        let text = "Bonjour,\n\nÀ <lundi> & après.\n\nLe 7 décembre, Jo a écrit :\n> Premier\n>\n>> Ancien\n> Dernier";
        assert_eq!(composed_to_text(&clean_composed_html(html)), text);
    }
}
