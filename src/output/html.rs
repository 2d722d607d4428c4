//! The fleet page (`Test-CsCertificateConfiguration -HtmlReport`): one self-contained HTML file
//! with a timeline of every certificate in service or staged, per computer and use, and the
//! findings as a table. Inline SVG and CSS only (no script, nothing fetched), light and dark
//! themes by `prefers-color-scheme`, and every status also written as text.

use chrono::{DateTime, Duration, Utc};
use std::fmt::Write;

/// A certificate's place in its life at the time of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Fine,
    /// Past its renewal date, not yet in the last [`EXPIRING_DAYS`].
    Due,
    Expiring,
    Expired,
    /// A computer and use with no current certificate (only a staged one, or none).
    NothingInService,
}

/// Certificates ending within this many days are "expiring".
pub const EXPIRING_DAYS: i64 = 30;

impl Status {
    pub fn text(self) -> &'static str {
        match self {
            Status::Fine => "fine",
            Status::Due => "renewal due",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
            Status::NothingInService => "nothing in service",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Status::Fine => "fine",
            Status::Due => "due",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
            Status::NothingInService => "none",
        }
    }

    /// The status of a certificate valid `not_before..not_after` at `now`.
    pub fn of(not_before: DateTime<Utc>, not_after: DateTime<Utc>, now: DateTime<Utc>) -> Status {
        if not_after <= now {
            Status::Expired
        } else if not_after - now <= Duration::days(EXPIRING_DAYS) {
            Status::Expiring
        } else if now >= renewal_due(not_before, not_after) {
            Status::Due
        } else {
            Status::Fine
        }
    }
}

/// When renewal is due: two thirds into the certificate's life (the ACME clients' and CAs'
/// usual advice), and never later than [`EXPIRING_DAYS`] before it ends.
pub fn renewal_due(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> DateTime<Utc> {
    let life = not_after - not_before;
    let two_thirds = not_before + life * 2 / 3;
    two_thirds.min(not_after - Duration::days(EXPIRING_DAYS))
}

/// One certificate on the timeline.
#[derive(Debug, Clone)]
pub struct Bar {
    pub thumbprint: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// "in service" or "staged from <date>".
    pub state: String,
}

/// One computer and use, with its certificates (none: nothing in service).
#[derive(Debug, Clone)]
pub struct Lane {
    pub computer: String,
    pub use_name: String,
    pub bars: Vec<Bar>,
}

/// One row of the findings table.
#[derive(Debug, Clone)]
pub struct FindingRow {
    pub rule_id: String,
    pub severity: String,
    pub message: String,
    pub names: Vec<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub title: String,
    pub now: DateTime<Utc>,
    pub lanes: Vec<Lane>,
    pub findings: Vec<FindingRow>,
}

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "
:root{--bg:#fff;--fg:#1b1b1b;--muted:#666;--grid:#ddd;--fine:#2e7d32;--due:#b58900;--expiring:#e65100;--expired:#c62828;--none:#757575;--today:#1565c0}
@media (prefers-color-scheme: dark){:root{--bg:#15171a;--fg:#e6e6e6;--muted:#a0a0a0;--grid:#3a3d42;--fine:#66bb6a;--due:#fdd835;--expiring:#ffa726;--expired:#ef5350;--none:#9e9e9e;--today:#64b5f6}}
body{background:var(--bg);color:var(--fg);font-family:system-ui,sans-serif;margin:2em}
svg text{fill:var(--fg);font-size:12px}
.grid{stroke:var(--grid)}.today{stroke:var(--today);stroke-width:2}.due-mark{stroke:var(--fg);stroke-dasharray:3 2}
.bar.fine{fill:var(--fine)}.bar.due{fill:var(--due)}.bar.expiring{fill:var(--expiring)}.bar.expired{fill:var(--expired)}.bar.none{fill:var(--none)}
.staged{fill-opacity:.45;stroke:var(--fg);stroke-dasharray:4 2}
table{border-collapse:collapse;margin-top:1em;font-size:14px}td,th{border:1px solid var(--grid);padding:4px 8px;text-align:left;vertical-align:top}
.status.fine{color:var(--fine)}.status.due{color:var(--due)}.status.expiring{color:var(--expiring)}.status.expired{color:var(--expired)}.status.none{color:var(--none)}
.sev-Error{color:var(--expired)}.sev-Warning{color:var(--expiring)}
.legend span{margin-right:1.5em}
";

/// The page.
pub fn render_fleet(f: &Fleet) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{mark}<meta name=\"color-scheme\" content=\"light dark\"><title>{t}</title><style>{CSS}</style></head><body>\n<h1>{t}</h1>\n<p>At {now} (UTC): {n} certificate(s) on {l} computer and use(s).</p>",
        mark = super::file::REPORT_MARK,
        t = escape(&f.title),
        now = f.now.format("%Y-%m-%d %H:%M"),
        n = f.lanes.iter().map(|l| l.bars.len()).sum::<usize>(),
        l = f.lanes.len(),
    );
    h.push_str("<p class=\"legend\">");
    for s in [
        Status::Fine,
        Status::Due,
        Status::Expiring,
        Status::Expired,
        Status::NothingInService,
    ] {
        let _ = write!(
            h,
            "<span class=\"status {}\">&#9632; {}</span>",
            s.class(),
            s.text()
        );
    }
    h.push_str("<span>| today (solid line), renewal due (dashed mark), staged (dashed outline)</span></p>\n");
    timeline(&mut h, f);
    certificate_table(&mut h, f);
    findings_table(&mut h, &f.findings);
    h.push_str("</body></html>\n");
    h
}

const LABEL_W: f64 = 330.0;
const PLOT_W: f64 = 640.0;
const ROW_H: f64 = 30.0;
/// Room right of the plot for the status written after a bar that ends there.
const RIGHT_W: f64 = 160.0;

/// The SVG: one lane per computer and use, one bar per certificate, today's line.
fn timeline(h: &mut String, f: &Fleet) {
    let dates = f
        .lanes
        .iter()
        .flat_map(|l| &l.bars)
        .flat_map(|b| [b.not_before, b.not_after]);
    let start = dates.clone().min().unwrap_or(f.now).min(f.now) - Duration::days(7);
    let end = dates.max().unwrap_or(f.now).max(f.now) + Duration::days(7);
    let span = (end - start).num_seconds().max(1) as f64;
    let x = |d: DateTime<Utc>| LABEL_W + PLOT_W * (d - start).num_seconds() as f64 / span;
    // One row per certificate (a lane with a staged roll has two), one for an empty lane.
    let rows: usize = f.lanes.iter().map(|l| l.bars.len().max(1)).sum();
    let height = 34.0 + ROW_H * rows.max(1) as f64;
    let _ = writeln!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Certificate timeline\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">",
        w = LABEL_W + PLOT_W + RIGHT_W
    );
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"14\">{}</text><text x=\"{:.1}\" y=\"14\" text-anchor=\"end\">{}</text>",
        LABEL_W,
        start.format("%Y-%m-%d"),
        LABEL_W + PLOT_W,
        end.format("%Y-%m-%d")
    );
    let mut y = 24.0;
    for lane in &f.lanes {
        let _ = writeln!(
            h,
            "<line class=\"grid\" x1=\"0\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"4\" y=\"{:.1}\">{} / {}</text>",
            LABEL_W + PLOT_W + RIGHT_W,
            y + 19.0,
            escape(&lane.computer),
            escape(&lane.use_name)
        );
        if lane.bars.is_empty() {
            let _ = writeln!(
                h,
                "<text class=\"status none\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL_W + 4.0,
                y + 19.0,
                Status::NothingInService.text()
            );
            y += ROW_H;
        }
        for b in &lane.bars {
            bar(h, b, f.now, y, &x);
            y += ROW_H;
        }
    }
    let t = x(f.now);
    let _ = writeln!(
        h,
        "<line class=\"today\" x1=\"{t:.1}\" x2=\"{t:.1}\" y1=\"18\" y2=\"{height:.1}\"/><text x=\"{:.1}\" y=\"28\">today</text>\n</svg>",
        t + 3.0
    );
}

/// One certificate: its bar from NotBefore to NotAfter (dashed outline when staged), the
/// renewal due mark, and its status written after the bar's end.
fn bar(h: &mut String, b: &Bar, now: DateTime<Utc>, y: f64, x: &dyn Fn(DateTime<Utc>) -> f64) {
    let status = Status::of(b.not_before, b.not_after, now);
    let (x0, x1) = (x(b.not_before), x(b.not_after));
    let staged = b.state != "in service";
    let _ = writeln!(
        h,
        "<g class=\"cert\" data-thumbprint=\"{t}\" data-status=\"{s}\"><rect class=\"bar {c}{cls}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"20\" rx=\"3\"><title>{t} {subj}: {nb} to {na}, {state}, {s}</title></rect><line class=\"due-mark\" x1=\"{d:.1}\" x2=\"{d:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\">{s}{note}</text></g>",
        y + 4.0,
        (x1 - x0).max(2.0),
        y + 1.0,
        y + 27.0,
        x1 + 5.0,
        y + 19.0,
        t = escape(&b.thumbprint),
        s = status.text(),
        c = status.class(),
        cls = if staged { " staged" } else { "" },
        note = if staged { " (staged)" } else { "" },
        subj = escape(&b.subject),
        nb = b.not_before.format("%Y-%m-%d"),
        na = b.not_after.format("%Y-%m-%d"),
        state = escape(&b.state),
        d = x(renewal_due(b.not_before, b.not_after)),
    );
}

/// The same certificates as a table, so every date and status can be read without the picture.
fn certificate_table(h: &mut String, f: &Fleet) {
    h.push_str("<h2>Certificates</h2>\n<table><tr><th>Computer</th><th>Use</th><th>Thumbprint</th><th>Subject</th><th>Not before</th><th>Not after</th><th>Renewal due</th><th>State</th><th>Status</th></tr>\n");
    for lane in &f.lanes {
        let cells = format!(
            "<td>{}</td><td>{}</td>",
            escape(&lane.computer),
            escape(&lane.use_name)
        );
        if lane.bars.is_empty() {
            let _ = writeln!(
                h,
                "<tr>{cells}<td colspan=\"6\"></td><td class=\"status none\">{}</td></tr>",
                Status::NothingInService.text()
            );
        }
        for b in &lane.bars {
            let s = Status::of(b.not_before, b.not_after, f.now);
            let _ = writeln!(
                h,
                "<tr>{cells}<td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"status {}\">{}</td></tr>",
                escape(&b.thumbprint),
                escape(&b.subject),
                b.not_before.format("%Y-%m-%d"),
                b.not_after.format("%Y-%m-%d"),
                renewal_due(b.not_before, b.not_after).format("%Y-%m-%d"),
                escape(&b.state),
                s.class(),
                s.text()
            );
        }
    }
    h.push_str("</table>\n");
}

fn findings_table(h: &mut String, findings: &[FindingRow]) {
    h.push_str("<h2>Findings</h2>\n");
    if findings.is_empty() {
        h.push_str("<p>No findings.</p>\n");
        return;
    }
    h.push_str("<table class=\"findings\"><tr><th>Rule</th><th>Severity</th><th>Message</th><th>Names</th></tr>\n");
    for f in findings {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"sev-{s}\">{s}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.rule_id),
            escape(&f.message),
            f.names
                .iter()
                .map(|n| escape(n))
                .collect::<Vec<_>>()
                .join("<br>"),
            s = escape(&f.severity),
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> DateTime<Utc> {
        format!("{s}T00:00:00Z").parse().unwrap()
    }

    #[test]
    fn status_follows_the_renewal_date_and_the_last_thirty_days() {
        let (nb, na) = (d("2026-01-01"), d("2027-01-01"));
        assert_eq!(renewal_due(nb, na), nb + (na - nb) * 2 / 3);
        assert_eq!(Status::of(nb, na, d("2026-03-01")), Status::Fine);
        assert_eq!(Status::of(nb, na, d("2026-10-01")), Status::Due);
        assert_eq!(Status::of(nb, na, d("2026-12-15")), Status::Expiring);
        assert_eq!(Status::of(nb, na, d("2027-01-01")), Status::Expired);
        // A 45-day certificate is due 30 days before its end, not at two thirds.
        assert_eq!(renewal_due(nb, d("2026-02-15")), d("2026-01-16"));
    }

    #[test]
    fn the_page_escapes_what_certificates_say_and_has_no_script() {
        let f = Fleet {
            title: "Fleet".into(),
            now: d("2026-06-01"),
            lanes: vec![Lane {
                computer: "fe<1>".into(),
                use_name: "Default".into(),
                bars: vec![Bar {
                    thumbprint: "AB".into(),
                    subject: "CN=<script>alert(1)</script>".into(),
                    not_before: d("2026-01-01"),
                    not_after: d("2027-01-01"),
                    state: "in service".into(),
                }],
            }],
            findings: vec![FindingRow {
                rule_id: "X".into(),
                severity: "Error".into(),
                message: "a & b".into(),
                names: vec!["<n>".into()],
            }],
        };
        let html = render_fleet(&f);
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("fe&lt;1&gt;") && html.contains("a &amp; b"));
        assert!(!html.contains("http://") || html.matches("http://").count() == 1);
    }
}
