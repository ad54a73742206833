//! Makes attacker-controlled text (user agents, names, client types) safe for where it goes:
//! terminals and Markdown lose control characters, CSV cells lose their power as formulas, HTML
//! text and attributes lose their markup.

/// Text for a terminal or a Markdown table: ANSI escape sequences removed, tabs and line breaks
/// turned into spaces, other control characters and bidirectional overrides dropped.
pub fn for_display(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI `ESC [ ... final` and two-byte `ESC x` sequences vanish whole.
                if chars.next_if_eq(&'[').is_some() {
                    while chars
                        .next()
                        .is_some_and(|c| !('\u{40}'..='\u{7e}').contains(&c))
                    {}
                } else {
                    chars.next();
                }
            }
            '\t' | '\n' | '\r' => out.push(' '),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage
/// return first) gets a leading `'`, OWASP's advice against CSV injection.
pub fn for_csv(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// A Markdown table cell: display-safe, with pipes and HTML brackets escaped.
pub fn for_markdown(text: &str) -> String {
    for_display(text)
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text for HTML content or a quoted attribute value: display-safe, with `&`, `<`, `>`, `"` and
/// `'` escaped.
pub fn for_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in for_display(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_strips_escapes_and_controls() {
        assert_eq!(for_display("\u{1b}[31mred\u{1b}[0m text"), "red text");
        assert_eq!(for_display("a\tb\nc\rd\u{0}e\u{7f}f\u{9b}g"), "a b c defg");
        assert_eq!(for_display("user\u{202e}gpj.exe"), "usergpj.exe");
        assert_eq!(
            for_display("Mozilla/5.0 (Windows NT 10.0) ünïcode"),
            "Mozilla/5.0 (Windows NT 10.0) ünïcode"
        );
        assert_eq!(for_display("dangling\u{1b}"), "dangling");
    }

    #[test]
    fn csv_neutralises_formulas() {
        for cell in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(for_csv(cell), format!("'{cell}"));
        }
        for cell in ["web", "", "1.5", "a=b"] {
            assert_eq!(for_csv(cell), cell);
        }
    }

    #[test]
    fn markdown_escapes_pipes_and_tags() {
        assert_eq!(for_markdown("a|b<script>"), "a\\|b&lt;script&gt;");
    }

    #[test]
    fn html_escapes_markup_in_text_and_attributes() {
        assert_eq!(
            for_html("<script>alert('x')</script> & \"q\"\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
