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
/// address, and [`STYLE_PROPERTIES`] left.
pub fn clean_composed_html(html: &str) -> String {
    let tags: HashSet<&str> = TAGS.iter().copied().collect();
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    attributes.insert("a", ["href"].into_iter().collect());
    ammonia::Builder::default()
        .tags(tags)
        .tag_attributes(attributes)
        .generic_attributes(["style"].into_iter().collect())
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .clean(html)
        .to_string()
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
                        walk.quote_depth += 1;
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
                        let indent = "  ".repeat(walk.lists.len().saturating_sub(1));
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
        let line = line.trim_end();
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
