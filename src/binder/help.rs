//! Get-Help style text generated from the parameter tables: syntax per set, parameters, examples.

use super::table::{CmdletDef, PType, ParamDef};
use std::fmt::Write;

pub const EXIT_CODES: &str = "EXIT CODES\n    0  success\n    1  the operation failed\n    2  parameter binding failed (nothing was done)\n    3  a validation ran and found errors\n";

fn param_syntax(p: &ParamDef, set: &str) -> String {
    let ty = p.ty.syntax(p.type_name);
    let name = match (p.position, ty) {
        (Some(_), _) => format!("[-{}]", p.name),
        _ => format!("-{}", p.name),
    };
    let body = match ty {
        Some(t) => format!("{name} <{t}>"),
        None => name,
    };
    if p.mandatory_in(set) {
        body
    } else {
        format!("[{body}]")
    }
}

/// One syntax line per parameter set: mandatory first (positional ones in position order), then
/// optional ones alphabetically, then -WhatIf/-Confirm and `[<CommonParameters>]`.
pub fn syntax(c: &CmdletDef) -> Vec<String> {
    c.sets
        .iter()
        .map(|set| {
            let mut ps: Vec<&ParamDef> = c.params.iter().filter(|p| p.in_set(set)).collect();
            ps.sort_by_key(|p| {
                (
                    !p.mandatory_in(set),
                    p.ty != PType::Switch || !p.mandatory_in(set),
                    p.position.unwrap_or(u8::MAX),
                )
            });
            let mut line = c.name.to_string();
            for p in ps {
                line.push(' ');
                line.push_str(&param_syntax(p, set));
            }
            if c.should_process {
                line.push_str(" [-WhatIf] [-Confirm]");
            }
            line.push_str(" [<CommonParameters>]");
            line
        })
        .collect()
}

pub fn cmdlet_help(c: &CmdletDef) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "NAME\n    {}\n\nSYNOPSIS\n    {}\n", c.name, c.synopsis);
    let _ = writeln!(s, "SYNTAX");
    for line in syntax(c) {
        let _ = writeln!(s, "    {line}\n");
    }
    if !c.description.is_empty() {
        let _ = writeln!(s, "DESCRIPTION\n    {}\n", c.description);
    }
    let _ = writeln!(s, "PARAMETERS");
    for p in c.params {
        let ty =
            p.ty.syntax(p.type_name)
                .map(|t| format!(" <{t}>"))
                .unwrap_or_default();
        let _ = writeln!(s, "    -{}{ty}", p.name);
        let _ = writeln!(s, "        {}", p.help);
        let mut facts = Vec::new();
        if !p.aliases.is_empty() {
            facts.push(format!("Aliases: {}", p.aliases.join(", ")));
        }
        if !p.mandatory.is_empty() {
            facts.push(format!("Required in: {}", p.mandatory.join(", ")));
        }
        if let Some(pos) = p.position {
            facts.push(format!("Position: {pos}"));
        }
        if let Some(d) = p.default {
            facts.push(format!("Default value: {d}"));
        }
        if !facts.is_empty() {
            let _ = writeln!(s, "        {}", facts.join("; "));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "    <CommonParameters>\n        -Verbose, -Debug, -ErrorAction, -WarningAction, -InformationAction, -ErrorVariable, -WarningVariable, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -ProgressAction.\n");
    let _ = writeln!(s, "EXAMPLES\n    Each line pastes into bash as well as pwsh (cmdlet names resolve after scripts/install.sh\n    or Import-Module scripts/CsCertificate.psm1; otherwise put cscert in front).\n");
    for (i, (cmd, what)) in c.examples.iter().enumerate() {
        let _ = writeln!(s, "    -------------------------- Example {} --------------------------\n    {cmd}\n        {what}\n", i + 1);
    }
    let _ = writeln!(s, "OUTPUT\n    JSON Lines on stdout, one object per line; errors, warnings and verbose lines on stderr.\n");
    s.push_str(EXIT_CODES);
    s
}

/// The list of cmdlets for `cscert --help` (the table of cmdlets lives with their code).
pub fn cmdlet_list(cmdlets: &[&CmdletDef]) -> String {
    let mut s = String::new();
    for c in cmdlets {
        let _ = writeln!(s, "    {:<34}{}", c.name, c.synopsis);
    }
    s
}
