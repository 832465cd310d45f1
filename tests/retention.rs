//! `provision retention run` against a real PostgreSQL, with a moved clock
//! (`--now`): exactly the rows past their age go or are anonymised, rows
//! still referenced stay, a second run and a dry run change nothing, every
//! batch is in the audit log, a held tenant lock is exit 3 and a bad rule
//! exit 2 with nothing changed, an operator's period wins, and the shipped
//! packs' rules are accepted by the server. Assertions read the tables, the
//! audit log and shared.retention_periods, not the tool's words alone.

mod support;

use support::ledger::{ledger_workspace, seed_ledger};
use support::{TestDb, Workspace};

/// Every row of the ledger's tables and the audit log's row count, as text.
fn contents(db: &TestDb) -> Vec<String> {
    let mut rows = db.strings(
        "SELECT 'accounts ' || a::text FROM acme_schema.accounts a UNION ALL \
         SELECT 'orders ' || o::text FROM acme_schema.orders o UNION ALL \
         SELECT 'order_lines ' || l::text FROM acme_schema.order_lines l UNION ALL \
         SELECT 'sessions ' || s::text FROM acme_schema.sessions s UNION ALL \
         SELECT 'audit rows ' || count(*) FROM audit.acme_audit_log",
    );
    rows.sort();
    rows
}

fn ids(db: &TestDb, table: &str) -> Vec<String> {
    db.strings(&format!("SELECT t.id::text FROM acme_schema.{table} t ORDER BY t.id"))
}

/// A provisioned ledger tenant `acme` with the seeded rows; returns `--now`.
fn ledger() -> (TestDb, Workspace, String) {
    let db = TestDb::new();
    let ws = ledger_workspace("acme", "");
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    let now = seed_ledger(&db, "acme");
    (db, ws, now)
}

/// The ledger's templates never call `audit.ensure_audit_log`: provision
/// makes the log itself, and it must do so before the partition window, or
/// the log has no partition at all and every audited write fails.
#[test]
fn a_pack_that_never_makes_its_audit_log_gets_it_with_its_partitions_and_guards() {
    let db = TestDb::new();
    let ws = ledger_workspace("acme", "");
    db.provision().in_workspace(&ws).args(["up"]).success();
    let parts = db.strings(
        "SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) \
           || ' guard=' || EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'audit_no_truncate') \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'audit.acme_audit_log'::regclass ORDER BY c.relname",
    );
    assert!(parts.contains(&"acme_audit_log_default DEFAULT guard=true".to_owned()), "{parts:?}");
    // The DEFAULT plus at least the current month and the premake ahead.
    assert!(parts.len() >= 3, "{parts:?}");
    assert!(parts.iter().all(|p| p.ends_with("guard=true")), "{parts:?}");
    // An audited write lands in the current month's partition, not the DEFAULT.
    seed_ledger(&db, "acme");
    let default_rows = db.scalar("SELECT count(*)::text FROM audit.acme_audit_log_default");
    let rows = db.scalar("SELECT count(*)::text FROM audit.acme_audit_log");
    assert_ne!(rows, "0");
    assert_eq!(default_rows, "0");
    db.provision().in_workspace(&ws).args(["verify"]).success();
}

#[test]
fn exactly_the_expired_rows_go_in_batches_and_a_second_run_changes_nothing() {
    let (db, ws, now) = ledger();
    let out =
        db.provision().in_workspace(&ws).args(["--json", "retention", "run", "--now", &now, "--batch", "7"]).success();
    let report = out.json();
    assert_eq!(ids(&db, "accounts"), ["1", "2", "3", "5", "6"], "account 4 goes; 5 is still referenced");
    assert_eq!(ids(&db, "orders"), ["21", "22", "23"], "order 20 goes; 22 keeps its young line");
    assert_eq!(ids(&db, "order_lines"), ["31"]);
    let sessions: Vec<String> = (1..=5).map(|g| g.to_string()).collect();
    assert_eq!(ids(&db, "sessions"), sessions);
    // Children ran before their parents, and the counts are the rows gone.
    let tables: Vec<(String, i64, u64)> = report["tenants"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["rule"].as_str().unwrap().to_owned(), t["rows"].as_i64().unwrap(), t["batches"].as_u64().unwrap()))
        .collect();
    let expected = [("order_lines", 1, 1), ("orders", 1, 1), ("gdpr", 1, 1), ("accounts", 1, 1), ("sessions", 45, 7)];
    let expected: Vec<(String, i64, u64)> = expected.iter().map(|(r, n, b)| (r.to_string(), *n, *b)).collect();
    assert_eq!(tables, expected);
    // One audit row per batch, with the rule and its count; sessions is not
    // audited row by row, yet its retention is recorded.
    let counts = db.strings(
        "SELECT (new_values->>'retention') || '=' || sum((new_values->>'rows')::int) || '/' || count(*) \
         FROM audit.acme_audit_log WHERE record_id = '*' GROUP BY new_values->>'retention' ORDER BY 1",
    );
    assert_eq!(counts, ["accounts=1/1", "gdpr=1/1", "order_lines=1/1", "orders=1/1", "sessions=45/7"]);

    let before = contents(&db);
    let again = db.provision().in_workspace(&ws).args(["--json", "retention", "run", "--now", &now]).success();
    assert_eq!(contents(&db), before, "a second run changed something");
    let rows: i64 =
        again.json()["tenants"][0]["tables"].as_array().unwrap().iter().map(|t| t["rows"].as_i64().unwrap()).sum();
    assert_eq!(rows, 0);
}

#[test]
fn a_dry_run_counts_each_rule_and_changes_nothing() {
    let (db, ws, now) = ledger();
    let before = contents(&db);
    let dry =
        db.provision().in_workspace(&ws).args(["--json", "retention", "run", "--now", &now, "--dry-run"]).success();
    assert_eq!(contents(&db), before, "the dry run changed something");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.retention_salts"), "0", "the dry run made a salt");
    let counted: Vec<i64> =
        dry.json()["tenants"][0]["tables"].as_array().unwrap().iter().map(|t| t["rows"].as_i64().unwrap()).collect();
    // Each rule is counted against today's rows: order 20 is still referenced
    // by line 30, which the run deletes first, so only the next dry run counts it.
    assert_eq!(counted, [1, 0, 1, 1, 45]);
}

#[test]
fn anonymising_hashes_and_nulls_only_the_named_columns_of_the_expired_rows() {
    let (db, ws, now) = ledger();
    let others = db.strings("SELECT a::text FROM acme_schema.accounts a WHERE id IN (2, 3, 5, 6) ORDER BY id");
    let out = db.provision().in_workspace(&ws).args(["retention", "run", "--now", &now]).success();
    let one = db
        .strings("SELECT concat_ws('|', email, coalesce(phone, 'NULL'), name) FROM acme_schema.accounts WHERE id = 1");
    let fields: Vec<&str> = one[0].split('|').collect();
    assert!(regex::Regex::new(r"^anon:[0-9a-f]{32}$").unwrap().is_match(fields[0]), "email {:?}", fields[0]);
    assert_eq!(&fields[1..], ["NULL", "One"], "phone NULL, name untouched");
    // The hash is the tenant's salted HMAC of the old value: stable, irreversible, salt never printed.
    let expected = db.scalar(
        "SELECT 'anon:' || left(encode(public.hmac(convert_to('one@example.com', 'UTF8'), salt, 'sha256'), 'hex'), 32) \
         FROM shared.retention_salts WHERE tenant_code = 'acme'",
    );
    assert_eq!(fields[0], expected);
    let salt = db.scalar("SELECT encode(salt, 'hex') FROM shared.retention_salts WHERE tenant_code = 'acme'");
    assert!(!out.stdout.contains(&salt) && !out.stderr.contains(&salt));
    let readable = "SELECT has_table_privilege('provision_tenant_apps', 'shared.retention_salts', 'SELECT')::text";
    assert_eq!(db.scalar(readable), "false", "an application role can read the salts");
    assert_eq!(db.strings("SELECT a::text FROM acme_schema.accounts a WHERE id IN (2, 3, 5, 6) ORDER BY id"), others);
    // Bulk mode: no per-row audit row carries the personal data the run removed.
    let leaked = "SELECT count(*)::text FROM audit.acme_audit_log WHERE operation = 'UPDATE' AND record_id <> '*'";
    assert_eq!(db.scalar(leaked), "0");
}

#[test]
fn a_held_tenant_lock_is_exit_3_and_nothing_changes() {
    let (db, ws, now) = ledger();
    let before = contents(&db);
    db.with(async |holder| {
        support::begin_holding_tenant_lock(holder, "acme").await;
        let out = db
            .provision()
            .in_workspace(&ws)
            .env("PROVISION_LOCK_TIMEOUT", "1")
            .args(["retention", "run", "--now", &now])
            .status(3);
        assert!(out.stderr.contains("acme") && out.stderr.contains("lock"), "{}", out.stderr);
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    assert_eq!(contents(&db), before);
}

#[test]
fn a_rule_the_server_refuses_is_exit_2_naming_pack_table_and_rule_and_nothing_changes() {
    let (db, ws, now) = ledger();
    let before = contents(&db);
    let manifest = ws.path().join("templates/ledger/blueprint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("status = 'closed'", "no_such_column = 'closed'")).unwrap();
    db.provision()
        .in_workspace(&ws)
        .args(["retention", "run", "--now", &now])
        .status(2)
        .one_line_error()
        .stderr_has("blueprint ledger, [[retention]] orders on table orders")
        .stderr_has("no_such_column");
    assert_eq!(contents(&db), before);
}

#[test]
fn a_rule_on_a_partitioned_table_is_refused_at_load() {
    let (db, ws, _) = ledger();
    let manifest = ws.path().join("templates/ledger/blueprint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let rule = "\n[[retention]]\ntable = \"events\"\nage = \"1 year\"\ncolumn = \"at\"\naction = \"delete\"\n";
    std::fs::write(&manifest, format!("{text}{rule}")).unwrap();
    db.provision()
        .in_workspace(&ws)
        .args(["retention", "run", "--dry-run"])
        .status(2)
        .one_line_error()
        .stderr_has("[[retention]] events (table events): the table is [[partitioned]]");
}

#[test]
fn an_operators_period_wins_over_the_blueprints_age() {
    let (db, ws, now) = ledger();
    db.execute(
        "INSERT INTO shared.retention_periods (blueprint, rule, table_name, retention_days) \
         VALUES ('ledger', 'sessions', 'sessions', 40)",
    );
    db.provision().in_workspace(&ws).args(["retention", "run", "--now", &now]).success();
    // Cutoff T0 + 25 days - 40 days: sessions expired more than 15 days before T0 go.
    let kept: Vec<String> = (1..=15).map(|g| g.to_string()).collect();
    assert_eq!(ids(&db, "sessions"), kept);
}

#[test]
fn the_shipped_packs_rules_are_accepted_and_their_periods_are_kept_per_pack() {
    let db = TestDb::new();
    let ws = Workspace::new(
        "[tenants.hi]\nname = \"HI\"\nblueprint = \"health_insurance\"\n\
         [tenants.cf]\nname = \"CF\"\nblueprint = \"claimflow\"\n\
         [tenants.am]\nname = \"AM\"\nblueprint = \"agent_mitra\"\n",
    );
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    let dry = db.provision().in_workspace(&ws).args(["--json", "retention", "run", "--dry-run"]).success();
    let rules: Vec<String> = dry.json()["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            let tenant = t["tenant"].as_str().unwrap().to_owned();
            t["tables"].as_array().unwrap().iter().map(move |r| format!("{tenant}:{}", r["rule"].as_str().unwrap()))
        })
        .collect();
    let expected = [
        "am:premium_payments",
        "am:insurance_policies",
        "am:user_sessions",
        "cf:sessions",
        "cf:notifications",
        "hi:payments",
        "hi:claims",
        "hi:policies",
        "hi:members",
        "hi:sessions",
    ];
    assert_eq!(rules, expected);
    db.provision().in_workspace(&ws).args(["retention", "run"]).success();
    // V9's table keeps its bare-name rows (and the old ON CONFLICT (table_name) of the packs' first versions still
    // ran); the packs' own periods are in shared.retention_periods, keyed by pack: claimflow's sessions never share
    // health_insurance's row.
    let periods = db.strings(
        "SELECT blueprint || ':' || rule || '=' || retention_days FROM shared.retention_periods ORDER BY blueprint, rule",
    );
    let expected = [
        "agent_mitra:insurance_policies=2555",
        "agent_mitra:premium_payments=2555",
        "agent_mitra:user_sessions=30",
        "health_insurance:claims=2555",
        "health_insurance:members=2555",
        "health_insurance:payments=2555",
        "health_insurance:policies=2555",
        "health_insurance:sessions=30",
    ];
    assert_eq!(periods, expected);
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM shared.data_retention_policies WHERE table_name = 'sessions'"),
        "1"
    );
}

#[test]
fn a_column_that_cannot_hold_what_it_becomes_is_exit_2() {
    let (db, ws, now) = ledger();
    let before = contents(&db);
    let manifest = ws.path().join("templates/ledger/blueprint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("phone = \"null\"", "name = \"null\"")).unwrap();
    db.provision()
        .in_workspace(&ws)
        .args(["retention", "run", "--now", &now])
        .status(2)
        .one_line_error()
        .stderr_has("blueprint ledger, [[retention]] gdpr on table accounts (tenant acme): column name is NOT NULL");
    assert_eq!(contents(&db), before);
}

/// A table one tenant lost (drift) fails that tenant alone: the other
/// tenant of the same blueprint is done, the run exits 1 naming the drifted
/// one, whose rows stay untouched. (A rule refused for every tenant of its
/// blueprint is a bad rule instead: exit 2, nothing changed.)
#[test]
fn a_tenant_whose_schema_drifted_fails_alone_and_the_others_are_done() {
    let db = TestDb::new();
    let ws = ledger_workspace("acme", "[tenants.beta]\nname = \"Ledger beta\"\nblueprint = \"ledger\"\n");
    db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    let now = seed_ledger(&db, "acme");
    seed_ledger(&db, "beta");
    db.execute("DROP TABLE beta_schema.sessions");
    let beta_rows = "SELECT 'accounts ' || a::text FROM beta_schema.accounts a UNION ALL \
                     SELECT 'orders ' || o::text FROM beta_schema.orders o ORDER BY 1";
    let beta_before = db.strings(beta_rows);
    let out = db.provision().in_workspace(&ws).args(["--json", "retention", "run", "--now", &now]).status(1);
    let report = out.json();
    let status: Vec<String> = report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {}", t["tenant"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(status, ["acme ok", "beta failed"], "{report:#}");
    let error = report["tenants"][1]["error"].as_str().unwrap();
    assert!(
        error.starts_with("tenant beta: cannot plan its retention") && error.contains("verify --tenant beta"),
        "{error}"
    );
    assert_eq!(ids(&db, "accounts"), ["1", "2", "3", "5", "6"], "acme was not done");
    assert_eq!(db.strings(beta_rows), beta_before, "beta changed");
}
