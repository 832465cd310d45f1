//! docs/json.md is the reference of every `--json` document; this test
//! reads the shapes out of that file (the ```` ```json shape=NAME ```` blocks)
//! and checks the real output of each command against them on a real
//! database, so the page cannot drift from the binary: a key renamed, added
//! without a word or of another type, a timestamp without its zone, fails
//! here. It also checks that every documented shape was exercised.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::{Outcome, TestDb, Workspace};

/// The shapes of docs/json.md, by name.
fn documented_shapes() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(support::repo().join("docs/json.md")).unwrap();
    let mut shapes = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("```json shape=") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let shape = serde_json::from_str(&body.join("\n")).unwrap_or_else(|e| panic!("shape {name}: {e}"));
        assert!(shapes.insert(name.trim().to_owned(), shape).is_none(), "shape {name} twice");
    }
    assert!(shapes.len() > 10, "docs/json.md has its shapes: {:?}", shapes.keys());
    shapes
}

/// The differences between `value` and `shape` (docs/json.md, "How to read the shapes").
fn mismatches(shape: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(shape, value, "$", &mut found);
    found
}

fn check(shape: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    match shape {
        Value::String(types) if types == "$database" => {
            let database = json!({"name": "string", "host": "string", "port": "integer", "user": "string"});
            check(&database, value, at, found)
        }
        Value::String(types) => {
            if !types.split('|').any(|t| is_type(t, value)) {
                found.push(format!("{at}: {value} is not {types}"));
            }
        }
        Value::Array(items) => match value.as_array() {
            Some(values) => {
                values.iter().enumerate().for_each(|(i, v)| check(&items[0], v, &format!("{at}[{i}]"), found))
            }
            None => found.push(format!("{at}: {value} is not an array")),
        },
        Value::Object(keys) => match value.as_object() {
            Some(object) => check_object(keys, object, at, found),
            None => found.push(format!("{at}: {value} is not an object")),
        },
        _ => panic!("bad shape at {at}: {shape}"),
    }
}

fn check_object(
    keys: &serde_json::Map<String, Value>,
    object: &serde_json::Map<String, Value>,
    at: &str,
    found: &mut Vec<String>,
) {
    for (key, shape) in keys.iter().filter(|(k, _)| *k != "...") {
        let (name, optional) = match key.strip_suffix('?') {
            Some(name) => (name, true),
            None => (key.as_str(), false),
        };
        match object.get(name) {
            Some(value) => check(shape, value, &format!("{at}.{name}"), found),
            None if optional => {}
            None => found.push(format!("{at}: no key {name:?}")),
        }
    }
    let documented = |name: &str| keys.contains_key(name) || keys.contains_key(&format!("{name}?"));
    for (name, value) in object.iter().filter(|(name, _)| !documented(name)) {
        match keys.get("...") {
            Some(rest) => check(rest, value, &format!("{at}.{name}"), found),
            None => found.push(format!("{at}: undocumented key {name:?}")),
        }
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    match name {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        "any" => true,
        "timestamp" => value.is_string() && timestamp().is_match(text),
        "date" => value.is_string() && regex::Regex::new(r"^\d{4}-\d{2}-\d{2}$").unwrap().is_match(text),
        other => panic!("unknown type {other} in docs/json.md"),
    }
}

/// RFC 3339 with a zone.
fn timestamp() -> regex::Regex {
    regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$").unwrap()
}

/// Checks documents against the shapes and remembers which were used.
struct Checker {
    shapes: BTreeMap<String, Value>,
    used: Vec<String>,
}

impl Checker {
    fn document(&mut self, name: &str, out: &Outcome) -> Value {
        let document: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: stdout is not one JSON document ({e}):\n{}", out.stdout));
        let shape = self.shapes.get(name).unwrap_or_else(|| panic!("docs/json.md has no shape {name}"));
        let wrong = mismatches(shape, &document);
        assert!(wrong.is_empty(), "{name} does not match docs/json.md:\n{}\n{document:#}", wrong.join("\n"));
        self.used.push(name.to_owned());
        document
    }
}

fn entry<'a>(document: &'a Value, tenant: &str) -> &'a Value {
    let tenants = document["tenants"].as_array().expect("tenants");
    tenants.iter().find(|t| t["tenant"] == tenant).unwrap_or_else(|| panic!("no {tenant}: {document:#}"))
}

const TWO: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n";

#[test]
fn every_command_prints_the_document_docs_json_md_describes() {
    let db = TestDb::new();
    let ws = Workspace::new(TWO);
    let templates = ws.own_templates();
    let mut docs = Checker { shapes: documented_shapes(), used: Vec::new() };
    let json = |args: &[&str]| db.provision().in_workspace(&ws).arg("--json").args(args.to_vec());

    let error = docs.document("error", &json(&["tenant", "add", "Bad!"]).status(2));
    assert_eq!(error["error"]["kind"], "bad_input");
    let up = docs.document("up", &json(&["up"]).success());
    assert_eq!(up["database"]["name"], json!(db.name), "the database as data: {up:#}");
    assert_eq!(
        (entry(&up, "lic")["outcome"].as_str(), entry(&up, "hdfc")["outcome"].as_str()),
        (Some("created"), Some("created"))
    );
    docs.document("up", &json(&["up", "--dry-run"]).success());
    docs.document("migrate", &json(&["migrate"]).success());
    docs.document("migrate_dry_run", &json(&["migrate", "--dry-run"]).success());
    let status = docs.document("status", &json(&["status"]).success());
    assert_eq!(status["database"]["user"], json!(db.scalar("SELECT current_user")), "{status:#}");
    docs.document("verify", &json(&["verify"]).success());
    docs.document("health", &json(&["health"]).output());
    docs.document("seed", &json(&["seed", "--tenant", "lic", "--sample", "10"]).success());
    docs.document("tenant_list", &json(&["tenant", "list"]).success());
    let routing = docs.document("routing_pgbouncer", &json(&["routing", "pgbouncer"]).success());
    assert_eq!(routing["aliases"][0]["tenant"], "hdfc", "{routing:#}");
    docs.document("tenant_backup", &json(&["tenant", "backup", "lic", "--out", "lic.sql"]).success());
    docs.document("tenant_render", &json(&["tenant", "render", "lic"]).success());
    docs.document("blueprint_list", &json(&["blueprint", "list"]).success());
    let list = docs.document("partitions_list", &json(&["partitions", "list"]).success());
    assert!(list["tables"].as_array().is_some_and(|t| t.iter().any(|t| t["from"].is_string())), "{list:#}");
    let ahead = db.scalar("SELECT to_char(now() + interval '2 months', 'YYYY-MM-DD')");
    docs.document(
        "partitions_rollover_dry_run",
        &json(&["partitions", "rollover", "--dry-run", "--now", &ahead]).success(),
    );
    docs.document("partitions_rollover", &json(&["partitions", "rollover"]).success());
    let retention = docs.document("retention_run", &json(&["retention", "run", "--dry-run"]).success());
    assert!(retention["now"].is_string(), "{retention:#}");

    // A version that fails for hdfc: both outcomes are in the document.
    std::fs::write(
        templates.join("agent_mitra/tenant/V9__reporting_flag.sql.tera"),
        "DO $$ BEGIN IF '{{ code }}' = 'hdfc' THEN RAISE EXCEPTION 'hdfc is not ready'; END IF; END $$;\n\
         COMMENT ON SCHEMA {{ schema }} IS 'reporting enabled';\n",
    )
    .unwrap();
    let dry = docs.document("tenant_upgrade_dry_run", &json(&["tenant", "upgrade", "--all", "--dry-run"]).success());
    assert_eq!(entry(&dry, "lic")["outcome"], "would_change", "{dry:#}");
    let upgraded = docs.document("tenant_upgrade", &json(&["tenant", "upgrade", "--all"]).status(1));
    assert_eq!(
        (entry(&upgraded, "lic")["outcome"].as_str(), entry(&upgraded, "hdfc")["outcome"].as_str()),
        (Some("upgraded"), Some("failed"))
    );
    assert!(
        entry(&upgraded, "hdfc")["error"].as_str().unwrap_or_default().contains("hdfc is not ready"),
        "{upgraded:#}"
    );
    let versions = db.strings("SELECT max(version)::text FROM lic_schema.refinery_schema_history UNION ALL SELECT max(version)::text FROM hdfc_schema.refinery_schema_history");
    assert_eq!(versions, ["9", "8"], "the document says what the catalog holds");
    let repair = docs.document("tenant_repair", &json(&["tenant", "repair"]).success());
    assert_eq!(entry(&repair, "lic")["outcome"], "unchanged", "{repair:#}");

    // One tenant's life: add, grant, deactivate, activate, remove.
    let added = docs.document("tenant_add", &json(&["tenant", "add", "sbi", "--name", "SBI"]).success());
    assert_eq!(added["outcome"], "created", "{added:#}");
    let login = format!("{}_login", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN"));
    docs.document("tenant_grant", &json(&["tenant", "grant", "sbi", &login]).success());
    let kept = docs.document("tenant_remove", &json(&["tenant", "remove", "sbi", "--yes", "--keep-data"]).success());
    assert_eq!(kept["outcome"], "deactivated", "{kept:#}");
    docs.document("tenant_activate", &json(&["tenant", "activate", "sbi"]).success());
    let removed = docs.document("tenant_remove", &json(&["tenant", "remove", "sbi", "--yes", "--no-backup"]).success());
    assert_eq!(removed["outcome"], "removed", "{removed:#}");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants WHERE tenant_code = 'sbi'"), "0");
    db.execute(&format!("DROP ROLE {login}"));
    docs.document("blueprint_show", &json(&["blueprint", "show", "agent_mitra"]).success());
    docs.document("blueprint_init", &json(&["blueprint", "init", "mypack"]).success());
    docs.document("man", &json(&["man", "--out", "man"]).success());

    let unused: Vec<&String> = docs
        .shapes
        .keys()
        .filter(|name| !docs.used.contains(name) && !CHECKED_ELSEWHERE.contains(&name.as_str()))
        .collect();
    assert!(unused.is_empty(), "docs/json.md describes documents this test never checked: {unused:?}");
}

/// The shapes the other tests of this file check (a sandbox, the vault pack, servers),
/// and tests/tenant_move.rs (a move needs two servers).
const CHECKED_ELSEWHERE: &[&str] =
    &["sandbox_start", "sandbox_status", "sandbox_url", "sandbox_stop", "keys_rotate", "fleet", "tenant_move"];

#[test]
fn the_sandbox_commands_and_reset_print_their_documents() {
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    let mut docs = Checker { shapes: documented_shapes(), used: Vec::new() };
    let json = |args: &[&str]| support::Run::new().in_workspace(&ws).arg("--json").args(args.to_vec());
    docs.document("sandbox_start", &json(&["sandbox", "start"]).success());
    let status = docs.document("sandbox_status", &json(&["sandbox", "status"]).success());
    assert_eq!(status["state"], "running", "{status:#}");
    let url = docs.document("sandbox_url", &json(&["sandbox", "url"]).success());
    let reset = docs.document("up", &json(&["reset", "--yes"]).success());
    assert_eq!(reset["database"]["name"], "provision", "{reset:#}");
    let psql = std::process::Command::new("psql")
        .args([
            "-X",
            "-At",
            "-d",
            url["url"].as_str().unwrap(),
            "-c",
            "SELECT string_agg(tenant_code, ',') FROM shared.tenants",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&psql.stdout).trim(), "lic", "the url reaches the database reset made");
    let stopped = docs.document("sandbox_stop", &json(&["sandbox", "stop"]).success());
    assert_eq!(stopped["stopped"], true, "{stopped:#}");
    assert_eq!(docs.used, ["sandbox_start", "sandbox_status", "sandbox_url", "up", "sandbox_stop"]);
}

#[test]
fn a_fleet_command_wraps_each_servers_document_and_a_placed_tenant_add_says_where() {
    let fleet = support::servers::Fleet::shared(2);
    let ws = Workspace::new(&format!("{}\n[tenants.js_a]\nname = \"A\"\nserver = \"a\"\n", fleet.servers_toml()));
    let mut docs = Checker { shapes: documented_shapes(), used: Vec::new() };
    let json = |args: &[&str]| fleet.provision(&ws).arg("--json").args(args.to_vec());
    let up = docs.document("fleet", &json(&["up", "--no-verify"]).success());
    let servers = up["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 2, "{up:#}");
    for entry in servers {
        let mut one = Checker { shapes: documented_shapes(), used: Vec::new() };
        let part = Outcome { code: 0, stdout: entry["document"].to_string(), stderr: String::new() };
        one.document("up", &part);
    }
    let added = docs.document("tenant_add", &json(&["tenant", "add", "js_b", "--name", "B", "--no-verify"]).success());
    assert_eq!((added["server"].as_str(), added["placement"]["rule"].as_str()), (Some("b"), Some("fewest_relations")));
    assert_eq!(fleet.server("b").registered(), ["js_b"]);
    let status = docs.document("fleet", &json(&["status"]).success());
    assert_eq!(status["servers"][1]["document"]["tenants"][0]["tenant"], "js_b", "{status:#}");
}

#[test]
fn keys_rotate_prints_its_documented_document() {
    use support::keys::{seed_vault, vault_workspace, KEY_A, KEY_B};
    let db = TestDb::new();
    let ws = vault_workspace("kjs");
    db.provision().in_workspace(&ws).arg("up").success();
    seed_vault(&db, "kjs", KEY_A, 5);
    let mut docs = Checker { shapes: documented_shapes(), used: Vec::new() };
    let args = ["--json", "keys", "rotate", "--tenant", "kjs", "--from-key-file", "a.key", "--to-key-file", "b.key"];
    let rotated = docs.document("keys_rotate", &db.provision().in_workspace(&ws).args(args).success());
    let with_b = db.scalar(&format!(
        "SELECT count(*)::text FROM kjs_schema.patients WHERE shared.envelope_key_id(full_name) = shared.key_id('{KEY_B}')"
    ));
    assert_eq!((rotated["tenant"].as_str(), with_b.as_str()), (Some("kjs"), "5"), "{rotated:#}");
}

#[test]
fn the_shapes_catch_a_renamed_key_a_wrong_type_and_a_timestamp_without_a_zone() {
    let shapes = documented_shapes();
    let partitions = &shapes["partitions_list"];
    let good = json!({"tables": [{"tenant": "lic", "table": "audit.lic_audit_log", "from": "2027-01-01T00:00:00Z",
        "to": null, "next_rollover": null, "gaps": ["2027-02-01"], "default_rows": 0}]});
    assert_eq!(mismatches(partitions, &good), Vec::<String>::new());
    let no_zone = json!({"tables": [{"tenant": "lic", "table": "t", "from": "2027-01-01 00:00:00", "to": null,
        "next_rollover": null, "gaps": [], "default_rows": null}]});
    assert_eq!(mismatches(partitions, &no_zone).len(), 1, "{:?}", mismatches(partitions, &no_zone));
    let upgrade = &shapes["tenant_upgrade"];
    let renamed = json!({"tenants": [{"code": "lic", "outcome": "upgraded"}],
        "summary": {"tenants": 1, "upgraded": 1, "completed": 0, "failed": [], "seconds": 0.1}});
    let wrong = mismatches(upgrade, &renamed);
    assert!(wrong.iter().any(|w| w.contains("no key \"tenant\"")), "{wrong:?}");
    let sentence = json!({"database": "database \"x\" as user \"u\" on localhost:5432", "healthy": true, "checks": []});
    assert_eq!(mismatches(&shapes["health"], &sentence).len(), 1, "the database is an object");
}
