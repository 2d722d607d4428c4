//! The check that no two modules under `src/` import each other, directly or through others
//! (issue 8). It reads the source files and follows every `crate::`, `super::` and `self::`
//! path (in `use` lines and inline, `{a, b}` groups expanded) to the module it names. A
//! module may use its ancestors and descendants (a `mod.rs` re-exports its children, a child
//! uses its parent's items); an edge between any other two modules counts. `#[cfg(test)]`
//! modules are left out: test helpers may be shared across siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (e.g. `pki::certfile`) of a file path relative to `src/`.
fn module_of(rel: &str) -> Option<String> {
    let rel = rel.strip_suffix(".rs")?;
    let mut parts: Vec<&str> = rel.split('/').collect();
    if matches!(parts.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
        parts.pop();
    }
    Some(parts.join("::"))
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

fn is_ancestor(a: &str, b: &str) -> bool {
    a.is_empty() || b.starts_with(&format!("{a}::"))
}

/// The source without `#[cfg(test)]` items, line comments and string contents, so that only
/// code paths are left.
fn strip(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut skip_depth: Option<i32> = None;
    let mut pending_test = false;
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        // Drop string literals so that braces in format strings do not count.
        let mut clean = String::new();
        let mut in_str = false;
        let mut prev = ' ';
        for c in code.chars() {
            if c == '"' && prev != '\\' && prev != '\'' {
                in_str = !in_str;
            } else if !in_str {
                clean.push(c);
            }
            prev = c;
        }
        if let Some(depth) = skip_depth.as_mut() {
            *depth += clean.matches('{').count() as i32 - clean.matches('}').count() as i32;
            if *depth <= 0 && clean.contains('}') {
                skip_depth = None;
            }
            continue;
        }
        if clean.trim() == "#[cfg(test)]" {
            pending_test = true;
            continue;
        }
        if pending_test {
            pending_test = false;
            let opens = clean.matches('{').count() as i32 - clean.matches('}').count() as i32;
            if opens > 0 {
                skip_depth = Some(opens);
            }
            // A one-line test item (`mod tests;`, `use ...;`) is dropped as well.
            continue;
        }
        out.push_str(&clean);
        out.push('\n');
    }
    out
}

/// Every path starting with `crate::`, `super::` or `self::` in `code`, as segment lists
/// relative to that start (`{a, b::c}` groups expanded).
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            let boundary = at == 0
                || !(bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b':');
            if !boundary {
                continue;
            }
            let root = start.trim_end_matches("::").to_string();
            let mut found = Vec::new();
            expand(&code[from..], Vec::new(), &mut found);
            for p in found {
                out.push((root.clone(), p));
            }
        }
    }
    out
}

/// Reads `a::b::{c, d::e}` at the start of `s` into full segment lists.
fn expand(s: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut segs = prefix;
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let st = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i > st {
            segs.push(s[st..i].to_string());
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if s[i..].starts_with("::") {
            i += 2;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b'{' {
                i += 1;
                loop {
                    i += expand(&s[i..], segs.clone(), out);
                    while i < b.len() && b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    match b.get(i) {
                        Some(b',') => i += 1,
                        Some(b'}') => return i + 1,
                        _ => return i,
                    }
                    while i < b.len() && b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'}') {
                        return i + 1;
                    }
                }
            }
            continue;
        }
        out.push(segs);
        return i;
    }
}

/// Module-level import edges of a set of (path relative to `src/`, source) files.
pub fn edges(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, source) in files {
        let Some(me) = module_of(rel) else { continue };
        for (root, segs) in paths(&strip(source)) {
            let mut base = match root.as_str() {
                "crate" => String::new(),
                "super" => parent(&me),
                _ => me.clone(),
            };
            let mut segs = segs.as_slice();
            while let Some(("super", rest)) = segs.split_first().map(|(h, r)| (h.as_str(), r)) {
                base = parent(&base);
                segs = rest;
            }
            // The longest prefix of the path that is a module.
            let mut target = base.clone();
            let mut cur = base;
            for s in segs {
                cur = if cur.is_empty() {
                    s.clone()
                } else {
                    format!("{cur}::{s}")
                };
                if modules.contains(&cur) {
                    target = cur.clone();
                }
            }
            if target != me && !is_ancestor(&target, &me) && !is_ancestor(&me, &target) {
                let (a, b) = siblings(&me, &target);
                graph.entry(a).or_default().insert(b);
            }
        }
    }
    graph
}

/// The two children of the deepest common ancestor of `a` and `b` that contain them.
fn siblings(a: &str, b: &str) -> (String, String) {
    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split("::").collect(), b.split("::").collect());
    let common = sa.iter().zip(&sb).take_while(|(x, y)| x == y).count();
    (sa[..=common].join("::"), sb[..=common].join("::"))
}

/// One import circle, as the list of modules around it, if there is any.
pub fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn read_tree(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            read_tree(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

#[test]
fn no_import_circle_between_modules_under_src() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    let graph = edges(&files);
    // The edges that issue 8 cut must stay cut, and the check must see the real ones.
    assert!(graph["pki::certfile"].contains("pki::pfx"), "{graph:?}");
    assert!(graph["pki::certfile"].contains("pki::chain"), "{graph:?}");
    assert!(graph["pki::pfx"].contains("pki::der"), "{graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import circle: {}", cycle.join(" -> "));
    }
}

#[test]
fn a_circle_is_found_through_groups_super_and_inline_paths() {
    let f = |p: &str, s: &str| (p.to_string(), s.to_string());
    let files = vec![
        f("lib.rs", "pub mod a;\n"),
        f("a/mod.rs", "pub mod x;\npub mod y;\npub mod z;\nuse self::x::Thing;\n"),
        f("a/x.rs", "use crate::a::{y::{One, Two}, other};\n"),
        f("a/y.rs", "fn f() { super::z::g(\"{\"); }\n"),
        f(
            "a/z.rs",
            "#[cfg(test)]\nmod tests {\n    use crate::a::y::T;\n}\n// crate::a::y::in_a_comment\nfn g() { let _ = \"crate::a::y\"; crate::a::x::h(); }\n",
        ),
    ];
    let graph = edges(&files);
    assert_eq!(graph["a::x"], BTreeSet::from(["a::y".to_string()]));
    assert_eq!(graph["a::y"], BTreeSet::from(["a::z".to_string()]));
    assert_eq!(graph["a::z"], BTreeSet::from(["a::x".to_string()]));
    assert!(!graph.contains_key("a"), "parent -> child is not an edge");
    let cycle = find_cycle(&graph).expect("x -> y -> z -> x");
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    // Through folders: p::q uses r, and r uses p::q.
    let folders = vec![
        f("p/mod.rs", "pub mod q;\n"),
        f("p/q.rs", "use crate::r::R;\n"),
        f("r.rs", "fn f() { crate::p::q::g(); }\n"),
    ];
    let graph = edges(&folders);
    assert_eq!(graph["p"], BTreeSet::from(["r".to_string()]));
    assert_eq!(graph["r"], BTreeSet::from(["p".to_string()]));
    assert!(find_cycle(&graph).is_some());
    // Without z's call back to x, there is no circle.
    let mut acyclic = files.clone();
    acyclic[4].1 = "fn g() {}\n".into();
    assert_eq!(find_cycle(&edges(&acyclic)), None);
}
