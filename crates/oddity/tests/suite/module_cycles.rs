//! The library's top-level modules (`src/<module>.rs`, `src/<module>/…`) import each other without
//! a cycle: read from the `crate::<module>` paths of every source file, comments (doc links) and
//! test-only code left out (`#[cfg(test)]` modules, inline or in files of their own).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of `text`: comment lines and the test module (which closes a file here) left out.
fn code(text: &str) -> String {
    let text = text.find("#[cfg(test)]\nmod tests").map_or(text, |i| &text[..i]);
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files declared test-only by `#[cfg(test)] mod name;` in `file`.
fn test_only_files(file: &Path, text: &str) -> Vec<PathBuf> {
    let dir = match file.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs") => file.parent().unwrap().to_path_buf(),
        _ => file.with_extension(""),
    };
    let mut out = Vec::new();
    for part in text.split("#[cfg(test)]").skip(1) {
        let decl = part.trim_start();
        if let Some(name) = decl
            .strip_prefix("mod ")
            .and_then(|r| r.split_once(';'))
            .map(|(n, _)| n.trim())
            && !name.contains(char::is_whitespace)
        {
            out.push(dir.join(format!("{name}.rs")));
            out.push(dir.join(name).join("mod.rs"));
        }
    }
    out
}

/// Top-level modules named by `crate::x` and `crate::{x, y::…}` paths in `text`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut out = BTreeSet::new();
    for part in text.split("crate::").skip(1) {
        if let Some(group) = part.strip_prefix('{') {
            // Names at depth 0 of the braced group.
            let (mut depth, mut start) = (0usize, true);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(part));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// The imports between top-level modules: module → the modules it names.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let texts: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|f| {
            let t = fs::read_to_string(&f).unwrap();
            (f, t)
        })
        .collect();
    let test_only: BTreeSet<PathBuf> = texts.iter().flat_map(|(f, t)| test_only_files(f, t)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in &texts {
        let rel = file.strip_prefix(&root).unwrap();
        if rel == Path::new("lib.rs") || test_only.contains(file) {
            continue;
        }
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let uses = graph.entry(module.clone()).or_default();
        uses.extend(crate_paths(&code(text)).into_iter().filter(|m| *m != module));
    }
    graph
}

/// Modules on a cycle: those that reach themselves.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let reaches = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = vec![from];
        while let Some(m) = todo.pop() {
            for next in graph.get(m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next);
                }
            }
        }
        seen
    };
    graph.keys().filter(|m| reaches(m).contains(*m)).cloned().collect()
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let graph = module_graph();
    assert!(graph.len() > 15 && graph["eval"].contains("registry"), "{graph:?}");
    let on_cycle = cycles(&graph);
    let edges: Vec<String> = on_cycle
        .iter()
        .flat_map(|m| {
            graph[m]
                .iter()
                .filter(|n| on_cycle.contains(n))
                .map(move |n| format!("{m} → {n}"))
        })
        .collect();
    assert!(on_cycle.is_empty(), "modules on an import cycle: {edges:?}");
}

#[test]
fn the_cycle_check_finds_a_cycle_and_reads_grouped_paths() {
    let paths = crate_paths("use crate::{a::B, b::{c, d}};\nuse crate::e::F;\nx(crate::f::g())");
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), ["a", "b", "e", "f"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .map(|(m, n)| (m.to_string(), BTreeSet::from([n.to_string()])))
        .collect();
    assert_eq!(cycles(&graph), ["a", "b", "c"]);
}
