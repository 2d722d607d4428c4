//! The human view for a terminal: `Format-List`-like blocks for objects, a table for
//! `Request-CsCertificate -List`, findings grouped by severity (coloured when the terminal can),
//! and one-line summaries for empty results and for cmdlets that change something. It renders
//! the very JSON lines the pipe contract prints, so both views always show the same data.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::fmt::{self, Write};

/// One output object with its properties in the order the cmdlet printed them.
#[derive(Debug, Clone, PartialEq)]
pub struct Object(pub Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Object, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, Value>()? {
                    v.push((k, val));
                }
                Ok(Object(v))
            }
        }
        d.deserialize_map(V)
    }
}

impl Object {
    fn get(&self, k: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }
}

/// How stdout is written: JSON Lines (the contract for scripts, pipes and the module) or the
/// terminal view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Json,
    Terminal { color: bool },
}

/// `CSCERT_OUTPUT=json` and `-OutputFormat Json` force JSON; `CSCERT_OUTPUT=text` (or
/// `-OutputFormat Text`) forces the view; otherwise the view only when stdout is a terminal.
/// Colour only on a terminal, and never with `NO_COLOR` or `TERM=dumb`.
pub fn mode(
    stdout_is_terminal: bool,
    format_param: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Mode {
    let env_format = env("CSCERT_OUTPUT").map(|v| v.to_ascii_lowercase());
    let wanted = format_param.map(|f| f.to_ascii_lowercase()).or(env_format);
    let view = match wanted.as_deref() {
        Some("json") => false,
        Some("text") => true,
        _ => stdout_is_terminal,
    };
    if !view {
        return Mode::Json;
    }
    let color = stdout_is_terminal
        && env("NO_COLOR").is_none_or(|v| v.is_empty())
        && env("TERM").is_none_or(|t| t != "dumb");
    Mode::Terminal { color }
}

/// Whether stderr's WARNING: and error lines are coloured (yellow, red), as pwsh colours them:
/// only on a terminal, never with `NO_COLOR` or `TERM=dumb`.
pub fn stderr_color(stderr_is_terminal: bool, env: &dyn Fn(&str) -> Option<String>) -> bool {
    stderr_is_terminal
        && env("NO_COLOR").is_none_or(|v| v.is_empty())
        && env("TERM").is_none_or(|t| t != "dumb")
}

/// Wraps one stderr line in a colour when `on`.
pub fn paint(line: &str, error: bool, on: bool) -> String {
    match (on, error) {
        (false, _) => line.to_string(),
        (true, true) => format!("{RED}{line}{RESET}"),
        (true, false) => format!("{YELLOW}{line}{RESET}"),
    }
}

/// The objects and summaries of one run, rendered when the cmdlet is done (a table needs all
/// its rows to size its columns).
#[derive(Debug)]
pub struct View {
    cmdlet: &'static str,
    color: bool,
    objects: Vec<Object>,
    summaries: Vec<String>,
}

/// The widest the -List table gets.
const TABLE_WIDTH: u16 = 160;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const GREEN: &str = "\x1b[32m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl View {
    pub fn new(cmdlet: &'static str, color: bool) -> View {
        View {
            cmdlet,
            color,
            objects: Vec::new(),
            summaries: Vec::new(),
        }
    }

    /// One line of the JSON contract.
    pub fn push_json(&mut self, line: &str) {
        match serde_json::from_str::<Object>(line) {
            Ok(o) => self.objects.push(o),
            // Not an object (never today): show it as it is.
            Err(_) => self.summaries.push(line.to_string()),
        }
    }

    /// A one-line summary (what Set/Remove/Clear did).
    pub fn summary(&mut self, line: impl Into<String>) {
        self.summaries.push(line.into());
    }

    fn paint(&self, color: &str, text: &str) -> String {
        if self.color {
            format!("{color}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// The text for stdout. `quiet_when_empty`: say nothing about an empty result (a failed
    /// run, or -WhatIf).
    pub fn render(&self, quiet_when_empty: bool) -> String {
        let mut s = String::new();
        let is_request =
            |o: &Object| o.get("CertificateUses").is_some() && o.get("RequestId").is_some();
        let is_renewal = |o: &Object| o.get("Status").is_some() && o.get("RenewAfter").is_some();
        if !self.objects.is_empty() && self.objects.iter().all(is_request) {
            s.push_str(&self.request_table());
        } else if !self.objects.is_empty() && self.objects.iter().all(is_renewal) {
            // Update-CsCertificate: one line per use, the reason below the table.
            let cols = [
                "Identity",
                "Use",
                "Status",
                "Thumbprint",
                "NotAfter",
                "RenewAfter",
            ];
            s.push_str(&self.table(&cols));
            for o in &self.objects {
                if let Some(Value::String(r)) = o.get("Reason").filter(|r| r.as_str() != Some("")) {
                    let use_ = o.get("Use").map(scalar).unwrap_or_default();
                    let _ = writeln!(s, "{use_}: {r}");
                }
            }
        } else {
            for o in &self.objects {
                s.push_str(&self.block(o));
                s.push('\n');
            }
        }
        for l in &self.summaries {
            let _ = writeln!(s, "{l}");
        }
        if self.objects.is_empty() && self.summaries.is_empty() && !quiet_when_empty {
            let _ = writeln!(s, "{}", empty_summary(self.cmdlet));
        }
        s
    }

    /// `Format-List`: `Name : value`, names padded to the longest; findings grouped below.
    fn block(&self, o: &Object) -> String {
        let shown: Vec<&(String, Value)> = o.0.iter().filter(|(k, _)| k != "Findings").collect();
        let width = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut s = String::new();
        for (k, v) in shown {
            let text = match (k.as_str(), v) {
                ("Passed", Value::Bool(true)) => self.paint(GREEN, "True"),
                ("Passed", Value::Bool(false)) => self.paint(RED, "False"),
                ("XmppDomains" | "SipDomains", Value::Array(a)) => coverage(a),
                _ => scalar(v),
            };
            let _ = writeln!(s, "{k:<width$} : {text}");
        }
        if let Some(Value::Array(findings)) = o.get("Findings") {
            s.push_str(&self.findings(findings));
        }
        s
    }

    fn findings(&self, findings: &[Value]) -> String {
        let mut s = String::new();
        if findings.is_empty() {
            let _ = writeln!(s, "Findings         : none");
            return s;
        }
        for (severity, title, color) in [
            ("Error", "Errors", RED),
            ("Warning", "Warnings", YELLOW),
            ("Information", "Information", CYAN),
        ] {
            let group: Vec<&Value> = findings
                .iter()
                .filter(|f| f.get("Severity").and_then(Value::as_str) == Some(severity))
                .collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "{}",
                self.paint(
                    &format!("{BOLD}{color}"),
                    &format!("{title} ({})", group.len())
                )
            );
            for f in group {
                let id = f.get("RuleId").and_then(Value::as_str).unwrap_or("");
                let msg = f.get("Message").and_then(Value::as_str).unwrap_or("");
                let _ = writeln!(s, "  {}  {msg}", self.paint(color, id));
            }
        }
        s
    }

    fn request_table(&self) -> String {
        self.table(&[
            "RequestId",
            "RequestStatus",
            "CertificateUses",
            "Subject",
            "Created",
            "Output",
        ])
    }

    fn table(&self, cols: &[&str]) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY);
        // At most 160 columns (a wide terminal): long cells wrap instead of the lines.
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(TABLE_WIDTH);
        t.set_header(cols);
        for o in &self.objects {
            t.add_row(
                cols.iter()
                    .map(|c| o.get(c).map(scalar).unwrap_or_default()),
            );
        }
        format!("{t}\n")
    }
}

/// A value as one line: arrays joined with ", ", null as nothing, booleans as pwsh prints them,
/// dates without the `T`.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => date_text(s).unwrap_or_else(|| s.clone()),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", scalar(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// `2026-07-22T06:00:00Z` -> `2026-07-22 06:00:00Z`.
fn date_text(s: &str) -> Option<String> {
    let b = s.as_bytes();
    (s.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z')
        .then(|| format!("{} {}", &s[..10], &s[11..]))
}

/// XmppDomains/SipDomains: `contoso.com (DnsName), corp.contoso.com (not covered)`.
fn coverage(a: &[Value]) -> String {
    a.iter()
        .map(|d| {
            let name = d.get("Domain").and_then(Value::as_str).unwrap_or("");
            let by: Vec<String> = d
                .get("CoveredBy")
                .and_then(Value::as_array)
                .map(|v| v.iter().map(scalar).collect())
                .unwrap_or_default();
            if d.get("Covered") == Some(&Value::Bool(true)) {
                format!("{name} ({})", by.join(", "))
            } else {
                format!("{name} (not covered)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an empty result means, per cmdlet.
fn empty_summary(cmdlet: &str) -> &'static str {
    match cmdlet {
        "Get-CsCertificate" => "No certificate is assigned for these uses.",
        "Request-CsCertificate" => "No pending certificate requests.",
        "Test-CsCertificateConfiguration" => {
            "No certificate is assigned, so there is nothing to check."
        }
        "Test-CsCertificate" => "No certificate or request was found to check.",
        _ => "Done; nothing to show.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn item_11_mode_follows_the_terminal_and_the_overrides() {
        assert_eq!(mode(false, None, &env(&[])), Mode::Json);
        assert_eq!(
            mode(true, None, &env(&[("TERM", "xterm")])),
            Mode::Terminal { color: true }
        );
        assert_eq!(
            mode(true, None, &env(&[("CSCERT_OUTPUT", "json")])),
            Mode::Json
        );
        assert_eq!(mode(true, Some("Json"), &env(&[])), Mode::Json);
        assert_eq!(
            mode(true, None, &env(&[("NO_COLOR", "1")])),
            Mode::Terminal { color: false }
        );
        assert_eq!(
            mode(true, None, &env(&[("TERM", "dumb")])),
            Mode::Terminal { color: false }
        );
        assert_eq!(
            mode(false, None, &env(&[("CSCERT_OUTPUT", "text")])),
            Mode::Terminal { color: false }
        );
        // -OutputFormat beats the variable.
        assert_eq!(
            mode(true, Some("Json"), &env(&[("CSCERT_OUTPUT", "text")])),
            Mode::Json
        );
    }

    #[test]
    fn item_11_blocks_findings_and_tables() {
        let mut v = View::new("Test-CsCertificate", false);
        v.push_json(r#"{"Path":"edge.req","Kind":"Request","AlternativeNames":["a.contoso.com","b.contoso.com"],"NotAfter":"2027-07-22T06:00:00Z","XmppDomains":[{"Domain":"contoso.com","Covered":true,"CoveredBy":["DnsName"]},{"Domain":"corp.contoso.com","Covered":false,"CoveredBy":[]}],"Findings":[{"RuleId":"EKU-NO-CLIENT-AUTH","Severity":"Warning","Message":"w","Names":[]},{"RuleId":"XMPP-CHILD-DOMAIN","Severity":"Error","Message":"e","Names":[]}],"Passed":false}"#);
        let text = v.render(false);
        assert_eq!(
            text,
            "Path             : edge.req\n\
             Kind             : Request\n\
             AlternativeNames : a.contoso.com, b.contoso.com\n\
             NotAfter         : 2027-07-22 06:00:00Z\n\
             XmppDomains      : contoso.com (DnsName), corp.contoso.com (not covered)\n\
             Passed           : False\n\
             Errors (1)\n  XMPP-CHILD-DOMAIN  e\n\
             Warnings (1)\n  EKU-NO-CLIENT-AUTH  w\n\n"
        );
        let mut c = View::new("Test-CsCertificate", true);
        c.push_json(
            r#"{"Findings":[{"RuleId":"X","Severity":"Error","Message":"m"}],"Passed":false}"#,
        );
        assert!(c.render(false).contains("\x1b[31mX\x1b[0m"));

        let mut t = View::new("Request-CsCertificate", false);
        t.push_json(r#"{"RequestId":1,"CertificateUses":["Default"],"Subject":"CN=a","RequestStatus":"Pending","Created":"2026-01-01T00:00:00Z","Output":null}"#);
        t.push_json(r#"{"RequestId":22,"CertificateUses":["AccessEdgeExternal","DataEdgeExternal"],"Subject":"CN=b","RequestStatus":"Completed","Created":"2026-01-02T00:00:00Z","Output":"/x/edge.req"}"#);
        let table = t.render(false);
        let header = table.lines().find(|l| l.contains("RequestId")).unwrap();
        assert!(
            header.contains("RequestStatus") && header.contains("CertificateUses"),
            "{table}"
        );
        assert!(
            table
                .lines()
                .any(|l| l.contains("22") && l.contains("AccessEdgeExternal, DataEdgeExternal")),
            "{table}"
        );

        assert_eq!(
            View::new("Get-CsCertificate", false).render(false),
            "No certificate is assigned for these uses.\n"
        );
        assert_eq!(View::new("Get-CsCertificate", false).render(true), "");
        let mut s = View::new("Remove-CsCertificate", false);
        s.summary("Removed x.");
        assert_eq!(s.render(false), "Removed x.\n");
    }

    #[test]
    fn the_request_table_fits_160_columns() {
        let mut t = View::new("Request-CsCertificate", false);
        let long = "/home/admin/certificates/requests/2026/edge-pool-external/".repeat(3);
        for id in 1..=3 {
            t.push_json(&format!(r#"{{"RequestId":{id},"CertificateUses":["AccessEdgeExternal","DataEdgeExternal","AudioVideoAuthentication"],"Subject":"CN=sip.contoso.com, OU=Unified Communications, O=Contoso","RequestStatus":"Pending","Created":"2026-01-02T00:00:00Z","Output":"{long}edge.req"}}"#));
        }
        let table = t.render(false);
        for line in table.lines() {
            assert!(
                line.chars().count() <= 160,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!(table.contains("edge.req"), "{table}");
    }
}
