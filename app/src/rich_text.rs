//! Plain text as the rich text editor holds it (B3): for a message started in rich text from a
//! plain one (a reply's quote, a signature), on the server, and when the writer switches to rich
//! text in the page. (Cleaning the editor's HTML and its text version are the server's:
//! `render::composed`.)

/// Text turned into editor HTML: a `<div>` per line as the editor writes them, "> " lines as
/// quotes; for a message started in rich text from a plain one (a reply's quote, a signature).
pub fn text_to_html(text: &str) -> String {
    let mut html = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while index < lines.len() {
        if lines[index].starts_with('>') {
            // A run of quoted lines is one quote, its own quotes inside it.
            let mut inner = Vec::new();
            while index < lines.len() && lines[index].starts_with('>') {
                let line = &lines[index][1..];
                inner.push(line.strip_prefix(' ').unwrap_or(line));
                index += 1;
            }
            html.push_str("<blockquote>");
            html.push_str(&text_to_html(&inner.join("\n")));
            html.push_str("</blockquote>");
            continue;
        }
        match lines[index] {
            "" => html.push_str("<div><br></div>"),
            line => {
                html.push_str("<div>");
                html.push_str(&escape(line));
                html.push_str("</div>");
            }
        }
        index += 1;
    }
    html
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_the_editors_and_quotes_blockquotes() {
        let text = "Bonjour,\n\nÀ <lundi> & après.\n\nLe 7 décembre, Jo a écrit :\n> Premier\n>\n>> Ancien\n> Dernier";
        assert_eq!(
            text_to_html(text),
            "<div>Bonjour,</div><div><br></div><div>À &lt;lundi&gt; &amp; après.</div><div><br></div>\
             <div>Le 7 décembre, Jo a écrit :</div><blockquote><div>Premier</div><div><br></div>\
             <blockquote><div>Ancien</div></blockquote><div>Dernier</div></blockquote>"
        );
        assert_eq!(text_to_html(""), "");
    }
}
