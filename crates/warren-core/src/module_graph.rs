//! Keeps warren-core layered: no top-level module may import one that imports it back, directly
//! or through others. A cycle makes a module impossible to understand or test without the ones
//! above it, so this test reads the crate's own sources, builds the graph of `crate::` paths
//! between top-level modules, and fails naming the cycle. docs/ARCHITECTURE.md shows the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules a source text names through `crate::` paths (including grouped
/// `use crate::{a, b::c}`). Whole-line comments are skipped: doc links are not imports.
fn imports(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        // `warren_core::crate::` does not exist; but `my_crate::` must not count.
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(&group[item_start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(&group[item_start..j]));
                        item_start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// The graph of the crate under `src`: each top-level module (a file `x.rs` or a folder `x/`)
/// and the other top-level modules it imports.
fn crate_graph(src: &Path) -> Graph {
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "module_graph" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(imports(&text).into_iter().filter(|m| *m != module));
    }
    graph
}

/// One cycle of the graph, as the modules along it (the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|n| n == node).expect("on the path");
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn warren_core_has_no_import_cycle() {
    let graph = crate_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        graph.len() > 10 && graph.values().any(|e| !e.is_empty()),
        "the crate's modules were not found: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between warren-core modules: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let source = "//! See [`crate::doc_only`].\n\
                  use crate::error::{Error, Result};\n\
                  use crate::{api, broker::{self, QueueType}};\n\
                  fn f() { crate::session::now_ms(); my_crate::other(); }\n";
    assert_eq!(
        imports(source),
        ["api", "broker", "error", "session"]
            .map(String::from)
            .into()
    );
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph = |edges: &[(&str, &str)]| -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let layered = graph(&[
        ("cluster", "status"),
        ("status", "api"),
        ("peek", "cluster"),
    ]);
    assert_eq!(find_cycle(&layered), None);
    let cyclic = graph(&[
        ("cluster", "status"),
        ("status", "peek"),
        ("peek", "cluster"),
        ("peek", "api"),
    ]);
    assert_eq!(
        find_cycle(&cyclic).map(|c| c.join(" -> ")).as_deref(),
        Some("cluster -> status -> peek -> cluster")
    );
    let pair = graph(&[("endpoint", "profiles"), ("profiles", "endpoint")]);
    assert_eq!(
        find_cycle(&pair).map(|c| c.join(" -> ")).as_deref(),
        Some("endpoint -> profiles -> endpoint")
    );
}

#[test]
fn the_crate_graph_reflects_the_sources() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir(src.join("peek")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;").unwrap();
    std::fs::write(src.join("cluster.rs"), "use crate::peek::run;").unwrap();
    std::fs::write(src.join("peek/mod.rs"), "mod plan;").unwrap();
    std::fs::write(src.join("peek/plan.rs"), "use crate::cluster::OpenCluster;").unwrap();
    let graph = crate_graph(src);
    assert_eq!(graph.len(), 2);
    assert_eq!(
        find_cycle(&graph).map(|c| c.join(" -> ")).as_deref(),
        Some("cluster -> peek -> cluster")
    );
}
