//! The module rules of docs/architecture.md, checked against the code: every `crate::` path in
//! `src/` is an import of one top-level module by another; the document's `layers` table says
//! which imports each module may make. Fails on an import the table does not allow, on any
//! cycle between top-level modules, and on a module of `src/lib.rs` the table leaves out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// One import seen in the code: where, and of which module.
struct Import {
    file: PathBuf,
    line: usize,
    to: String,
}

const DOC: &str = "docs/architecture.md";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level modules `src/lib.rs` declares (`mod x;` or `pub mod x;`).
fn lib_modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("pub ").unwrap_or(line);
            let name = line.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_owned())
        })
        .collect()
}

/// The document's table: the fenced block marked `layers`, one `module: a, b, c` a line
/// (`module: -` for a module that imports no other).
fn layers_table(doc: &str) -> Result<Graph, String> {
    let mut lines = doc.lines().skip_while(|line| line.trim() != "```layers");
    if lines.next().is_none() {
        return Err(format!("{DOC} has no ```layers block"));
    }
    let mut table = Graph::new();
    for line in lines.take_while(|line| line.trim() != "```") {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (module, allowed) = line
            .split_once(':')
            .ok_or_else(|| format!("{DOC}: the layers line {line:?} is not `module: a, b, c`"))?;
        let allowed = allowed
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty() && *name != "-")
            .map(str::to_owned)
            .collect();
        if table.insert(module.trim().to_owned(), allowed).is_some() {
            return Err(format!("{DOC}: the layers table names {module} twice"));
        }
    }
    Ok(table)
}

/// The top-level modules a piece of Rust names through `crate::`: `crate::x::…`,
/// `use crate::x;` and `use crate::{x::…, y};`. Comments are skipped; macros
/// (`crate::named_values!`) and external crates (`phonenumber::…`) are not modules of `modules`.
fn referenced(line: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for path in group.split(',') {
                found.insert(first_segment(path.trim()));
            }
        } else {
            let name = first_segment(after);
            let is_macro = after[name.len()..].starts_with('!');
            if !is_macro {
                found.insert(name);
            }
        }
        rest = after;
    }
    found.retain(|name| modules.contains(name));
    found
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level module a file of `src/` belongs to: `src/x.rs` and everything under `src/x/`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).ok()?.components().next()?;
    let name = first.as_os_str().to_str()?;
    Some(name.strip_suffix(".rs").unwrap_or(name).to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Every import between two different top-level modules, by importing module.
fn imports(src: &Path, modules: &BTreeSet<String>) -> BTreeMap<String, Vec<Import>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found: BTreeMap<String, Vec<Import>> = BTreeMap::new();
    for file in files {
        let Some(from) = module_of(src, &file).filter(|m| modules.contains(m)) else {
            continue;
        };
        let text = fs::read_to_string(&file).unwrap_or_default();
        for (index, line) in text.lines().enumerate() {
            for to in referenced(line, modules) {
                if to != from {
                    found.entry(from.clone()).or_default().push(Import {
                        file: file.clone(),
                        line: index + 1,
                        to,
                    });
                }
            }
        }
    }
    found
}

/// The first cycle found, as the modules along it with the first repeated at the end.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_code_keeps_the_layers_docs_architecture_states() {
    let root = root();
    let src = root.join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let doc = fs::read_to_string(root.join(DOC)).expect("the architecture document");
    let modules = lib_modules(&lib);
    let table = layers_table(&doc).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();

    for module in &modules {
        if !table.contains_key(module) {
            problems.push(format!(
                "src/lib.rs declares `{module}`, which the layers table of {DOC} does not name"
            ));
        }
    }
    for (module, allowed) in &table {
        for name in std::iter::once(module).chain(allowed) {
            if !modules.contains(name) {
                problems.push(format!(
                    "the layers table of {DOC} names `{name}` (line `{module}: …`), which src/lib.rs does not declare"
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(&table) {
        problems.push(format!(
            "the layers table of {DOC} itself allows a cycle: {}",
            cycle.join(" → ")
        ));
    }

    let found = imports(&src, &modules);
    let mut graph = Graph::new();
    for (from, list) in &found {
        let allowed = table.get(from);
        for import in list {
            graph
                .entry(from.clone())
                .or_default()
                .insert(import.to.clone());
            if !allowed.is_some_and(|allowed| allowed.contains(&import.to)) {
                let rule = allowed.map_or_else(
                    || "no rule".to_owned(),
                    |a| {
                        let names: Vec<_> = a.iter().map(String::as_str).collect();
                        format!("`{from}: {}`", names.join(", "))
                    },
                );
                problems.push(format!(
                    "{}:{} imports crate::{}, which {DOC} does not allow {from} to (its rule: {rule})",
                    import
                        .file
                        .strip_prefix(&root)
                        .unwrap_or(&import.file)
                        .display(),
                    import.line,
                    import.to,
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        problems.push(format!(
            "the top-level modules import each other in a cycle: {}",
            cycle.join(" → ")
        ));
    }

    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[cfg(test)]
mod the_check_itself {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph
                .entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            graph.entry((*to).to_owned()).or_default();
        }
        graph
    }

    #[test]
    fn a_cycle_is_found_and_named_along_its_modules() {
        let cyclic = graph(&[
            ("config", "settings"),
            ("sources", "http"),
            ("http", "live"),
            ("live", "sources"),
        ]);
        let cycle = find_cycle(&cyclic).expect("a cycle");
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
        for module in ["sources", "http", "live"] {
            assert!(cycle.iter().any(|m| m == module), "{cycle:?}");
        }
        assert_eq!(
            find_cycle(&graph(&[("a", "a")])),
            Some(vec!["a".into(), "a".into()])
        );
    }

    #[test]
    fn a_layered_graph_has_no_cycle() {
        let layered = graph(&[("a", "b"), ("a", "c"), ("b", "c"), ("d", "c")]);
        assert_eq!(find_cycle(&layered), None);
    }

    #[test]
    fn imports_are_read_in_every_spelling() {
        let modules: BTreeSet<String> = ["domain", "store", "http", "named"]
            .iter()
            .map(|m| (*m).to_owned())
            .collect();
        let names = |line| referenced(line, &modules).into_iter().collect::<Vec<_>>();
        assert_eq!(names("use crate::store::{A, B};"), ["store"]);
        assert_eq!(
            names("use crate::{domain::E164, store};"),
            ["domain", "store"]
        );
        assert_eq!(
            names("    x: crate::http::ApiError, // crate::named"),
            ["http"]
        );
        assert!(names("crate::named_values! {").is_empty());
        assert!(names("use phonenumber::Mode; use crate::tls;").is_empty());
    }

    #[test]
    fn the_table_reads_modules_and_their_allowed_imports() {
        let doc = "text\n```layers\n# comment\nconfig: settings, domain\ndomain: -\n```\nmore";
        let table = layers_table(doc).expect("a table");
        assert_eq!(table["config"].len(), 2);
        assert!(table["domain"].is_empty());
        assert!(layers_table("no table").is_err());
    }
}
