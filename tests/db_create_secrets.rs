//! `db create --sample` for packs whose sample carries secrets: PHI
//! encrypted under a per-run sample key (health_insurance) and generated
//! user passwords (claimflow). A template is shared by every clone, so a
//! secret baked into it would be either lost (nobody saw it) or shared
//! silently by every clone; each clone must get secrets of its own, shown
//! once on the embedded sandbox and never anywhere else.

mod support;

use support::{Outcome, Run, TestDb, Workspace};

/// One tenant of each secret-bearing pack, in a tenants.toml only this test has.
fn workspace(tag: &str) -> Workspace {
    Workspace::new(&format!(
        "[tenants.hp]\nname = \"HP\"\nblueprint = \"health_insurance\"\n\
         [tenants.cf]\nname = \"CF\"\nblueprint = \"claimflow\"\n# test {tag}\n"
    ))
}

/// First column of every row of `sql`, run in database `name` of the server behind `url`.
fn strings_at(url: &str, name: &str, sql: &str) -> Vec<String> {
    let url = support::with_database(url, name);
    support::runtime().block_on(async {
        let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
        let client = target.connect().await.unwrap_or_else(|e| panic!("connect to {name}: {e:#}"));
        let rows = client.query(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        rows.iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()).collect()
    })
}

fn scalar_at(url: &str, name: &str, sql: &str) -> String {
    strings_at(url, name, sql).into_iter().next().unwrap_or_default()
}

/// The tenant's one current key id, and every key id its members' PHI names.
fn keys_of(url: &str, name: &str) -> (String, String) {
    let current = scalar_at(
        url,
        name,
        "SELECT string_agg(key_id, ',') FROM shared.tenant_keys WHERE tenant_code = 'hp' AND retired_at IS NULL",
    );
    let carried = scalar_at(
        url,
        name,
        "SELECT string_agg(DISTINCT shared.envelope_key_id(first_name), ',') FROM hp_schema.members",
    );
    (current, carried)
}

/// The bcrypt hashes of claimflow's sample users that have a password.
fn password_hashes(url: &str, name: &str) -> String {
    scalar_at(
        url,
        name,
        "SELECT string_agg(email || '=' || password_hash, ',' ORDER BY email) FROM cf_schema.users \
         WHERE password_hash <> '!'",
    )
}

/// Hex runs of 32 characters or more: what a sample key would look like in output.
fn long_hex(text: &str) -> Vec<String> {
    regex::Regex::new("[0-9a-f]{32,}").unwrap().find_iter(text).map(|m| m.as_str().to_owned()).collect()
}

fn assert_no_secret_in(out: &Outcome) {
    for text in [&out.stdout, &out.stderr] {
        assert!(long_hex(text).is_empty(), "a key-like value in the output:\n{text}");
        assert!(!text.contains("password of"), "a password in the output:\n{text}");
    }
}

#[test]
fn each_clone_gets_its_own_sample_key_and_passwords_and_a_non_sandbox_target_shows_none() {
    let db = TestDb::new();
    let ws = workspace(&db.name);
    let (first, second) = (format!("{}_a", db.name), format!("{}_b", db.name));
    let out = db.provision().in_workspace(&ws).args(["db", "create", &first, "--sample", "4"]).success();
    assert_no_secret_in(&out);
    assert!(out.stderr.contains("not shown"), "{}", out.stderr);
    let out = db.provision().in_workspace(&ws).args(["--json", "db", "create", &second, "--sample", "4"]).success();
    assert_no_secret_in(&out);
    let seeded: Vec<String> = out.json()["seeded"]
        .as_array()
        .expect("the per-database samples")
        .iter()
        .map(|t| format!("{} {} {}", t["tenant"], t["secrets"].is_null(), t["secrets_withheld"]))
        .collect();
    // cf: its sample key and four passwords; hp: its sample key (in the registry's order).
    assert_eq!(seeded, ["\"cf\" true 5", "\"hp\" true 1"]);
    let (key_a, carried_a) = keys_of(&db.url, &first);
    let (key_b, carried_b) = keys_of(&db.url, &second);
    assert_eq!(key_a.len(), 12, "one current key: {key_a}");
    assert_eq!(carried_a, key_a, "every PHI value of a clone names its current key");
    assert_eq!(carried_b, key_b);
    assert_ne!(key_a, key_b, "two clones share one sample key");
    let members = "SELECT count(*)::text FROM hp_schema.members WHERE shared.is_envelope(first_name)";
    assert_eq!(scalar_at(&db.url, &first, members), "4");
    assert_eq!(scalar_at(&db.url, &second, members), "4");
    let (hashes_a, hashes_b) = (password_hashes(&db.url, &first), password_hashes(&db.url, &second));
    assert_eq!(hashes_a.matches("=$2a$").count(), 4, "claimant0, claimant1, reviewer0, admin0: {hashes_a}");
    assert_ne!(hashes_a, hashes_b, "two clones share the sample users' passwords");
    // The template holds no sample row of a secret-bearing tenant: nothing in it needs a key nobody has.
    let template = scalar_at(
        &db.url,
        &first,
        &format!(
            "SELECT substr(shobj_description(oid, 'pg_database'), length('provision db create: template ') + 1) \
             FROM pg_database WHERE datname = '{first}'"
        ),
    );
    assert!(template.starts_with("provision_tpl_"), "{template}");
    support::runtime().block_on(async {
        let admin = provision::resolve(Some(&support::with_database(&db.url, "postgres")), &|_| None)
            .unwrap()
            .expect("a target");
        let admin = admin.connect().await.unwrap();
        admin.batch_execute(&format!("ALTER DATABASE {template} ALLOW_CONNECTIONS true")).await.unwrap();
    });
    // (cf_schema.users holds the tenant's administrator, which `up` makes.)
    let in_template = "SELECT (SELECT count(*) FROM hp_schema.members) + (SELECT count(*) FROM shared.tenant_keys) \
                       + (SELECT count(*) FROM cf_schema.users WHERE email NOT LIKE 'admin@%')";
    assert_eq!(scalar_at(&db.url, &template, &format!("SELECT ({in_template})::text")), "0");
}

/// The value of the output line `  <label>: <secret>  (shown only now)`.
fn shown(out: &Outcome, label: &str) -> String {
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.contains(label)).collect();
    assert_eq!(lines.len(), 1, "{label} shown once:\n{}", out.stdout);
    let value = lines[0].rsplit_once(": ").unwrap().1.split_whitespace().next().unwrap().to_owned();
    assert_eq!(out.stdout.matches(&value).count(), 1, "{value} shown more than once");
    value
}

#[test]
fn on_the_sandbox_each_clone_shows_the_key_and_passwords_that_open_it() {
    let ws = workspace("sandbox");
    let mut keys = Vec::new();
    for name in ["ci_a", "ci_b"] {
        let out = Run::new().in_workspace(&ws).args(["db", "create", name, "--sample", "4"]).success();
        let hp_key_id =
            scalar_at(&sandbox_url(&ws), name, "SELECT key_id FROM shared.tenant_keys WHERE tenant_code = 'hp'");
        let key = shown(&out, &format!("sample encryption key (key id {hp_key_id})"));
        let password = shown(&out, "password of claimant0@cf.example");
        keys.push((name, key, password));
    }
    let url = sandbox_url(&ws);
    for (name, key, password) in &keys {
        let decrypted = support::runtime().block_on(async {
            let target = provision::resolve(Some(&support::with_database(&url, name)), &|_| None).unwrap().unwrap();
            let client = target.connect().await.unwrap();
            let sql = "SELECT count(shared.decrypt(first_name, $1))::text FROM hp_schema.members";
            let decrypted: String = client.query_one(sql, &[key]).await.unwrap().get(0);
            let login = "SELECT (password_hash = public.crypt($1, password_hash))::text FROM cf_schema.users \
                         WHERE email = 'claimant0@cf.example'";
            let matches: String = client.query_one(login, &[password]).await.unwrap().get(0);
            assert_eq!(matches, "true", "{name}: the printed password is not claimant0's");
            decrypted
        });
        assert_eq!(decrypted, "4", "{name}: its printed key opens its PHI");
    }
    // One clone's key does not open the other's PHI.
    let refused = support::runtime().block_on(async {
        let target = provision::resolve(Some(&support::with_database(&url, "ci_b")), &|_| None).unwrap().unwrap();
        let client = target.connect().await.unwrap();
        let sql = "SELECT shared.decrypt(first_name, $1) FROM hp_schema.members LIMIT 1";
        client.query_one(sql, &[&keys[0].1]).await.expect_err("ci_a's key opens ci_b").code().cloned()
    });
    assert_eq!(refused, Some(tokio_postgres::error::SqlState::INVALID_PASSWORD));
    Run::new().in_workspace(&ws).args(["sandbox", "stop"]).success();
}

fn sandbox_url(ws: &Workspace) -> String {
    Run::new().in_workspace(ws).args(["sandbox", "url"]).success().stdout.trim().to_owned()
}

#[test]
fn a_clone_whose_own_sample_fails_is_dropped() {
    let db = TestDb::new();
    let ws =
        Workspace::new(&format!("[tenants.hp]\nname = \"HP\"\nblueprint = \"health_insurance\"\n# test {}\n", db.name));
    let refusal = "DO $$ BEGIN RAISE EXCEPTION 'sample refused for {{ code }}'; END $$;\n";
    std::fs::write(ws.own_templates().join("health_insurance/sample/99_refuse.sql.tera"), refusal).unwrap();
    let name = format!("{}_c", db.name);
    db.provision()
        .in_workspace(&ws)
        .args(["db", "create", &name, "--sample", "2"])
        .status(2)
        .one_line_error()
        .stderr_has("sample refused for hp");
    let databases = "SELECT string_agg(datname, ',') FROM pg_database WHERE datname = $$NAME$$ OR \
                     (datname LIKE 'provision\\_tpl\\_%' AND shobj_description(oid, 'pg_database') LIKE $$%TOML$$)";
    let toml = ws.config_path().canonicalize().unwrap().display().to_string();
    let found = scalar_at(&db.url, "postgres", &databases.replace("NAME", &name).replace("TOML", &toml));
    assert!(
        found.starts_with("provision_tpl_") && !found.contains(','),
        "the clone is gone, the template stays: {found}"
    );
}
