//! The repository stands alone: no tracked file names the team's reference notes outside it
//! (the facts live in docs/reference/), and every docs/reference path and quoted section a file
//! cites exists.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The file names of the outside reference notes, spelt without their extension here so that
/// this file does not name them itself.
const NOTE_STEMS: [&str; 7] = [
    "certificates",
    "powershell-binding",
    "cmdlets",
    "topology",
    "crates",
    "peers",
    "style",
];

/// The CI runner, not project code: it refuses to test a copy that has the outside folder
/// beside it, so it must name that folder.
const NOT_SCANNED: [&str; 1] = [".ci/run"];

const REFERENCE_DIR: &str = "docs/reference/";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The outside paths no file may name (built at run time, for the same reason as NOTE_STEMS).
fn outside_paths() -> [String; 2] {
    let shared = "shared";
    [format!("../{shared}"), format!("{shared}/reference")]
}

/// The tracked files; where there is no git checkout (CI tests a plain copy of the tracked
/// files), every file under the root except build output.
fn tracked_files() -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output();
    if let Ok(o) = out {
        if o.status.success() {
            return String::from_utf8_lossy(&o.stdout)
                .split('\0')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    let mut files = Vec::new();
    walk(&root(), "", &mut files);
    files
}

fn walk(dir: &Path, rel: &str, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{rel}{name}");
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            if rel.is_empty() && (name == "target" || name == ".git") {
                continue;
            }
            walk(&entry.path(), &format!("{path}/"), files);
        } else if ft.is_file() {
            files.push(path);
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Every place in `text` (the contents of `file`) that names an outside path, or one of the
/// notes other than as a path under docs/reference/ (a bare sibling name counts as one inside
/// docs/reference/ itself). A longer file name that merely ends in a note's name (Microsoft's
/// `stage-av-and-oauth-certificates.md`) is not one.
fn violations(file: &str, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for p in outside_paths() {
        if text.contains(&p) {
            found.push(format!("{file}: names {p}"));
        }
    }
    let in_reference_dir = file.starts_with(REFERENCE_DIR);
    for stem in NOTE_STEMS {
        let name = format!("{stem}.md");
        for (i, _) in text.match_indices(&name) {
            let before = &text[..i];
            if before.chars().next_back().is_some_and(is_name_char) {
                continue;
            }
            if before.ends_with(REFERENCE_DIR) {
                continue;
            }
            if in_reference_dir && !before.ends_with('/') {
                continue;
            }
            let line = before.matches('\n').count() + 1;
            found.push(format!(
                "{file}:{line}: names {name} outside {REFERENCE_DIR}"
            ));
        }
    }
    found
}

/// What follows a cited path, with comment markers at line starts and runs of blanks folded to
/// one blank, so that a section name wrapped over two comment lines reads as one.
fn folded_tail(tail: &str) -> String {
    let mut out = String::new();
    for (n, line) in tail.lines().take(3).enumerate() {
        let mut l = line;
        if n > 0 {
            l = l.trim_start();
            for marker in ["///", "//!", "//", "#"] {
                if let Some(rest) = l.strip_prefix(marker) {
                    l = rest;
                    break;
                }
            }
            out.push(' ');
        }
        out.push_str(l);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The quoted section after a cited path: `path, "Section"`, `` `path` ("Section") `` (also
/// with the quotes escaped, inside a Rust string).
fn cited_section(tail: &str) -> Option<String> {
    let t = folded_tail(tail);
    let t = t.strip_prefix('`').unwrap_or(&t);
    let t = t.strip_prefix(", ").or_else(|| t.strip_prefix(" ("))?;
    let t = t.strip_prefix('\\').unwrap_or(t);
    let t = t.strip_prefix('"')?;
    let end = t.find('"')?;
    Some(t[..end].trim_end_matches('\\').to_string())
}

fn headings(doc: &str) -> Vec<String> {
    doc.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .collect()
}

/// Every `docs/reference/...` path `text` cites, with its section if one is quoted after it:
/// `(line, path, section)`.
fn citations(text: &str) -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(REFERENCE_DIR) {
        let after = &text[i + REFERENCE_DIR.len()..];
        let len = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        let name = after[..len].trim_end_matches('.');
        let line = text[..i].matches('\n').count() + 1;
        let section = cited_section(&after[name.len()..]);
        out.push((line, format!("{REFERENCE_DIR}{name}"), section));
    }
    out
}

/// A sibling named bare inside docs/reference/ (`` `binding.md` ``) must exist too.
fn sibling_names(text: &str) -> Vec<String> {
    NOTE_STEMS
        .iter()
        .map(|s| format!("{s}.md"))
        .filter(|n| {
            text.match_indices(n.as_str()).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                !before.is_some_and(|c| is_name_char(c) || c == '/')
            })
        })
        .collect()
}

#[test]
fn no_tracked_file_names_reference_notes_outside_the_repository() {
    let files = tracked_files();
    let mut scanned = 0;
    let mut found = Vec::new();
    for f in &files {
        if NOT_SCANNED.contains(&f.as_str()) {
            continue;
        }
        let Ok(bytes) = std::fs::read(root().join(f)) else {
            continue;
        };
        scanned += 1;
        found.extend(violations(f, &String::from_utf8_lossy(&bytes)));
    }
    // Not vacuous: the sources, tests, docs and scripts were all read.
    assert!(scanned >= 100, "only {scanned} files scanned: {files:?}");
    for must in [
        "src/lib.rs",
        "README.md",
        "tests/binder.rs",
        "docs/rules.md",
    ] {
        assert!(files.iter().any(|f| f == must), "{must} not scanned");
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn every_cited_reference_path_and_section_exists() {
    let mut checked = 0;
    let mut sections = 0;
    let mut missing = Vec::new();
    for f in tracked_files() {
        let Ok(bytes) = std::fs::read(root().join(&f)) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut cited = citations(&text);
        if f.starts_with(REFERENCE_DIR) {
            let siblings = sibling_names(&text);
            cited.extend(
                siblings
                    .into_iter()
                    .map(|n| (0, format!("{REFERENCE_DIR}{n}"), None)),
            );
        }
        for (line, path, section) in cited {
            checked += 1;
            let target = root().join(&path);
            if !target.exists() {
                missing.push(format!("{f}:{line}: {path} does not exist"));
                continue;
            }
            if let Some(s) = section {
                sections += 1;
                let doc = std::fs::read_to_string(&target).unwrap_or_default();
                if !headings(&doc).contains(&s) {
                    missing.push(format!("{f}:{line}: {path} has no section \"{s}\""));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    // Not vacuous: the code's comments do cite the reference pages, by section.
    assert!(checked >= 25, "only {checked} citations found");
    assert!(sections >= 15, "only {sections} cited sections found");
}

/// The scanner itself: each kind of reference it must catch, and the ones it must let pass.
#[test]
fn the_scanner_catches_outside_references_and_lets_repository_ones_pass() {
    let [up, notes] = outside_paths();
    let name = format!("{}.md", NOTE_STEMS[0]);
    let bad = [
        format!("// see {up}/reference/{name}"),
        format!("// see {notes}/{}.md", NOTE_STEMS[1]),
        format!("// the table in {name} (\"Names per use\")"),
        format!("// ({}.md)", NOTE_STEMS[2]),
        format!("// docs/{name}"),
    ];
    for text in &bad {
        assert!(!violations("src/x.rs", text).is_empty(), "{text}");
    }
    let good = [
        format!("// docs/reference/{name}, \"Checks\""),
        format!("// stage-av-and-oauth-{name} in MicrosoftDocs"),
        "// the shared published fixtures".to_string(),
    ];
    for text in &good {
        assert!(violations("src/x.rs", text).is_empty(), "{text}");
    }
    // A bare sibling name is a path only inside docs/reference/.
    assert!(violations("docs/reference/README.md", &format!("`{name}`")).is_empty());
    assert!(!violations("docs/other.md", &format!("`{name}`")).is_empty());

    // The probe paths are put together here, so that this file cites no page that is missing.
    let dir = REFERENCE_DIR;
    let wrapped = format!("// {dir}x.md, \"The Edge\n    /// example\" (Access Edge");
    assert_eq!(
        citations(&wrapped),
        [(1, format!("{dir}x.md"), Some("The Edge example".into()))]
    );
    let escaped = format!("`{dir}y.md` (\\\"Checks\\\"). A result");
    assert_eq!(
        citations(&escaped),
        [(1, format!("{dir}y.md"), Some("Checks".into()))]
    );
    assert_eq!(
        citations(&format!("see {dir}z.md.")),
        [(1, format!("{dir}z.md"), None)]
    );
}
