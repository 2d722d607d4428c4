//! Shell completion scripts generated from the parameter tables.

use crate::binder::table::{COMMON, SHOULD_PROCESS};
use crate::cmdlets::DEFS as CMDLETS;
use std::fmt::Write;

fn params(c: &crate::binder::CmdletDef) -> Vec<String> {
    let commons = COMMON.iter().chain(if c.should_process {
        SHOULD_PROCESS
    } else {
        &[]
    });
    c.params
        .iter()
        .chain(commons)
        .map(|p| format!("-{}", p.name))
        .collect()
}

pub fn script(shell: &str) -> String {
    let mut s = String::new();
    match shell {
        "pwsh" => {
            s.push_str("# cscert parameter completion for pwsh: . (cscert completions pwsh | Out-String)\n$cscertParams = @{\n");
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
        }
        _ => {
            s.push_str("# cscert completion for bash: source <(cscert completions bash)\n_cscert() {\n    local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"${COMP_WORDS[1]}\" words\n    if [ \"$COMP_CWORD\" -eq 1 ]; then\n        words=\"");
            s.push_str(&CMDLETS.iter().map(|c| c.name).collect::<Vec<_>>().join(" "));
            s.push_str(
                " --help --version completions help\"\n    else\n        case \"$cmd\" in\n",
            );
            for c in CMDLETS {
                let _ = writeln!(
                    s,
                    "            {}) words=\"{}\" ;;",
                    c.name,
                    params(c).join(" ")
                );
            }
            s.push_str("        esac\n    fi\n    COMPREPLY=( $(compgen -W \"$words\" -- \"$cur\") )\n}\ncomplete -F _cscert cscert\n");
        }
    }
    s
}
