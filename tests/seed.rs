//! `provision seed` against a real PostgreSQL: what the sample contains,
//! that reruns add nothing, that the same seed gives the same rows (with and
//! without bulk mode, in one go or in steps), which tenants it touches, and
//! the secrets of a blueprint with encrypted columns (shown on the sandbox only).

mod support;

use support::{Run, TestDb, Workspace};

const LIC_ONLY: &str = "[tenants.lic]\nname = \"LIC\"\n";
const TABLES: [&str; 6] = ["users", "agents", "policyholders", "insurance_policies", "premium_payments", "user_events"];

fn count(db: &TestDb, schema: &str, table: &str, filter: &str) -> i64 {
    db.scalar(&format!("SELECT count(*)::text FROM {schema}.{table} WHERE {filter}")).parse().unwrap()
}

fn counts(db: &TestDb, schema: &str) -> Vec<i64> {
    TABLES.iter().map(|t| count(db, schema, t, "true")).collect()
}

/// A digest of the generated content of lic's sample (columns that do not
/// depend on the server: no provider ids, no default now() stamps).
fn digest(db: &TestDb) -> String {
    let parts = [
        "SELECT md5(string_agg(concat_ws('|', user_id, email, phone_number, first_name, last_name, address::text, role, created_at), ',' ORDER BY user_id)) FROM lic_schema.users WHERE email LIKE '%@lic.example' AND username <> 'admin'",
        "SELECT md5(string_agg(concat_ws('|', agent_id, agent_code, parent_agent_id, hierarchy_level, sub_agents_count, total_policies_sold, total_premium_collected), ',' ORDER BY agent_id)) FROM lic_schema.agents",
        "SELECT md5(string_agg(concat_ws('|', policyholder_id, user_id, agent_id, customer_id, annual_income, nominee_details::text), ',' ORDER BY policyholder_id)) FROM lic_schema.policyholders",
        "SELECT md5(string_agg(concat_ws('|', policy_id, policy_number, policyholder_id, agent_id, policy_type, sum_assured, premium_amount, premium_frequency, status, application_date, start_date, maturity_date, total_payments), ',' ORDER BY policy_number)) FROM lic_schema.insurance_policies",
        "SELECT md5(string_agg(concat_ws('|', payment_id, policy_id, amount, status, due_date, payment_date), ',' ORDER BY payment_id)) FROM lic_schema.premium_payments",
        "SELECT md5(string_agg(concat_ws('|', event_id, user_id, event_type, event_properties::text, \"timestamp\"), ',' ORDER BY event_id)) FROM lic_schema.user_events",
    ];
    parts.iter().map(|sql| db.scalar(sql)).collect::<Vec<_>>().join(" ")
}

#[test]
fn seed_loads_a_realistic_sample_and_a_rerun_inserts_nothing() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    db.provision().in_workspace(&ws).arg("up").success();
    let out = db.provision().in_workspace(&ws).args(["--json", "seed", "--sample", "500", "--rng-seed", "7"]).success();
    let report = out.json();
    assert_eq!(report["tenants"].as_array().unwrap().len(), 3, "{}", out.stdout);
    for schema in ["lic_schema", "hdfc_schema", "icici_schema"] {
        assert_eq!(count(&db, schema, "insurance_policies", "true"), 500);
        for table in ["users", "agents", "policyholders", "premium_payments", "user_events"] {
            assert!(count(&db, schema, table, "true") > 0, "{schema}.{table} is empty");
        }
        assert_eq!(count(&db, schema, "insurance_policies", "agent_id IS NULL OR policyholder_id IS NULL"), 0);
        assert!(count(&db, schema, "agents", "parent_agent_id IS NOT NULL") > 0, "{schema}: no hierarchy");
        assert_eq!(count(&db, schema, "agents", "hierarchy_level NOT BETWEEN 1 AND 3"), 0);
        for (table, column) in [
            ("insurance_policies", "status"),
            ("insurance_policies", "premium_frequency"),
            ("insurance_policies", "policy_type"),
            ("premium_payments", "status"),
            ("users", "role"),
        ] {
            let distinct = db.scalar(&format!("SELECT count(DISTINCT {column})::text FROM {schema}.{table}"));
            assert!(distinct.parse::<i64>().unwrap() > 1, "{schema}.{table}: one {column} only");
        }
        assert_eq!(count(&db, schema, "user_events", "tableoid::regclass::text LIKE '%default%'"), 0);
        assert_eq!(count(&db, schema, "users", "password_hash <> '!'"), 0, "{schema}: a usable password");
    }
    // The bulk load is audited as one summary row per audited table.
    let summary = db.strings(
        "SELECT record_id || ' ' || (new_values->>'rows') || ' ' || (new_values->>'rng_seed') \
         FROM audit.lic_audit_log WHERE table_name = 'insurance_policies'",
    );
    assert_eq!(summary, ["* 500 7"]);
    let payments = count(&db, "lic_schema", "premium_payments", "true");
    assert!((1000..=2000).contains(&payments), "{payments} payments for 500 policies");
    let before: Vec<Vec<i64>> = ["lic_schema", "hdfc_schema", "icici_schema"].iter().map(|s| counts(&db, s)).collect();

    let again =
        db.provision().in_workspace(&ws).args(["--json", "seed", "--sample", "500", "--rng-seed", "7"]).success();
    for tenant in again.json()["tenants"].as_array().unwrap() {
        assert!(tenant["inserted"].as_object().unwrap().values().all(|v| v == 0), "{}", again.stdout);
    }
    let after: Vec<Vec<i64>> = ["lic_schema", "hdfc_schema", "icici_schema"].iter().map(|s| counts(&db, s)).collect();
    assert_eq!(after, before);
    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--sample", "500", "--rng-seed", "7"])
        .success()
        .stdout_has("nothing new");
}

#[test]
fn same_seed_same_rows_in_steps_and_without_bulk_mode() {
    let ws = Workspace::new(LIC_ONLY);
    let stepwise = TestDb::new();
    stepwise.provision().in_workspace(&ws).arg("up").success();
    stepwise.provision().in_workspace(&ws).args(["seed", "--sample", "200", "--rng-seed", "7"]).success();
    let more = stepwise.provision().in_workspace(&ws).args(["--json", "seed", "--sample", "500", "--rng-seed", "7"]);
    assert_eq!(more.success().json()["tenants"][0]["inserted"]["insurance_policies"], 300);

    // An INSERT trigger of the tenant's own rules out bulk mode: rows go
    // through the per-row foreign-key checks, and the trigger must fire.
    let per_row = TestDb::new();
    per_row.provision().in_workspace(&ws).arg("up").success();
    per_row.execute(
        "CREATE TABLE public.fired (n int);
         CREATE FUNCTION public.note_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.fired VALUES (1); RETURN NULL; END $$;
         CREATE TRIGGER note AFTER INSERT ON lic_schema.premium_payments FOR EACH STATEMENT EXECUTE FUNCTION public.note_insert();",
    );
    per_row
        .provision()
        .in_workspace(&ws)
        .args(["-v", "seed", "--sample", "500", "--rng-seed", "7"])
        .success()
        .stderr_has("per-row");
    assert_eq!(per_row.scalar("SELECT count(*)::text FROM public.fired"), "1");

    assert_eq!(digest(&stepwise), digest(&per_row));
    let other_seed = TestDb::new();
    other_seed.provision().in_workspace(&ws).arg("up").success();
    other_seed.provision().in_workspace(&ws).args(["seed", "--sample", "500", "--rng-seed", "8"]).success();
    assert_ne!(digest(&other_seed), digest(&per_row));

    // Another seed on top of this one would collide on e-mails: refused.
    let mixed = stepwise.provision().in_workspace(&ws).args(["seed", "--sample", "10", "--rng-seed", "8"]).status(2);
    mixed.one_line_error().stderr_has("another --rng-seed");
}

#[test]
fn seed_touches_only_the_named_tenants() {
    let db = TestDb::new();
    let ws = Workspace::shipped();
    db.provision().in_workspace(&ws).arg("up").success();
    let catalog = db.catalog();
    let nosuch = db.provision().in_workspace(&ws).args(["seed", "--tenant", "nosuch", "--sample", "10"]).status(2);
    nosuch.one_line_error().stderr_has("nosuch");
    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--tenant", "Bad-Code", "--sample", "10"])
        .status(2)
        .one_line_error();
    db.provision().in_workspace(&ws).args(["seed", "--tenant", "lic", "--sample", "0"]).status(2).one_line_error();

    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--tenant", "lic", "--sample", "50"])
        .success()
        .stdout_has("lic: inserted");
    assert_eq!(count(&db, "lic_schema", "insurance_policies", "true"), 50);
    for schema in ["hdfc_schema", "icici_schema"] {
        let rows: i64 = TABLES.iter().filter(|t| **t != "users").map(|t| count(&db, schema, t, "true")).sum();
        assert_eq!(rows, 0, "{schema} was touched");
        assert_eq!(count(&db, schema, "users", "email LIKE '%.example' AND username <> 'admin'"), 0);
    }
    assert_eq!(db.catalog(), catalog, "seed changed the schema");
}

/// A second, tiny blueprint in the workspace's own templates, with the
/// tests' widgets tables and (when `sample` is set) a sample of its own.
fn add_widgets_blueprint(ws: &Workspace, sample: Option<&str>) {
    let dir = ws.own_templates().join("widgets");
    for folder in ["shared", "tenant", "sample"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
    let manifest = match sample {
        Some(_) => "name = \"widgets\"\n[sample]\ndefault_size = 5\nunit = \"items\"\n",
        None => "name = \"widgets\"\n",
    };
    std::fs::write(dir.join("blueprint.toml"), manifest).unwrap();
    std::fs::write(dir.join("shared/V1__widget_kinds.sql"), include_str!("fixtures/widgets_shared.sql")).unwrap();
    std::fs::write(dir.join("tenant/V1__items.sql.tera"), include_str!("fixtures/widgets_items.sql.tera")).unwrap();
    if let Some(sql) = sample {
        std::fs::write(dir.join("sample/10_items.sql.tera"), sql).unwrap();
    }
}

/// Items keyed by (tenant, seed, number), their kind drawn from the seed;
/// existing keys are skipped. A refusal of its own for sizes over 100.
const WIDGETS_SAMPLE: &str = "
{% if size > 100 %}DO $$ BEGIN RAISE EXCEPTION 'the widgets sample holds at most 100 {{ unit }}'; END $$;{% endif %}
INSERT INTO items (item_id, kind)
SELECT s.item_id, s.kind FROM (
    SELECT md5('{{ tenant_id }}/{{ seed }}/' || g::text)::uuid AS item_id,
           (ARRAY['a', 'b', 'c'])[1 + (hashint8extended(g, {{ seed }}) & 1023) % 3] AS kind
    FROM generate_series(1, {{ size }}) AS g
) s
WHERE NOT EXISTS (SELECT 1 FROM items t WHERE t.item_id = s.item_id);
";

#[test]
fn a_second_blueprint_seeds_through_the_same_runner() {
    let db = TestDb::new();
    // With a second blueprint beside it, a tenant names its own.
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\nblueprint = \"agent_mitra\"\n");
    add_widgets_blueprint(&ws, None);
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).args(["tenant", "add", "w1", "--name", "W1", "--blueprint", "widgets"]).success();
    // Without [sample]: one clear line, exit 2, nothing touched.
    let catalog = db.catalog();
    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--tenant", "w1"])
        .status(2)
        .one_line_error()
        .stderr_has("declares no sample data");
    assert_eq!(db.catalog(), catalog);

    add_widgets_blueprint(&ws, Some(WIDGETS_SAMPLE));
    let out = db.provision().in_workspace(&ws).args(["--json", "seed", "--tenant", "w1", "--rng-seed", "3"]).success();
    assert_eq!(out.json()["tenants"][0]["inserted"], serde_json::json!({ "items": 5 }), "{}", out.stdout);
    let items = "SELECT string_agg(item_id || kind, ',' ORDER BY item_id) FROM w1_schema.items";
    let first = db.scalar(items);
    assert_eq!(db.scalar("SELECT count(DISTINCT tenant_id)::text FROM w1_schema.items"), "1");
    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--tenant", "w1", "--rng-seed", "3"])
        .success()
        .stdout_has("nothing new");
    assert_eq!(db.scalar(items), first, "a rerun changes nothing");
    let more =
        db.provision().in_workspace(&ws).args(["--json", "seed", "--tenant", "w1", "--size", "8", "--rng-seed", "3"]);
    assert_eq!(more.success().json()["tenants"][0]["inserted"]["items"], 3);
    assert_eq!(db.scalar("SELECT count(*)::text FROM w1_schema.items"), "8");
    // The pack's own refusal is a one-line exit 2, and the lic tenant was never touched.
    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--tenant", "w1", "--size", "101"])
        .status(2)
        .one_line_error()
        .stderr_has("at most 100 items");
    assert_eq!(count(&db, "lic_schema", "insurance_policies", "true"), 0);
}

/// A tiny blueprint whose one table holds ciphertext (`[[encrypted]]`), and
/// a sample that encrypts with the sample key and leaves one secret of its own.
fn add_vault_blueprint(ws: &Workspace) {
    let dir = ws.own_templates().join("vault");
    for folder in ["shared", "tenant", "sample"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
    let manifest = "name = \"vault\"\n[sample]\ndefault_size = 5\nunit = \"notes\"\n\
                    [[encrypted]]\ntable = \"notes\"\nkey = \"note_id\"\ncolumns = [\"body\"]\n";
    std::fs::write(dir.join("blueprint.toml"), manifest).unwrap();
    std::fs::write(dir.join("tenant/V1__notes.sql.tera"), VAULT_NOTES).unwrap();
    std::fs::write(dir.join("sample/10_notes.sql.tera"), VAULT_SAMPLE).unwrap();
}

const VAULT_NOTES: &str = "
CREATE TABLE {{ schema }}.notes (
    note_id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL DEFAULT '{{ tenant_id }}',
    body shared.ciphertext NOT NULL
);
ALTER TABLE {{ schema }}.notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE {{ schema }}.notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {{ schema }}.notes AS RESTRICTIVE FOR ALL
    USING (tenant_id = '{{ tenant_id }}'::uuid AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY notes_access ON {{ schema }}.notes FOR ALL USING (true);
";

const VAULT_SAMPLE: &str = "
INSERT INTO notes (note_id, body)
SELECT s.id, shared.encrypt('note ' || s.g, current_setting('provision.sample_key')) FROM (
    SELECT g, md5('{{ tenant_id }}/{{ seed }}/' || g::text)::uuid AS id FROM generate_series(1, {{ size }}) AS g
) s
WHERE NOT EXISTS (SELECT 1 FROM notes t WHERE t.note_id = s.id);
INSERT INTO pg_temp.sample_secrets (label, secret) VALUES ('vault demo password', 'pw-{{ seed }}-demo');
";

const VAULT_ONLY: &str = "[tenants.v1]\nname = \"V1\"\nblueprint = \"vault\"\n";

/// Hex runs of 32 characters or more: what a sample key would look like in output.
fn long_hex(text: &str) -> Vec<String> {
    regex::Regex::new("[0-9a-f]{32,}").unwrap().find_iter(text).map(|m| m.as_str().to_owned()).collect()
}

#[test]
fn encrypted_sample_rows_carry_the_current_key_which_a_non_sandbox_run_never_shows() {
    let db = TestDb::new();
    let ws = Workspace::new(VAULT_ONLY);
    add_vault_blueprint(&ws);
    db.provision().in_workspace(&ws).arg("up").success();
    let out = db.provision().in_workspace(&ws).args(["seed", "--rng-seed", "3"]).success();
    assert!(out.stderr.contains("not shown"), "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        assert!(long_hex(text).is_empty() && !text.contains("pw-3-demo"), "a secret in the output:\n{text}");
    }
    let keys = "SELECT string_agg(key_id || ':' || (retired_at IS NULL), ',' ORDER BY created_at) \
                FROM shared.tenant_keys WHERE tenant_code = 'v1'";
    let current = db.scalar(keys);
    let key_id = current.strip_suffix(":true").unwrap_or_else(|| panic!("one current key: {current}"));
    assert_eq!(db.scalar("SELECT count(*)::text FROM v1_schema.notes WHERE shared.is_envelope(body)"), "5");
    let carried = "SELECT string_agg(DISTINCT shared.envelope_key_id(body), ',') FROM v1_schema.notes";
    assert_eq!(db.scalar(carried), key_id);

    // A rerun adds nothing, so it needs no new key: the key history stays.
    let again = db.provision().in_workspace(&ws).args(["seed", "--rng-seed", "3"]).success();
    again.stdout_has("nothing new");
    assert_eq!(db.scalar(keys), current);
    // More rows would be a second key in use beside the current one: refused, nothing changed.
    db.provision()
        .in_workspace(&ws)
        .args(["seed", "--size", "8", "--rng-seed", "3"])
        .status(2)
        .one_line_error()
        .stderr_has("two keys in use");
    assert_eq!(db.scalar(keys), current);
    assert_eq!(db.scalar("SELECT count(*)::text FROM v1_schema.notes"), "5");
}

#[test]
fn the_sandbox_shows_the_sample_secrets_once_and_its_log_never_holds_the_key() {
    let ws = Workspace::new(VAULT_ONLY);
    add_vault_blueprint(&ws);
    Run::new().in_workspace(&ws).arg("up").success();
    let url = Run::new().in_workspace(&ws).args(["sandbox", "url"]).success().stdout.trim().to_owned();
    let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("the sandbox");
    // Everything a session does would be logged, bind values included, unless it says otherwise.
    let log_all = "ALTER DATABASE provision SET log_statement = 'all'; \
                   ALTER DATABASE provision SET log_parameter_max_length = -1;";
    support::runtime().block_on(async { target.connect().await.unwrap().batch_execute(log_all).await.unwrap() });

    let out = Run::new().in_workspace(&ws).args(["seed", "--rng-seed", "3"]).success();
    assert_eq!(out.stdout.matches("pw-3-demo").count(), 1, "{}", out.stdout);
    let line = out.stdout.lines().find(|l| l.contains("sample encryption key")).expect("the key, shown once");
    let key = line.split(": ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(key.len() >= 32, "{line}");
    assert_eq!(out.stdout.matches(&key).count(), 1);
    // Read before this test's own queries below pass the key (and get logged).
    let log = std::fs::read_to_string(ws.path().join(".provision/server.log")).unwrap();
    assert!(log.contains("sample_secrets"), "the log should hold the seed's statements");
    assert!(!log.contains(&key), "the sample key is in the server log");
    let (key_id, decrypted) = support::runtime().block_on(async {
        let client = target.connect().await.unwrap();
        let current = "SELECT key_id FROM shared.tenant_keys WHERE tenant_code = 'v1' AND retired_at IS NULL";
        let key_id: String = client.query_one(current, &[]).await.unwrap().get(0);
        let decrypt = "SELECT string_agg(shared.decrypt(body, $1), ',' ORDER BY 1) FROM v1_schema.notes";
        let decrypted: String = client.query_one(decrypt, &[&key]).await.unwrap().get(0);
        (key_id, decrypted)
    });
    assert!(line.contains(&key_id), "{line}");
    assert_eq!(decrypted, "note 1,note 2,note 3,note 4,note 5");
    Run::new().in_workspace(&ws).args(["sandbox", "stop"]).success();
}
