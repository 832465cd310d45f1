//! Checks that keep the core's shape (issue 12), without a database:
//!
//! - no blueprint vocabulary in `src/`: the core knows tenancy, not any
//!   domain; a pack's tables, types, schemas and attribute values live in
//!   its own directory under `templates/`;
//! - only `src/cli/` (and `src/main.rs`) reaches the terminal;
//! - dependencies run one way: `cli → ops → model/store → pg`.
//!
//! Each test prints every offending `file:line` so the fix is obvious.

mod source_tree;

use std::collections::BTreeMap;

use regex::Regex;
use source_tree::{code_only, cycle, fail_with, files_under, module_graph, names_after, root, sources};

// ---------------------------------------------------------------------------
// No blueprint vocabulary in src/.

/// Words a shipped pack uses that are also provision's own, or plain
/// English and PostgreSQL: they name no domain.
const GENERIC: &[&str] = &[
    "roles",       // PostgreSQL roles: provision's store/roles.rs, the tenant's role groups
    "permissions", // file permissions (std::fs::Permissions), pgpass and sandbox checks
    "users",       // PostgreSQL users, and English ("users of a tenant")
    "policies",    // row-level security policies (health_insurance has a policies table)
    "members",     // role members (pg_auth_members), a schema's members (pg_depend)
    "sessions",    // PostgreSQL sessions (backends holding locks)
    "claims",      // English ("another shared migration claims version N")
    "files",       // files on disk (sample files, service files, migration files); intelipro_renewal has a files table
    "templates",   // provision's own templates (templates/<name>/, template databases), and message templates
    "emails",      // English: the administrators' e-mail addresses (cli/context.rs)
    "clients",     // PostgreSQL client connections (tokio_postgres::Client, a fleet's workers); cma has a clients table
    "cases",       // English ("the use cases"); cma has a cases table
    "documents",   // the `--json` documents every command prints; claimflow and cma have documents tables
    // provision's own table shared.data_retention_policies (core V9), which rollover reads; intelipro_renewal's
    // tenant schema has the insurer's table of the same name
    "data_retention_policies",
];

/// The issue's examples of domain words, checked also as a part of a longer
/// identifier (`insurance_provider`, "Agent Mitra's").
const DOMAIN_WORDS: &[&str] = &["insurance", "policyholder", "policyholders", "portal", "mitra"];

/// Shared migrations of the Agent Mitra pack that used to live in
/// migrations/ (design: V3, V4, V6, V7 and V8 move to
/// templates/agent_mitra/shared/). Scanned while they are still here.
const MOVED_TO_PACK: &[&str] = &["V3__", "V4__", "V6__", "V7__", "V8__"];

/// Names of what `sql` creates: tables, views, types, domains, schemas,
/// functions and procedures, unqualified and lower-cased. Temporary objects
/// (`TEMP`, `pg_temp.`) are a script's scratch, not vocabulary.
fn created_names(sql: &str) -> Vec<String> {
    let create = Regex::new(
        r#"(?i)\bCREATE\s+(?:OR\s+REPLACE\s+)?((?:UNLOGGED|TEMP|TEMPORARY)\s+)?(?:TABLE|TYPE|DOMAIN|SCHEMA|VIEW|MATERIALIZED\s+VIEW|FUNCTION|PROCEDURE)\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:(\{\{[^}]*\}\}|"?\w+"?)\s*\.\s*)?"?(\w+)"?"#,
    )
    .unwrap();
    create
        .captures_iter(sql)
        .filter(|c| !c.get(1).is_some_and(|m| m.as_str().to_ascii_uppercase().starts_with("TEMP")))
        .filter(|c| !c.get(2).is_some_and(|m| m.as_str().eq_ignore_ascii_case("pg_temp")))
        .map(|c| c[3].to_ascii_lowercase())
        .collect()
}

/// Strings of `value` at a TOML path like `attributes.*.values`.
fn toml_strings(value: &toml::Value, path: &[&str]) -> Vec<String> {
    let Some((first, rest)) = path.split_first() else {
        return match value {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(items) => items.iter().flat_map(|i| toml_strings(i, path)).collect(),
            _ => Vec::new(),
        };
    };
    match (value, *first) {
        (toml::Value::Table(table), "*") => table.values().flat_map(|v| toml_strings(v, rest)).collect(),
        (toml::Value::Table(table), key) => table.get(key).map(|v| toml_strings(v, rest)).unwrap_or_default(),
        (toml::Value::Array(items), _) => items.iter().flat_map(|i| toml_strings(i, path)).collect(),
        _ => Vec::new(),
    }
}

/// Every word a shipped pack names, with where it was found.
fn pack_vocabulary() -> BTreeMap<String, String> {
    let mut words = BTreeMap::new();
    let root = root();
    let packs = files_under(&root.join("templates"), &["blueprint.toml"]);
    assert!(!packs.is_empty(), "no pack found under templates/");
    let mut sql_files = Vec::new();
    for manifest in &packs {
        let dir = manifest.parent().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().to_ascii_lowercase();
        words.insert(name.clone(), format!("the pack templates/{name}"));
        let value: toml::Value = toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
        for path in [
            &["name"][..],
            &["attributes", "*", "values"],
            &["attributes", "*", "default"],
            &["partitioned", "table"],
            &["audit", "exclude"],
            &["shared", "schemas"],
        ] {
            for word in toml_strings(&value, path) {
                words.insert(word.to_ascii_lowercase(), format!("templates/{name}/blueprint.toml {}", path.join(".")));
            }
        }
        sql_files.extend(files_under(dir, &[".sql", ".sql.tera"]));
    }
    let moved = files_under(&root.join("migrations"), &[".sql"]).into_iter().filter(|p| {
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        MOVED_TO_PACK.iter().any(|v| file.starts_with(v))
    });
    sql_files.extend(moved);
    for file in sql_files {
        let shown = file.strip_prefix(&root).unwrap().display().to_string();
        for word in created_names(&std::fs::read_to_string(&file).unwrap()) {
            words.entry(word).or_insert_with(|| shown.clone());
        }
    }
    for word in GENERIC {
        words.remove(*word);
    }
    words
}

/// Why `word` (one identifier of src/) is pack vocabulary, if it is.
fn domain_word(word: &str, vocabulary: &BTreeMap<String, String>) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    if let Some(origin) = vocabulary.get(&lower) {
        return Some(format!("`{word}` is named by {origin}"));
    }
    let part = lower.split('_').find(|part| DOMAIN_WORDS.contains(part))?;
    Some(format!("`{word}` holds the domain word `{part}`"))
}

#[test]
fn the_vocabulary_collector_finds_what_packs_name() {
    let sql = "CREATE TABLE IF NOT EXISTS {{ schema }}.widgets (id int);\nCREATE OR REPLACE FUNCTION \
               shared.touch() RETURNS trigger;\nCREATE TYPE \"Gadget_Kind\" AS ENUM ('a');\n\
               CREATE SCHEMA IF NOT EXISTS depot;\nCREATE MATERIALIZED VIEW x.totals AS SELECT 1;\n\
               CREATE UNIQUE INDEX idx_widgets ON t (a);\nCREATE TEMP TABLE pick (n int);\n\
               CREATE FUNCTION pg_temp.draw() RETURNS int;";
    assert_eq!(created_names(sql), ["widgets", "touch", "gadget_kind", "depot", "totals"]);
    let vocabulary = pack_vocabulary();
    for word in ["agent_mitra", "session_analytics", "policyholders", "users"] {
        assert!(vocabulary.contains_key(word) != GENERIC.contains(&word), "{word}: {vocabulary:?}");
    }
    assert!(domain_word("Mitra", &vocabulary).is_some());
    assert!(domain_word("tenant_type", &vocabulary).is_none());
}

#[test]
fn no_blueprint_vocabulary_in_src() {
    let vocabulary = pack_vocabulary();
    let identifier = Regex::new(r"[A-Za-z0-9_]+").unwrap();
    let mut offences = Vec::new();
    for source in sources(&[".rs", ".sql"]) {
        for (number, line) in source.text.lines().enumerate() {
            for word in identifier.find_iter(line) {
                if let Some(why) = domain_word(word.as_str(), &vocabulary) {
                    offences.push(format!("{}:{}: {why}: {}", source.path, number + 1, line.trim()));
                }
            }
        }
    }
    fail_with("src/ names what only a blueprint pack may name; move it to templates/<pack>/", &offences);
}

// ---------------------------------------------------------------------------
// Only cli/ reaches the terminal.

fn outside_cli(path: &str) -> bool {
    !path.starts_with("src/cli/") && path != "src/main.rs"
}

/// The one print outside cli/: a failpoint's last words before it aborts the
/// process (tests/crash.rs reads them); no reporter survives an abort.
const MAY_PRINT: &[&str] = &["src/failpoint.rs"];

#[test]
fn only_cli_reaches_the_terminal() {
    let crates = Regex::new(r"\b(clap|console|indicatif)\s*::|\buse\s+(clap|console|indicatif)\b").unwrap();
    let prints = Regex::new(r"\b(e?println|e?print|dbg)!|\bio::(stdout|stderr)\s*\(").unwrap();
    let mut offences = Vec::new();
    for source in sources(&[".rs"]).into_iter().filter(|s| outside_cli(&s.path)) {
        for (number, line) in source.text.lines().enumerate() {
            let code = code_only(line);
            let printing = prints.is_match(code) && !MAY_PRINT.contains(&source.path.as_str());
            if crates.is_match(code) || printing {
                offences.push(format!("{}:{}: {}", source.path, number + 1, line.trim()));
            }
        }
    }
    fail_with("only src/cli/ may use clap, console, indicatif or print; report through crate::report", &offences);
}

// ---------------------------------------------------------------------------
// Dependencies run one way.

/// The layer of a file under src/: its first directory, or `top` for
/// lib.rs, main.rs, error.rs, report.rs and failpoint.rs.
fn layer(path: &str) -> &str {
    let rest = path.strip_prefix("src/").unwrap();
    match rest.split_once('/') {
        Some((dir, _)) => dir,
        None => "top",
    }
}

/// What each layer must not reach.
fn forbidden(layer: &str) -> &'static [&'static str] {
    match layer {
        "cli" => &[],
        "ops" => &["cli"],
        "model" => &["cli", "ops", "store"],
        "store" => &["cli", "ops"],
        "pg" => &["cli", "ops", "store", "model"],
        // error, report, failpoint: used by every layer, so they use none.
        _ => &["cli", "ops", "store", "model", "pg"],
    }
}

/// The top-level modules a line reaches through `crate::`, including the
/// groups of `use crate::{a::x, b::{y, z}}`.
fn crate_modules(line: &str) -> Vec<String> {
    names_after(line, "crate::")
}

#[test]
fn crate_paths_are_read_with_their_groups() {
    assert_eq!(crate_modules("use crate::{store::audit, ops::{a, b}, pg};"), ["store", "ops", "pg"]);
    assert_eq!(crate_modules("let x = crate::ops::gate::check(crate::model::t);"), ["ops", "model"]);
}

#[test]
fn dependencies_run_one_way() {
    let mut offences = Vec::new();
    for source in sources(&[".rs"]) {
        if source.path == "src/main.rs" || source.path == "src/lib.rs" {
            continue;
        }
        let layer = layer(&source.path);
        for (number, line) in source.text.lines().enumerate() {
            for reached in crate_modules(code_only(line)) {
                if forbidden(layer).contains(&reached.as_str()) {
                    offences.push(format!(
                        "{}:{}: {layer} reaches {reached}: {}",
                        source.path,
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    fail_with("dependencies must run cli → ops → model/store → pg", &offences);
}

#[test]
fn a_cycle_is_found() {
    let graph: BTreeMap<String, Vec<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(names_after("use super::{canonical::{self, X}, digest};", "super::"), ["canonical", "digest"]);
}

#[test]
fn ops_modules_form_no_cycle() {
    let mut folders = vec![String::new()];
    for entry in std::fs::read_dir(root().join("src/ops")).unwrap() {
        let path = entry.unwrap().path();
        let folder = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && path.join("mod.rs").exists() {
            folders.push(folder);
        }
    }
    for folder in folders {
        let graph = module_graph(&folder);
        if let Some(circle) = cycle(&graph) {
            panic!("src/ops/{folder}: modules depend on each other in a circle: {}\n{graph:#?}", circle.join(" → "));
        }
    }
}

/// Advisory-lock keys have one owner, `src/store/lock.rs`: nothing else
/// names a key (`provision:…`) or turns a name into one (`hashtextextended`).
#[test]
fn advisory_lock_keys_are_made_in_one_place() {
    let spelled = Regex::new(r#"hashtextextended|"provision:[a-z]"#).unwrap();
    let mut offences = Vec::new();
    for source in sources(&[".rs", ".sql"]) {
        if source.path == "src/store/lock.rs" || source.path.starts_with("src/store/sql/lock_") {
            continue;
        }
        for (number, line) in source.text.lines().enumerate() {
            // A row's checksum (tenant move) hashes text too, but makes no key.
            let row_checksum = source.path == "src/ops/tenant_move/sql/checksums.sql" && line.contains("(r::text, 0)");
            if spelled.is_match(code_only(line)) && !row_checksum {
                offences.push(format!("{}:{}: {}", source.path, number + 1, line.trim()));
            }
        }
    }
    fail_with("advisory-lock keys are made by src/store/lock.rs only", &offences);
}
