//! Entry point for the fuzz target in `fuzz/` (feature `fuzzing`), and the replay of the
//! inputs it found as regression tests on stable (`fuzz/regressions/render/`).
//!
//! The oracle is the sanitiser's promise, checked on its output with a scanner of the markup
//! (the serializer escapes `<` in text, and quotes every attribute value): no element that
//! runs, loads or submits anything, no event handler, and with remote images blocked no
//! `src` but `data:` and no CSS `url(`.

use crate::{Body, RemoteImages, render, sanitize_email_html};

/// Elements that must never come out of the sanitiser.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
    "textarea", "select", "base", "link", "meta", "svg", "math", "template", "noscript", "video", "audio", "source",
    "track", "portal",
];

/// Renders `data` as a whole message (the facts too, as delivery computes them), and
/// sanitises it as HTML directly. Panics when an invariant breaks.
pub fn render_message(data: &[u8]) {
    let _ = facts::Facts::of(data);
    for remote_images in [RemoteImages::Block, RemoteImages::Show] {
        if let Some(rendered) = render(data, remote_images)
            && let Body::Html { srcdoc, .. } = &rendered.body
        {
            let body = srcdoc
                .split_once("<body>")
                .and_then(|(_, rest)| rest.strip_suffix("</body></html>"))
                .expect("the srcdoc wraps the body");
            check_sanitized(body, remote_images);
        }
        let html = String::from_utf8_lossy(data);
        let sanitized = sanitize_email_html(&html, Default::default(), remote_images);
        check_sanitized(&sanitized.html, remote_images);
    }
}

/// Panics when sanitised `html` holds something the policy forbids.
fn check_sanitized(html: &str, remote_images: RemoteImages) {
    for tag in tags(html) {
        assert!(!FORBIDDEN_ELEMENTS.contains(&tag.name.as_str()), "<{}> survived: {html}", tag.name);
        for (name, value) in &tag.attributes {
            assert!(!name.starts_with("on"), "the handler {name} survived: {html}");
            let value = value.to_ascii_lowercase();
            assert!(!value.trim_start().starts_with("javascript:"), "a javascript: URL survived: {html}");
            if remote_images == RemoteImages::Block {
                assert!(name != "src" || value.starts_with("data:"), "a remote src survived: {html}");
                assert!(name != "style" || !value.contains("url("), "a CSS url() survived: {html}");
            }
        }
    }
}

/// A start tag: its lowercase name and its attributes (lowercase names, raw values).
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// The start tags of serialized HTML, in order.
fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let name_len = bytes[i..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if name_len == 0 {
            continue; // an end tag (`</p>`), or a `<` the serializer would have escaped
        }
        let name = html[i..i + name_len].to_ascii_lowercase();
        i += name_len;
        let mut attributes = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                break;
            }
            let start = i;
            while i < bytes.len() && !matches!(bytes[i], b'=' | b'>' | b'/') && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let attribute = html[start..i].to_ascii_lowercase();
            let mut value = String::new();
            if bytes.get(i) == Some(&b'=') && bytes.get(i + 1) == Some(&b'"') {
                let end = bytes[i + 2..].iter().position(|&b| b == b'"').map_or(bytes.len(), |e| i + 2 + e);
                value = html[i + 2..end].to_string();
                i = (end + 1).min(bytes.len());
            }
            attributes.push((attribute, value));
        }
        found.push(Tag { name, attributes });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input the fuzzer kept (crashes, then minimised) still passes.
    #[test]
    fn fuzz_regressions_pass() {
        // Relative: cargo runs a crate's tests in its folder, while env!("CARGO_MANIFEST_DIR") would
        // pin the folder of whichever clone filled the shared build cache.
        let folder = "../../fuzz/regressions/render";
        for entry in std::fs::read_dir(folder).expect("the regression folder exists") {
            render_message(&std::fs::read(entry.expect("readable folder").path()).expect("readable input"));
        }
    }

    /// The oracle catches what it must: it would be no use if it passed everything.
    #[test]
    #[should_panic(expected = "survived")]
    fn the_oracle_sees_a_handler() {
        check_sanitized(r#"<p title="a onclick=x">ok</p><img src="x" onerror="alert(1)">"#, RemoteImages::Show);
    }

    #[test]
    fn the_oracle_reads_quoted_values_as_values() {
        check_sanitized(
            r#"<p title="<script> onclick=x">ok</p><img src="data:image/png;base64,AA">"#,
            RemoteImages::Block,
        );
    }
}
