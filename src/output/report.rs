//! `-Report <path>`: a small self-contained HTML page of what a cmdlet did.

use super::html::escape;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::fmt::Write;

/// A JSON value whose objects keep the order cmdlets print their properties in (serde_json's
/// map sorts them).
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Scalar(Value),
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(kv) = m.next_entry::<String, Ordered>()? {
                    v.push(kv);
                }
                Ok(Ordered::Object(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = s.next_element::<Ordered>()? {
                    v.push(x);
                }
                Ok(Ordered::Array(v))
            }
            fn visit_str<E>(self, s: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::String(s.to_string())))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(n.into()))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Null))
            }
        }
        d.deserialize_any(V)
    }
}

/// An output object as a property table; a list of objects (Findings, XmppDomains) as a table
/// with one row each; other values as text.
fn value_html(v: &Ordered) -> String {
    match v {
        Ordered::Scalar(Value::Null) => String::new(),
        Ordered::Scalar(Value::String(s)) => escape(s),
        Ordered::Scalar(other) => escape(&other.to_string()),
        Ordered::Object(m) => {
            let mut h = String::from("<table class=\"obj\">");
            for (k, v) in m {
                let _ = write!(
                    h,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape(k),
                    value_html(v)
                );
            }
            h.push_str("</table>");
            h
        }
        Ordered::Array(items)
            if !items.is_empty() && items.iter().all(|i| matches!(i, Ordered::Object(_))) =>
        {
            let mut cols: Vec<&String> = Vec::new();
            for i in items {
                if let Ordered::Object(m) = i {
                    for (k, _) in m {
                        if !cols.contains(&k) {
                            cols.push(k);
                        }
                    }
                }
            }
            let mut h = String::from("<table class=\"list\"><tr>");
            for c in &cols {
                let _ = write!(h, "<th>{}</th>", escape(c));
            }
            h.push_str("</tr>");
            for i in items {
                h.push_str("<tr>");
                let Ordered::Object(m) = i else { continue };
                for c in &cols {
                    let cell = m.iter().find(|(k, _)| k == *c).map(|(_, v)| value_html(v));
                    let _ = write!(h, "<td>{}</td>", cell.unwrap_or_default());
                }
                h.push_str("</tr>");
            }
            h.push_str("</table>");
            h
        }
        Ordered::Array(items) => items
            .iter()
            .map(value_html)
            .collect::<Vec<_>>()
            .join("<br>"),
    }
}

/// A transcript row's text: objects (the Output stream's JSON lines) as tables, the rest as is.
fn row_html(text: &str) -> String {
    match serde_json::from_str::<Ordered>(text) {
        Ok(v @ Ordered::Object(_)) => value_html(&v),
        _ => format!("<code>{}</code>", escape(text)),
    }
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
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{mark}<title>{c} report</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}}table.obj th{{font-weight:normal;color:#555}}.Error{{color:#a00}}.Warning{{color:#a60}}code{{white-space:pre-wrap;word-break:break-all}}</style></head><body>\n<h1>{c}</h1>\n<p>Run at {t} (UTC). Outcome: <strong>{o}</strong></p>\n<p><code>{l}</code></p>\n<table><tr><th>Stream</th><th>Text</th></tr>\n",
        c = escape(cmdlet),
        mark = super::file::REPORT_MARK,
        t = now.format("%Y-%m-%d %H:%M:%S"),
        o = escape(outcome),
        l = escape(command_line),
    );
    for (stream, text) in transcript {
        let _ = writeln!(
            h,
            "<tr class=\"{s}\"><td>{s}</td><td>{t}</td></tr>",
            s = escape(stream),
            t = row_html(text)
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

    #[test]
    fn output_objects_become_tables() {
        let html = render(
            "Test-CsCertificate",
            "",
            Utc::now(),
            "Success",
            &[(
                "Output".into(),
                r#"{"Subject":"CN=<a>","Findings":[{"RuleId":"X","Names":["n1","n2"]}],"Passed":true}"#.into(),
            )],
        );
        assert!(
            html.contains("<tr><th>Subject</th><td>CN=&lt;a&gt;</td></tr>"),
            "{html}"
        );
        assert!(html.contains("<th>RuleId</th><th>Names</th>"), "{html}");
        // The cmdlet's property order, not the alphabet.
        assert!(html.find(">Subject<") < html.find(">Findings<"), "{html}");
        assert!(html.contains("<td>n1<br>n2</td>"), "{html}");
        assert!(!html.contains("{&quot;"), "no raw JSON: {html}");
    }
}
