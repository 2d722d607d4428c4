//! The module's default views (`CsCertificate.format.ps1xml`): Lync-like lists for certificates,
//! tables for requests, and for the two Test cmdlets views that show the verdict and the rule
//! ids of the findings, not only which file was tested.

use std::fmt::Write;

/// One shown value: a property, or a label computed by a script block (`$_` is the object).
enum Col {
    P(&'static str),
    S(&'static str, &'static str),
}
use Col::{P, S};

/// The rule ids of an object's findings, worst first, as one cell.
const RULE_IDS: &str = "@($_.Findings | Sort-Object { @('Error', 'Warning', 'Information').IndexOf([string]$_.Severity) } | ForEach-Object RuleId) -join ', '";
/// Every finding on a line of its own: severity, rule id, message.
const FINDINGS: &str = "@($_.Findings | ForEach-Object { '{0} {1}: {2}' -f $_.Severity, $_.RuleId, $_.Message }) -join [Environment]::NewLine";
const VERDICT: &str = "if ($_.Passed) { 'Passed' } else { 'Failed' }";

/// (type, list?, columns)
const VIEWS: &[(&str, bool, &[Col])] = &[
    (
        "Cscert.AssignedCertificate",
        true,
        &[
            P("Issuer"),
            P("NotAfter"),
            P("NotBefore"),
            P("SerialNumber"),
            P("Subject"),
            P("AlternativeNames"),
            P("Thumbprint"),
            P("EffectiveTime"),
            P("PreviousThumbprint"),
            P("UpdateTime"),
            P("Use"),
            P("SourceScope"),
        ],
    ),
    (
        "Cscert.StoredCertificate",
        true,
        &[
            P("Issuer"),
            P("NotAfter"),
            P("NotBefore"),
            P("SerialNumber"),
            P("Subject"),
            P("AlternativeNames"),
            P("Thumbprint"),
            P("FriendlyName"),
            P("HasPrivateKey"),
            P("PrivateKeyExportable"),
            P("RequestId"),
            P("RequestStatus"),
        ],
    ),
    (
        "Cscert.CertificateRequest",
        false,
        &[
            P("RequestId"),
            P("RequestStatus"),
            P("CertificateUses"),
            P("Subject"),
            P("Created"),
        ],
    ),
    (
        "Cscert.OfflineRequest",
        false,
        &[
            P("RequestId"),
            P("RequestStatus"),
            P("Subject"),
            P("Output"),
        ],
    ),
    (
        "Cscert.CertificateTestResult",
        false,
        &[
            S("Verdict", VERDICT),
            P("Kind"),
            P("Subject"),
            S("Findings", RULE_IDS),
            P("Path"),
        ],
    ),
    (
        "Cscert.CertificateTestResult",
        true,
        &[
            P("Path"),
            P("Kind"),
            P("Subject"),
            P("AlternativeNames"),
            P("Thumbprint"),
            P("NotAfter"),
            S("Verdict", VERDICT),
            S("Findings", FINDINGS),
        ],
    ),
    (
        "Cscert.ConfigurationResult",
        false,
        &[P("Use"), P("Status"), P("Thumbprint")],
    ),
];

/// The property lists the views show (the Pester suite checks they exist on real objects).
pub fn view_properties() -> Vec<(&'static str, Vec<&'static str>)> {
    VIEWS
        .iter()
        .map(|(t, _, cols)| {
            let props = cols
                .iter()
                .filter_map(|c| match c {
                    P(p) => Some(*p),
                    S(..) => None,
                })
                .collect();
            (*t, props)
        })
        .collect()
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The value element of a column (`PropertyName` or `ScriptBlock`).
fn value(c: &Col) -> String {
    match c {
        P(p) => format!("<PropertyName>{}</PropertyName>", xml(p)),
        S(_, script) => format!("<ScriptBlock>{}</ScriptBlock>", xml(script)),
    }
}

fn label(c: &Col) -> &'static str {
    match c {
        P(p) | S(p, _) => p,
    }
}

fn list(s: &mut String, cols: &[Col]) {
    s.push_str("      <ListControl>\n        <ListEntries>\n          <ListEntry>\n            <ListItems>\n");
    for c in cols {
        let label = match c {
            P(_) => String::new(),
            S(l, _) => format!("\n                <Label>{}</Label>", xml(l)),
        };
        let _ = writeln!(
            s,
            "              <ListItem>{label}\n                {}\n              </ListItem>",
            value(c)
        );
    }
    s.push_str("            </ListItems>\n          </ListEntry>\n        </ListEntries>\n      </ListControl>\n");
}

fn table(s: &mut String, cols: &[Col]) {
    s.push_str("      <TableControl>\n        <TableHeaders>\n");
    for c in cols {
        let _ = writeln!(
            s,
            "          <TableColumnHeader>\n            <Label>{}</Label>\n          </TableColumnHeader>",
            xml(label(c))
        );
    }
    s.push_str("        </TableHeaders>\n        <TableRowEntries>\n          <TableRowEntry>\n            <TableColumnItems>\n");
    for c in cols {
        let _ = writeln!(
            s,
            "              <TableColumnItem>\n                {}\n              </TableColumnItem>",
            value(c)
        );
    }
    s.push_str("            </TableColumnItems>\n          </TableRowEntry>\n        </TableRowEntries>\n      </TableControl>\n");
}

pub fn formats() -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- Generated by `cscert module` (src/psmodule.rs). Do not edit: regenerate. -->\n<Configuration>\n  <ViewDefinitions>\n");
    for (i, (ty, is_list, cols)) in VIEWS.iter().enumerate() {
        // A type's second view (Test-CsCertificate's list) needs a name of its own.
        let name = if VIEWS[..i].iter().any(|(t, ..)| t == ty) {
            format!("{ty}.List")
        } else {
            ty.to_string()
        };
        let _ = writeln!(
            s,
            "    <View>\n      <Name>{name}</Name>\n      <ViewSelectedBy>\n        <TypeName>{ty}</TypeName>\n      </ViewSelectedBy>"
        );
        if *is_list {
            list(&mut s, cols);
        } else {
            table(&mut s, cols);
        }
        s.push_str("    </View>\n");
    }
    s.push_str("  </ViewDefinitions>\n</Configuration>\n");
    s
}
