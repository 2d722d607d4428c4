//! `-Report <path>`: a small self-contained HTML page of what a cmdlet did.

use chrono::{DateTime, Utc};
use std::fmt::Write;

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

/// Renders the transcript (stream name, text) of one invocation.
pub fn render(
    cmdlet: &str,
    command_line: &str,
    now: DateTime<Utc>,
    outcome: &str,
    transcript: &[(String, String)],
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{mark}<title>{c} report</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}}.Error{{color:#a00}}.Warning{{color:#a60}}code{{white-space:pre-wrap;word-break:break-all}}</style></head><body>\n<h1>{c}</h1>\n<p>Run at {t} (UTC). Outcome: <strong>{o}</strong></p>\n<p><code>{l}</code></p>\n<table><tr><th>Stream</th><th>Text</th></tr>\n",
        c = escape(cmdlet),
        mark = super::file::REPORT_MARK,
        t = now.format("%Y-%m-%d %H:%M:%S"),
        o = escape(outcome),
        l = escape(command_line),
    );
    for (stream, text) in transcript {
        let _ = writeln!(
            h,
            "<tr class=\"{s}\"><td>{s}</td><td><code>{t}</code></td></tr>",
            s = escape(stream),
            t = escape(text)
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_escapes_markup() {
        let html = render(
            "Set-CsCertificate",
            "-Type <x>",
            Utc::now(),
            "Success",
            &[("Error".into(), "a<b & c".into())],
        );
        assert!(html.contains("a&lt;b &amp; c"));
        assert!(html.contains("-Type &lt;x&gt;"));
        assert!(!html.contains("<x>"));
    }
}
