//! HTML mail sanitising (C3, C4): what of a message's HTML may reach the reader's browser.
//!
//! The policy is an allow-list (ammonia, on html5ever, so the browser parses the output the way
//! the sanitiser did): no script, event handler, form, frame, object, embed, meta, base, link or
//! style element; links keep only safe schemes and open in a new tab without referrer; nothing may
//! load from the network. Remote images and CSS `url()` are removed and reported through
//! [`Sanitized::remote_content_blocked`], so the page can show the "external images are blocked"
//! banner. Images of the message itself (`cid:`) are inlined as `data:` URLs.
//!
//! The output is then wrapped by [`srcdoc_document`] and shown in a sandboxed iframe without
//! scripts or same-origin rights, under its own CSP: three layers, each enough alone for script.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a message's remote images may load (C3): blocked by default, shown when the reader
/// asks for them for this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteImages {
    Block,
    Show,
}

/// The result of [`sanitize_email_html`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    pub html: String,
    /// True when remote images were removed that [`RemoteImages::Show`] would keep.
    pub remote_content_blocked: bool,
}

/// CSS properties kept in `style` attributes. None of them takes a `url()`, so inline styles
/// cannot fetch anything (background, list-style-image, cursor, content and the like are out).
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "white-space",
    "vertical-align",
    "direction",
    "display",
    "width",
    "min-width",
    "max-width",
    "height",
    "min-height",
    "max-height",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-radius",
    "border-collapse",
    "border-spacing",
    "table-layout",
];

/// Presentational attributes that HTML mail still uses everywhere (tables, fonts).
const PRESENTATION_ATTRIBUTES: &[&str] =
    &["style", "align", "valign", "bgcolor", "width", "height", "border", "cellpadding", "cellspacing", "dir"];

/// Sanitises an HTML body. `inline_images` maps Content-IDs (without angle brackets) to `data:`
/// URLs of the message's own images.
/// With [`RemoteImages::Show`], `<img>` may load from `http(s):` (only there: CSS `url()` stays
/// out) and asks for it without a referrer.
pub fn sanitize_email_html(
    html: &str,
    inline_images: HashMap<String, String>,
    remote_images: RemoteImages,
) -> Sanitized {
    let blocked = Arc::new(AtomicBool::new(false));
    let blocked_in_filter = Arc::clone(&blocked);
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["font"])
        .add_tag_attributes("font", ["color", "face", "size"])
        .add_generic_attributes(PRESENTATION_ATTRIBUTES.iter().copied())
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect::<HashSet<_>>())
        // cid: must pass the scheme check to reach the filter below, which inlines or drops it.
        .add_url_schemes(["cid"])
        // Relative URLs would resolve against the web client's own origin, so none is kept.
        // Custom rather than Deny: Deny drops them before the filter below could see (and
        // report) protocol-relative `//host/` images.
        .url_relative(ammonia::UrlRelative::Custom(Box::new(drop_relative_url)))
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .set_tag_attribute_value("img", "referrerpolicy", "no-referrer")
        .attribute_filter(move |element, attribute, value| {
            filter_attribute(element, attribute, value, &inline_images, remote_images, &blocked_in_filter)
        });
    // Ammonia drops disallowed elements but keeps their text, except for these, whose content
    // is never meant to be read (or is markup in disguise).
    builder.add_clean_content_tags(["title", "noscript", "template", "xmp", "noembed", "noframes", "textarea"]);
    let html = builder.clean(&limit_nesting(html)).to_string();
    Sanitized { html, remote_content_blocked: blocked.load(Ordering::Relaxed) }
}

/// Elements nested deeper than this lose their tags (their text stays). HTML parsing checks the
/// stack of open elements at every tag, so its cost grows with depth times length: 100,000
/// nested `<div>`s took 35 s to open (issue 12, defect 5). Real mail nests a few dozen deep.
const MAX_NESTING: usize = 200;

/// Elements that have no end tag and so never nest (HTML Living Standard §13.1.2).
const VOID_ELEMENTS: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];

/// Drops the start and end tags of elements past [`MAX_NESTING`], in one pass, before the
/// parser sees them. It only counts tags (comments are skipped, quotes in attributes
/// respected); it need not be exact, since ammonia sanitises whatever comes out.
pub(crate) fn limit_nesting(html: &str) -> std::borrow::Cow<'_, str> {
    let bytes = html.as_bytes();
    if bytes.iter().filter(|&&b| b == b'<').count() <= MAX_NESTING {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let (mut depth, mut copied, mut at) = (0usize, 0usize, 0usize);
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'<') {
        let start = at + offset;
        if bytes[start + 1..].starts_with(b"!--") {
            let Some(end) = html[start + 4..].find("-->") else { break };
            at = start + 4 + end + 3;
            continue;
        }
        let closing = bytes.get(start + 1) == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_len = bytes[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            at = start + 1;
            continue;
        }
        let Some(end) = tag_end(bytes, name_start + name_len) else { break };
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let keep = if closing {
            let keep = depth <= MAX_NESTING;
            depth = depth.saturating_sub(1);
            keep
        } else if bytes[end - 1] == b'/' || VOID_ELEMENTS.contains(&name.as_str()) {
            true
        } else {
            depth += 1;
            depth <= MAX_NESTING
        };
        if !keep {
            out.push_str(&html[copied..start]);
            copied = end + 1;
        }
        at = end + 1;
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

/// The `>` that ends a tag whose name ends at `from`, skipping quoted attribute values.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn drop_relative_url(_url: &str) -> Option<std::borrow::Cow<'_, str>> {
    None
}

fn is_remote(url: &str) -> bool {
    let url = url.trim_start().to_ascii_lowercase();
    url.starts_with("http:") || url.starts_with("https:") || url.starts_with("//")
}

/// Runs after ammonia's allow-list and scheme checks, on the attributes that survived them.
fn filter_attribute<'u>(
    element: &str,
    attribute: &str,
    value: &'u str,
    inline_images: &HashMap<String, String>,
    remote_images: RemoteImages,
    blocked: &AtomicBool,
) -> Option<std::borrow::Cow<'u, str>> {
    let lower = value.trim_start().to_ascii_lowercase();
    match (element, attribute) {
        ("img", "src") => {
            if let Some(content_id) = lower.strip_prefix("cid:") {
                // Content-IDs compare case-insensitively in practice; the map keys are lowercase.
                let content_id = content_id.trim().trim_start_matches('<').trim_end_matches('>');
                return inline_images.get(content_id).map(|data_url| data_url.clone().into());
            }
            if !is_remote(value) {
                // Nothing else is an image of the message or of the web.
                return None;
            }
            match remote_images {
                RemoteImages::Block => {
                    blocked.store(true, Ordering::Relaxed);
                    None
                }
                // Protocol-relative URLs would follow the web client's own scheme: say https.
                RemoteImages::Show if lower.starts_with("//") => Some(format!("https:{}", value.trim_start()).into()),
                RemoteImages::Show => Some(value.into()),
            }
        }
        (_, "style") => {
            // The property allow-list already excludes url(); this is a second net for
            // escapes and legacy expression() that a CSS parser might read differently.
            // Background images are not shown even on request: too easily a tracker.
            let risky = ["url", "\\", "image", "@import", "expression", "behavior", "binding"];
            if risky.iter().any(|word| lower.contains(word)) { None } else { Some(value.into()) }
        }
        // cid: is only meaningful for inline images.
        _ if lower.starts_with("cid:") => None,
        _ => Some(value.into()),
    }
}

/// The `srcdoc` of the iframe showing a sanitised body: its own CSP (nothing may load except
/// `data:` images, remote images when shown, and inline styles), no referrer, links in a new
/// tab, readable defaults.
pub fn srcdoc_document(sanitized_html: &str, remote_images: RemoteImages) -> String {
    let img_src = match remote_images {
        RemoteImages::Block => "data:",
        RemoteImages::Show => "data: https: http:",
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src {img_src}; style-src 'unsafe-inline'\">\
<meta name=\"referrer\" content=\"no-referrer\"><base target=\"_blank\">\
<style>html{{color-scheme:light;background:#fff;color:#1f2328}}\
body{{margin:0;padding:16px;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;overflow-wrap:anywhere}}\
img{{max-width:100%;height:auto}}table{{max-width:100%}}a{{color:#1a56db}}</style>\
</head><body>{sanitized_html}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canary URL that must never survive sanitising.
    const CANARY_URL: &str = "http://127.0.0.1:9/canary";

    fn hostile_vectors() -> Vec<(String, String)> {
        // Relative: cargo runs a crate's tests in its folder, while env!("CARGO_MANIFEST_DIR") would
        // pin the folder of whichever clone filled the shared build cache.
        let path = "../../end2end/fixtures/hostile-html.jsonl";
        let text = std::fs::read_to_string(path).expect("the hostile-html fixture is readable");
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).expect("each fixture line is JSON");
                let id = value["id"].as_str().expect("each vector has an id").to_string();
                let html = value["html"].as_str().expect("each vector has html").to_string();
                (id, html)
            })
            .collect()
    }

    /// True when `html` has a start tag carrying an `on*` attribute. Text is escaped by the
    /// serializer, so any `<` followed by a tag name is real markup.
    fn has_event_handler(html: &str) -> bool {
        html.split('<').skip(1).any(|tag| {
            let tag = tag.split('>').next().unwrap_or("");
            tag.split(|c: char| c.is_whitespace() || c == '/')
                .skip(1)
                .any(|attribute| attribute.to_ascii_lowercase().starts_with("on") && attribute.contains('='))
        })
    }

    #[test]
    fn all_hostile_vectors_are_defused() {
        let vectors = hostile_vectors();
        assert_eq!(vectors.len(), 56, "the corpus has 56 vectors");
        for (id, html) in vectors {
            let html = html.replace("CANARY", CANARY_URL);
            let out = sanitize_email_html(&html, HashMap::new(), RemoteImages::Block).html;
            let lower = out.to_ascii_lowercase();
            assert!(!lower.contains("<script"), "{id}: script survived: {out}");
            assert!(!has_event_handler(&out), "{id}: event handler survived: {out}");
            assert!(!lower.contains("javascript:"), "{id}: javascript: survived: {out}");
            assert!(!lower.contains("vbscript:"), "{id}: vbscript: survived: {out}");
            assert!(!lower.contains("data:"), "{id}: data: URL survived: {out}");
            assert!(!out.contains("127.0.0.1:9"), "{id}: canary URL survived: {out}");
            for tag in ["<iframe", "<object", "<embed", "<form", "<meta", "<base", "<link", "<style", "<svg", "<math"] {
                assert!(!lower.contains(tag), "{id}: {tag} survived: {out}");
            }
            if html.contains("safe text") {
                assert!(out.contains("safe text"), "{id}: lost the safe text: {out}");
            }
        }
    }

    #[test]
    fn the_detector_finds_handlers() {
        // The check above is only as good as this helper.
        assert!(has_event_handler("<p>x</p><img src=\"x\" onerror=\"y\">"));
        assert!(has_event_handler("<svg/onload=x>"));
        assert!(!has_event_handler("<p>onerror=1</p>"));
        assert!(!has_event_handler("&lt;img onerror=1&gt;"));
    }

    #[test]
    fn remote_images_are_removed_and_reported() {
        for (html, want_blocked) in [
            ("<p>hi</p><img src=\"https://tracker.example/p.gif\">", true),
            ("<p>hi</p><img src=\"//tracker.example/p.gif\">", true),
            // A background is removed too, but showing images would not bring it back.
            ("<p style=\"background:url(https://x.example/a.png)\">hi</p>", false),
            ("<p style=\"color:red\">hi</p>", false),
            ("<p>hi</p>", false),
        ] {
            let out = sanitize_email_html(html, HashMap::new(), RemoteImages::Block);
            assert_eq!(out.remote_content_blocked, want_blocked, "{html} -> {}", out.html);
            assert!(!out.html.contains("example"), "{html} -> {}", out.html);
            assert!(out.html.contains("hi"), "{html} -> {}", out.html);
        }
    }

    #[test]
    fn links_open_in_a_new_tab_without_referrer() {
        let out = sanitize_email_html(
            "<a href=\"https://example.org/\" ping=\"https://p.example\">x</a>",
            HashMap::new(),
            RemoteImages::Block,
        );
        assert!(out.html.contains("href=\"https://example.org/\""), "{}", out.html);
        assert!(out.html.contains("target=\"_blank\""), "{}", out.html);
        assert!(out.html.contains("rel=\"noopener noreferrer\""), "{}", out.html);
        assert!(!out.html.contains("ping"), "{}", out.html);
    }

    #[test]
    fn inline_images_of_the_message_are_inlined_and_others_dropped() {
        let images = HashMap::from([("logo@facteur.test".to_string(), "data:image/png;base64,AAAA".to_string())]);
        let out = sanitize_email_html(
            "<img src=\"cid:logo@facteur.test\" alt=\"logo\"><img src=\"cid:other\">",
            images,
            RemoteImages::Block,
        );
        assert_eq!(out.html.matches("data:image/png;base64,AAAA").count(), 1, "{}", out.html);
        assert!(!out.html.contains("cid:"), "{}", out.html);
        assert!(!out.remote_content_blocked);
    }

    /// Issue 12, defect 5: deep nesting made opening a message quadratic. Tags past the limit
    /// are dropped before parsing; text is kept, and normal mail is untouched.
    #[test]
    fn issue_12_deep_nesting_is_flattened_before_parsing() {
        let depth = 100_000;
        let html = format!("{}deep text{}", "<div>".repeat(depth), "</div>".repeat(depth));
        let limited = limit_nesting(&html);
        assert_eq!(limited.matches("<div>").count(), MAX_NESTING);
        assert_eq!(limited.matches("</div>").count(), MAX_NESTING);
        let sanitized = sanitize_email_html(&html, HashMap::new(), RemoteImages::Block).html;
        assert!(sanitized.contains("deep text"));
        assert!(sanitized.matches("<div>").count() <= MAX_NESTING);
        // Quotes, comments and void elements do not confuse the count.
        let tricky = format!("{}<p title=\"a > b\"><!-- <div> --><br><img src=x>ok</p>", "<span>x</span>".repeat(300));
        assert_eq!(limit_nesting(&tricky), tricky);
        let normal = "<table><tr><td><p>Hello <b>there</b></p></td></tr></table>";
        assert!(matches!(limit_nesting(normal), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn mail_layout_survives() {
        let out = sanitize_email_html(
            "<table width=\"600\" bgcolor=\"#eeeeee\"><tr><td style=\"padding:8px;color:#333\"><font color=\"red\">Hi</font></td></tr></table>",
            HashMap::new(),
            RemoteImages::Block,
        );
        for kept in ["width=\"600\"", "bgcolor=\"#eeeeee\"", "padding:8px", "<font color=\"red\">"] {
            assert!(out.html.contains(kept), "{kept} missing from {}", out.html);
        }
    }

    #[test]
    fn the_srcdoc_carries_its_own_policy() {
        let doc = srcdoc_document("<p>x</p>", RemoteImages::Block);
        assert!(doc.contains("default-src 'none'; img-src data:; style-src 'unsafe-inline'"));
        assert!(doc.ends_with("<body><p>x</p></body></html>"));
        let shown = srcdoc_document("<p>x</p>", RemoteImages::Show);
        assert!(shown.contains("default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'"));
    }

    #[test]
    fn shown_images_load_from_the_web_without_referrer_and_nothing_else_changes() {
        let html = "<img src=\"https://pics.example/a.png\"><img src=\"//pics.example/b.png\">\
            <img src=\"/relative.png\"><img src=\"javascript:alert(1)\"><img src=\"data:image/png;base64,AAAA\">\
            <p style=\"background:url(https://pics.example/c.png)\">hi</p>";
        let out = sanitize_email_html(html, HashMap::new(), RemoteImages::Show);
        assert!(!out.remote_content_blocked);
        assert!(out.html.contains("src=\"https://pics.example/a.png\""), "{}", out.html);
        assert!(out.html.contains("src=\"https://pics.example/b.png\""), "{}", out.html);
        assert_eq!(out.html.matches("referrerpolicy=\"no-referrer\"").count(), 5, "{}", out.html);
        for gone in ["relative", "javascript", "data:", "c.png"] {
            assert!(!out.html.contains(gone), "{gone} in {}", out.html);
        }
    }

    #[test]
    fn hostile_vectors_stay_defused_with_images_shown() {
        for (id, html) in hostile_vectors() {
            let out = sanitize_email_html(&html.replace("CANARY", CANARY_URL), HashMap::new(), RemoteImages::Show).html;
            let lower = out.to_ascii_lowercase();
            assert!(!lower.contains("<script"), "{id}: {out}");
            assert!(!has_event_handler(&out), "{id}: {out}");
            for bad in [
                "javascript:",
                "vbscript:",
                "data:",
                "<iframe",
                "<object",
                "<embed",
                "<form",
                "<meta",
                "<base",
                "<link",
                "<style",
                "<svg",
            ] {
                assert!(!lower.contains(bad), "{id}: {bad} survived: {out}");
            }
            // The canary may now appear, but only as an image source.
            for (index, _) in out.match_indices(CANARY_URL) {
                assert!(out[..index].ends_with("src=\""), "{id}: canary outside an img src: {out}");
            }
        }
    }
}
