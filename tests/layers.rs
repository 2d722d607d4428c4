//! The layer check: which module of `src/` may import which, written once as data (`LAYERS`,
//! `SAME_LEVEL`), and checked against the real imports.
//!
//! The sources are read as Rust (syn), not as text: strings and comments are tokens of their
//! own and cannot hide or fake a path. Every `use` item (nested ones too), every path in code
//! and every path inside a macro's tokens is resolved the way rustc resolves it: `crate::`,
//! `super::`, `self::`, a name bound by `use` (an alias such as `use crate::store;` followed by
//! `store::Store`), a child module; then through `pub use` re-exports to the module that defines
//! the item. `#[cfg(test)]` items and modules are left out (test kits may be shared).
//!
//! Two rules follow: an import between top-level modules must go down the table (or be one of
//! the same-level pairs listed), and no two modules import each other, directly or around a
//! circle (a module may use its ancestors and descendants: a `mod.rs` re-exports its children).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// The layers, top first. A module may import from any layer below its own.
/// `binder` (PowerShell's binding) sits above `ops`: the operations take typed arguments and
/// know nothing of parameters, and only the cmdlet layer translates between the two.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["psmodule", "completions"],
    &["cmdlets"],
    &["binder"],
    &["ops"],
    &["store", "output"],
    &["pki", "topology"],
    &["model", "error"],
];

/// Imports allowed between two modules of the same layer (from, to). None today: `store` and
/// `output` both sit on `pki`, `pki` and `topology` on `model`. A pair is added here, with its
/// reason, only when a real import needs it (a test keeps every pair in use).
const SAME_LEVEL: &[(&str, &str)] = &[];

// ---- the module tree ----

#[derive(Default, Debug)]
struct Module {
    /// Names bound by `use` in this module: name -> absolute path (segments), and whether the
    /// binding is `pub` (a re-export).
    bindings: BTreeMap<String, (Vec<String>, bool)>,
    /// Paths used anywhere in the module's code (relative, as written).
    paths: Vec<Vec<String>>,
    /// Child modules.
    children: BTreeSet<String>,
}

type Tree = BTreeMap<String, Module>;

fn join(m: &str, s: &str) -> String {
    if m.is_empty() {
        s.to_string()
    } else {
        format!("{m}::{s}")
    }
}

fn parent(m: &str) -> String {
    m.rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().split_whitespace().any(|t| t == "test"))
    })
}

/// Reads a module's items: its `use` bindings, the paths in its code, and (recursively) its
/// children, inline or in files beside it.
fn read_module(tree: &mut Tree, files: &Files, name: &str, dir: &str, items: &[syn::Item]) {
    let mut collect = Collect::default();
    for item in items {
        match item {
            syn::Item::Mod(m) if is_test_only(&m.attrs) => {}
            syn::Item::Mod(m) => {
                let child = m.ident.to_string();
                let child_name = join(name, &child);
                let child_dir = format!("{dir}{child}/");
                tree.entry(name.to_string())
                    .or_default()
                    .children
                    .insert(child.clone());
                if let Some((_, inner)) = &m.content {
                    read_module(tree, files, &child_name, &child_dir, inner);
                } else if let Some((src, child_dir)) = files.module_file(dir, &child) {
                    let file = syn::parse_file(src).unwrap_or_else(|e| panic!("{child_name}: {e}"));
                    read_module(tree, files, &child_name, &child_dir, &file.items);
                }
            }
            other => collect.visit_item(other),
        }
    }
    let me = tree.entry(name.to_string()).or_default();
    me.paths.extend(collect.paths);
    for (local, rel, public) in collect.uses {
        me.bindings.insert(local, (rel, public));
    }
}

/// Paths and use bindings of items (not descending into test-only items).
#[derive(Default)]
struct Collect {
    paths: Vec<Vec<String>>,
    /// (local name, path as written, pub)
    uses: Vec<(String, Vec<String>, bool)>,
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        let attrs = match i {
            syn::Item::Fn(x) => &x.attrs,
            syn::Item::Impl(x) => &x.attrs,
            syn::Item::Mod(x) => &x.attrs,
            syn::Item::Use(x) => &x.attrs,
            syn::Item::Struct(x) => &x.attrs,
            syn::Item::Enum(x) => &x.attrs,
            syn::Item::Const(x) => &x.attrs,
            syn::Item::Static(x) => &x.attrs,
            syn::Item::Trait(x) => &x.attrs,
            syn::Item::Macro(x) => &x.attrs,
            _ => return syn::visit::visit_item(self, i),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, i);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let public = matches!(
            u.vis,
            syn::Visibility::Public(_) | syn::Visibility::Restricted(_)
        );
        let mut prefix = Vec::new();
        if u.leading_colon.is_some() {
            return; // ::extern_crate
        }
        use_tree(&u.tree, &mut prefix, public, &mut self.uses);
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            self.paths
                .push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        scan_tokens(m.tokens.clone(), &mut self.paths);
    }
}

fn use_tree(
    t: &syn::UseTree,
    prefix: &mut Vec<String>,
    public: bool,
    out: &mut Vec<(String, Vec<String>, bool)>,
) {
    match t {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_tree(&p.tree, prefix, public, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut full = prefix.clone();
            if name != "self" {
                full.push(name.clone());
            }
            let local = if name == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                name
            };
            out.push((local, full, public));
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            out.push((r.rename.to_string(), full, public));
        }
        syn::UseTree::Glob(_) => {
            // A glob binds no one name; the module it names is still imported.
            out.push((format!("*{}", out.len()), prefix.clone(), public));
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_tree(t, prefix, public, out);
            }
        }
    }
}

/// Paths inside a macro's tokens (`format!("{}", crate::x::f())`, `matches!(e, a::B)`): each
/// run of `ident :: ident ...` not preceded by `::`.
fn scan_tokens(ts: proc_macro2::TokenStream, out: &mut Vec<Vec<String>>) {
    use proc_macro2::TokenTree;
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            TokenTree::Group(g) => {
                scan_tokens(g.stream(), out);
                i += 1;
            }
            TokenTree::Ident(id) => {
                let after_colons = i >= 2
                    && matches!((&toks[i - 2], &toks[i - 1]),
                        (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
                let mut segs = vec![id.to_string()];
                let mut j = i + 1;
                while j + 2 < toks.len() + 1 {
                    match (toks.get(j), toks.get(j + 1), toks.get(j + 2)) {
                        (
                            Some(TokenTree::Punct(a)),
                            Some(TokenTree::Punct(b)),
                            Some(TokenTree::Ident(n)),
                        ) if a.as_char() == ':' && b.as_char() == ':' => {
                            segs.push(n.to_string());
                            j += 3;
                        }
                        _ => break,
                    }
                }
                if !after_colons && segs.len() > 1 {
                    out.push(segs);
                }
                i = j;
            }
            _ => i += 1,
        }
    }
}

// ---- source files ----

/// Source files by path relative to `src/`.
struct Files(BTreeMap<String, String>);

impl Files {
    /// The file of module `child` declared in a module whose own files live in `dir`, and the
    /// folder its children live in.
    fn module_file(&self, dir: &str, child: &str) -> Option<(&str, String)> {
        let flat = format!("{dir}{child}.rs");
        let nested = format!("{dir}{child}/mod.rs");
        self.0
            .get(&flat)
            .or_else(|| self.0.get(&nested))
            .map(|s| (s.as_str(), format!("{dir}{child}/")))
    }
}

fn tree_of(files: &Files) -> Tree {
    let root = files.0.get("lib.rs").expect("lib.rs");
    let file = syn::parse_file(root).expect("lib.rs parses");
    let mut tree = Tree::new();
    read_module(&mut tree, files, "", "", &file.items);
    tree
}

// ---- resolution ----

/// The absolute path a path written in module `m` stands for, or `None` for paths outside the
/// crate (std, other crates, local variables and types).
fn absolute(tree: &Tree, m: &str, segs: &[String], depth: usize) -> Option<Vec<String>> {
    if depth > 16 || segs.is_empty() {
        return None;
    }
    let module_segs = |m: &str| -> Vec<String> {
        if m.is_empty() {
            Vec::new()
        } else {
            m.split("::").map(String::from).collect()
        }
    };
    let (head, rest) = (segs[0].as_str(), &segs[1..]);
    let mut base = match head {
        "crate" => Vec::new(),
        "self" => module_segs(m),
        "super" => module_segs(&parent(m)),
        _ => {
            let me = tree.get(m)?;
            if let Some((bound, _)) = me.bindings.get(head) {
                let mut full = absolute(tree, m, bound, depth + 1)?;
                full.extend(rest.iter().cloned());
                return Some(full);
            }
            if me.children.contains(head) {
                let mut full = module_segs(m);
                full.extend(segs.iter().cloned());
                return Some(full);
            }
            return None;
        }
    };
    let mut rest = rest;
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The modules an absolute path reaches: the longest module prefix, and, when the next
/// segment is a name that module re-exports, the module that name comes from (followed on).
fn targets(tree: &Tree, path: &[String], depth: usize, out: &mut BTreeSet<String>) {
    let mut module = String::new();
    let mut i = 0;
    while i < path.len() {
        let next = join(&module, &path[i]);
        if tree.contains_key(&next) {
            module = next;
            i += 1;
        } else {
            break;
        }
    }
    out.insert(module.clone());
    if depth > 16 {
        return;
    }
    if let Some(name) = path.get(i) {
        if let Some((bound, _)) = tree[&module].bindings.get(name) {
            if let Some(mut full) = absolute(tree, &module, bound, 0) {
                full.extend(path[i + 1..].iter().cloned());
                targets(tree, &full, depth + 1, out);
            }
        }
    }
}

fn is_ancestor(a: &str, b: &str) -> bool {
    a.is_empty() || b.starts_with(&format!("{a}::"))
}

/// Every module-to-module import (module -> modules it uses), ancestors and descendants left
/// out.
fn imports(tree: &Tree) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, module) in tree {
        let written = module
            .paths
            .iter()
            .chain(module.bindings.values().map(|(p, _)| p));
        for p in written {
            let Some(abs) = absolute(tree, m, p, 0) else {
                continue;
            };
            let mut found = BTreeSet::new();
            targets(tree, &abs, 0, &mut found);
            for t in found {
                if t != *m && !is_ancestor(&t, m) && !is_ancestor(m, &t) {
                    out.entry(m.clone()).or_default().insert(t);
                }
            }
        }
    }
    out
}

/// The two children of the deepest common ancestor of `a` and `b` that contain them.
fn siblings(a: &str, b: &str) -> (String, String) {
    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split("::").collect(), b.split("::").collect());
    let common = sa.iter().zip(&sb).take_while(|(x, y)| x == y).count();
    (sa[..=common].join("::"), sb[..=common].join("::"))
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

/// What is wrong with the imports: upward or unlisted same-level imports between top-level
/// modules, unknown top-level modules, and one circle if there is one.
fn problems(files: &Files) -> Vec<String> {
    let tree = tree_of(files);
    let graph = imports(&tree);
    let mut out = Vec::new();
    for top in &tree[""].children {
        if layer_of(top).is_none() {
            out.push(format!("module {top} is in no layer of LAYERS"));
        }
    }
    let mut between: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &graph {
        for to in tos {
            let (a, b) = siblings(from, to);
            between.entry(a.clone()).or_default().insert(b.clone());
            let (ta, tb) = (
                from.split("::").next().unwrap_or(""),
                to.split("::").next().unwrap_or(""),
            );
            if ta == tb {
                continue;
            }
            let (Some(la), Some(lb)) = (layer_of(ta), layer_of(tb)) else {
                continue;
            };
            let allowed = la < lb || (la == lb && SAME_LEVEL.contains(&(ta, tb)));
            if !allowed {
                out.push(format!("{from} imports {to}: {ta} may not use {tb}"));
            }
        }
    }
    if let Some(cycle) = find_cycle(&between) {
        out.push(format!("import circle: {}", cycle.join(" -> ")));
    }
    out
}

fn read_src(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_src(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read_to_string(&p).unwrap());
        }
    }
}

fn probe(files: &[(&str, &str)]) -> Vec<String> {
    problems(&Files(
        files
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect(),
    ))
}

// ---- the checks ----

#[test]
fn src_imports_follow_the_layer_table_without_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_src(&root, &root, &mut files);
    let files = Files(files);
    let found = problems(&files);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The check sees real imports (so that an empty list means something).
    let graph = imports(&tree_of(&files));
    assert!(
        graph["cmdlets::request"].contains("ops::request"),
        "{graph:?}"
    );
    assert!(graph["pki::certfile"].contains("pki::pfx"), "{graph:?}");
}

#[test]
fn the_layout_doc_states_the_layer_table() {
    // docs/layout.md once the README's development notes moved there, else the README.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("docs/layout.md"))
        .or_else(|_| std::fs::read_to_string(root.join("README.md")))
        .unwrap();
    let line = LAYERS
        .iter()
        .map(|l| {
            l.iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect::<Vec<_>>()
        .join(" -> ");
    assert!(readme.contains(&line), "the layout doc must state: {line}");
    for (a, b) in SAME_LEVEL {
        assert!(
            readme.contains(&format!("`{a}` -> `{b}`")),
            "the layout doc must list the same-level import {a} -> {b}"
        );
    }
}

#[test]
fn every_allowed_same_level_import_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_src(&root, &root, &mut files);
    let graph = imports(&tree_of(&Files(files)));
    let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
    for (a, b) in SAME_LEVEL {
        assert!(
            graph
                .iter()
                .any(|(f, ts)| top(f) == *a && ts.iter().any(|t| top(t) == *b)),
            "SAME_LEVEL allows {a} -> {b}, which no module uses: remove it"
        );
    }
}

const PROBE_LIB: &str = "pub mod cli; pub mod ops; pub mod store; pub mod model;";

#[test]
fn an_upward_import_is_refused() {
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        ("cli.rs", "fn f() { crate::ops::run(); }"),
        ("ops.rs", "use crate::store::Store;"),
        ("store.rs", "fn f() { let _ = crate::ops::run; }"),
        ("model.rs", ""),
    ]);
    assert!(
        found.contains(&"store imports ops: store may not use ops".to_string()),
        "{found:?}"
    );
    // Downward only: nothing to report.
    let clean = probe(&[
        ("lib.rs", PROBE_LIB),
        ("cli.rs", "use crate::ops;"),
        ("ops.rs", "use crate::store::Store;"),
        ("store.rs", "use crate::model::Thing;"),
        ("model.rs", ""),
    ]);
    assert!(clean.is_empty(), "{clean:?}");
}

#[test]
fn a_circle_through_a_parents_re_export_is_found() {
    // ops::x uses `super::Thing`, which ops re-exports from ops::y; ops::y uses ops::x.
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        (
            "ops/mod.rs",
            "pub mod x; pub mod y; pub use self::y::Thing;",
        ),
        ("ops/x.rs", "use super::Thing; pub fn h() {}"),
        (
            "ops/y.rs",
            "pub struct Thing; fn f() { crate::ops::x::h(); }",
        ),
        ("cli.rs", ""),
        ("store.rs", ""),
        ("model.rs", ""),
    ]);
    assert!(
        found.iter().any(|p| p.starts_with("import circle: ops::")),
        "{found:?}"
    );
    // An upward import through a re-export: store uses model's re-export of ops.
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        ("model.rs", "pub use crate::ops::Run;"),
        ("store.rs", "use crate::model::Run;"),
        ("ops.rs", "pub struct Run;"),
        ("cli.rs", ""),
    ]);
    assert!(
        found.contains(&"store imports ops: store may not use ops".to_string()),
        "{found:?}"
    );
}

#[test]
fn a_circle_through_a_module_alias_is_found() {
    // ops::x binds the module `y` with `use crate::ops::y;` (or its parent `use crate::ops;`)
    // and calls through the alias; ops::y calls ops::x.
    for alias in [
        "use crate::ops::y; fn f() { y::g(); }",
        "use crate::ops; fn f() { ops::y::g(); }",
        "use crate::ops::y as other; fn f() { other::g(); }",
    ] {
        let found = probe(&[
            ("lib.rs", PROBE_LIB),
            ("ops/mod.rs", "pub mod x; pub mod y;"),
            ("ops/x.rs", alias),
            ("ops/y.rs", "pub fn g() { super::x::f(); }"),
            ("cli.rs", ""),
            ("store.rs", ""),
            ("model.rs", ""),
        ]);
        assert!(
            found.iter().any(|p| p.starts_with("import circle: ops::")),
            "{alias}: {found:?}"
        );
    }
}

#[test]
fn a_path_after_a_string_with_two_slashes_is_seen() {
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        (
            "store.rs",
            "fn f() { let url = \"https://example.com/\"; crate::ops::run(url); }",
        ),
        ("ops.rs", "pub fn run(_: &str) {}"),
        ("cli.rs", ""),
        ("model.rs", ""),
    ]);
    assert_eq!(
        found,
        vec!["store imports ops: store may not use ops"],
        "{found:?}"
    );
    // Inside a macro's tokens as well, and a path only in a comment or a string is no import.
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        (
            "store.rs",
            "// crate::ops::run()\nfn f() { let _ = \"crate::ops::run\"; println!(\"{}//\", crate::ops::name()); }",
        ),
        ("ops.rs", "pub fn name() -> u8 { 0 }"),
        ("cli.rs", ""),
        ("model.rs", ""),
    ]);
    assert_eq!(
        found,
        vec!["store imports ops: store may not use ops"],
        "{found:?}"
    );
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        (
            "store.rs",
            "// crate::ops::run()\nfn f() { let _ = \"crate::ops::run\"; }",
        ),
        ("ops.rs", ""),
        ("cli.rs", ""),
        ("model.rs", ""),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn test_only_modules_and_items_are_not_counted() {
    let found = probe(&[
        ("lib.rs", PROBE_LIB),
        (
            "store.rs",
            "#[cfg(test)] mod kit; #[cfg(test)] mod tests { use crate::ops::run; }\n#[cfg(test)]\nfn helper() { crate::ops::run(); }",
        ),
        ("store/kit.rs", "use crate::ops::run;"),
        ("ops.rs", "pub fn run() {}"),
        ("cli.rs", ""),
        ("model.rs", ""),
    ]);
    assert!(found.is_empty(), "{found:?}");
}
