//! Reading the source tree for tests/architecture.rs: the files of src/,
//! comment-free lines, the names a path reaches, and the module graph of
//! src/ops with its cycles. Kept apart so the checks read as rules.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One source file: its path relative to the repository, and its text.
pub struct Source {
    pub path: String,
    pub text: String,
}

/// Every file under `dir` (recursively) whose name ends with one of `ends`,
/// in a stable order.
pub fn files_under(dir: &Path, ends: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path, ends));
        } else if ends.iter().any(|end| path.to_string_lossy().ends_with(end)) {
            found.push(path);
        }
    }
    found.sort();
    found
}

pub fn sources(ends: &[&str]) -> Vec<Source> {
    let root = root();
    files_under(&root.join("src"), ends)
        .into_iter()
        .map(|path| Source {
            path: path.strip_prefix(&root).unwrap().to_string_lossy().into_owned(),
            text: std::fs::read_to_string(&path).unwrap(),
        })
        .collect()
}

/// `text` without `//` comments (string literals holding `//` lose their
/// tail too, which only ever hides code, never invents it).
pub fn code_only(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

pub fn fail_with(what: &str, offences: &[String]) {
    assert!(offences.is_empty(), "{what} ({} places):\n{}\n", offences.len(), offences.join("\n"));
}

/// The first name of every path that follows `prefix` in `line` (each name
/// of a `{…}` group too).
pub fn names_after(line: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        if rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            rest = &rest[at + prefix.len()..];
            continue; // `mycrate::`, not `crate::`
        }
        rest = &rest[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') && depth == 1 => {
                        let name: String =
                            group[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        found.push(name);
                        item_start = false;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        } else {
            found.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    found
}

/// The modules of one folder of src/ops (or of src/ops itself) and which of
/// them each one uses: `crate::ops::x` between the top-level modules,
/// `super::x` and `crate::ops::<folder>::x` between files of one folder.
pub fn module_graph(folder: &str) -> BTreeMap<String, Vec<String>> {
    let dir = root().join("src/ops").join(folder);
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name != "mod" && (path.is_dir() || path.extension().is_some_and(|e| e == "rs")) {
            graph.insert(name, Vec::new());
        }
    }
    let prefixes: Vec<String> = match folder {
        "" => vec!["crate::ops::".to_owned()],
        _ => vec!["super::".to_owned(), format!("crate::ops::{folder}::")],
    };
    let modules: Vec<String> = graph.keys().cloned().collect();
    for module in &modules {
        let file = dir.join(format!("{module}.rs"));
        let files = if file.exists() { vec![file] } else { files_under(&dir.join(module), &[".rs"]) };
        let used: Vec<String> = files
            .iter()
            .flat_map(|f| std::fs::read_to_string(f).unwrap().lines().map(str::to_owned).collect::<Vec<_>>())
            .flat_map(|line| prefixes.iter().flat_map(|p| names_after(code_only(&line), p)).collect::<Vec<_>>())
            .filter(|used| used != module && modules.contains(used))
            .collect();
        let edges = graph.get_mut(module).unwrap();
        edges.extend(used);
        edges.sort();
        edges.dedup();
    }
    graph
}

/// A circle in `graph`, if there is one, as the modules along it.
pub fn cycle(graph: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.iter().any(|n| n == node) {
            return None;
        }
        path.push(node.to_owned());
        for next in &graph[node] {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.push(node.to_owned());
        None
    }
    let (mut path, mut done) = (Vec::new(), Vec::new());
    graph.keys().find_map(|node| visit(node, graph, &mut path, &mut done))
}
