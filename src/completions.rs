//! Shell completion scripts generated from the parameter tables.

use crate::binder::table::{PType, ParamDef, COMMON, SHOULD_PROCESS};
use crate::cmdlets::DEFS as CMDLETS;
use crate::model::CertType;
use std::fmt::Write;

/// Common parameters that only mean something inside pwsh (they name pwsh variables or its
/// pipeline): a native command line has no use for them, so completion does not offer them.
const PWSH_ONLY: &[&str] = &[
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
    "ProgressAction",
];

fn offered(c: &crate::binder::CmdletDef) -> Vec<&'static ParamDef> {
    let commons = COMMON.iter().chain(if c.should_process {
        SHOULD_PROCESS
    } else {
        &[]
    });
    c.params
        .iter()
        .chain(commons.filter(|p| !PWSH_ONLY.contains(&p.name)))
        .collect()
}

fn params(c: &crate::binder::CmdletDef) -> Vec<String> {
    offered(c).iter().map(|p| format!("-{}", p.name)).collect()
}

/// The values a parameter takes from a fixed list (-Type, -KeyAlg, ...).
fn values(p: &ParamDef) -> Option<Vec<&'static str>> {
    match p.ty {
        PType::CertTypes => Some(CertType::ALL.iter().map(|t| t.name()).collect()),
        PType::Enum(e) => Some(e.names.to_vec()),
        PType::Bool => Some(vec!["True", "False"]),
        _ => None,
    }
}

fn pwsh() -> String {
    let mut s = String::from("# cscert parameter completion for pwsh: cscert completions pwsh | Out-String | Invoke-Expression\n$cscertParams = @{\n");
    for c in CMDLETS {
        let _ = writeln!(
            s,
            "    '{}' = @({})",
            c.name,
            params(c)
                .iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s.push_str("}\nforeach ($name in $cscertParams.Keys) {\n    Register-ArgumentCompleter -Native -CommandName $name -ScriptBlock {\n        param($wordToComplete, $commandAst, $cursorPosition)\n        $cscertParams[$commandAst.GetCommandName()] | Where-Object { $_ -like \"$wordToComplete*\" } |\n            ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterName', $_) }\n    }.GetNewClosure()\n}\n");
    s
}

/// bash: `cscert <Cmdlet>` and the cmdlet-name links (`Request-CsCertificate ...`, from
/// `install.sh --links`) complete parameter names, and after a parameter with a fixed list of
/// values (-Type, -KeyAlg, ...) those values, also inside a comma list.
fn bash() -> String {
    let mut s = String::from("# cscert completion for bash: source <(cscert completions bash)\n_cscert() {\n    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" cmd first=1 words\n    cmd=\"${COMP_WORDS[0]##*/}\"\n    if [ \"$cmd\" = cscert ]; then cmd=\"${COMP_WORDS[1]}\"; first=2; fi\n    if [ \"$COMP_CWORD\" -lt \"$first\" ]; then\n        words=\"");
    s.push_str(&CMDLETS.iter().map(|c| c.name).collect::<Vec<_>>().join(" "));
    s.push_str(" --help --version completions help module\"\n        COMPREPLY=( $(compgen -W \"$words\" -- \"$cur\") )\n        return\n    fi\n    case \"$cmd\" in\n");
    for c in CMDLETS {
        let _ = writeln!(s, "        {})", c.name);
        let _ = writeln!(s, "            case \"${{prev,,}}\" in");
        for p in offered(c) {
            if let Some(v) = values(p) {
                let _ = writeln!(
                    s,
                    "                -{}) words=\"{}\" ;;",
                    p.name.to_ascii_lowercase(),
                    v.join(" ")
                );
            }
        }
        let _ = writeln!(
            s,
            "                *) words=\"{}\" ;;\n            esac ;;",
            params(c).join(" ")
        );
    }
    s.push_str("        *) return ;;\n    esac\n    # Inside a comma list (-Type Default,Web...): complete the last element.\n    local head=\"\" word=\"$cur\"\n    case \"$cur\" in *,*) head=\"${cur%,*},\"; word=\"${cur##*,}\" ;; esac\n    COMPREPLY=( $(compgen -P \"$head\" -W \"$words\" -- \"$word\") )\n}\ncomplete -F _cscert cscert ");
    s.push_str(&CMDLETS.iter().map(|c| c.name).collect::<Vec<_>>().join(" "));
    s.push('\n');
    s
}

pub fn script(shell: &str) -> String {
    match shell {
        "pwsh" => pwsh(),
        _ => bash(),
    }
}
