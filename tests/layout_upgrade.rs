//! Blueprint packs own their database-level objects: a database made by the
//! release before packs (tests/fixtures/previous_release.sql) moves to the
//! new layout on `up` with only its histories re-recorded, a fresh database
//! gets the same catalog, and a blueprint's shared part is applied once, with
//! its first tenant, all or nothing.

mod support;

use std::process::Command;

use support::{TestDb, Workspace};

const TWO_TENANTS: &str = r#"
[defaults]
blueprint = "agent_mitra"

[tenants.lic]
name = "Life Insurance Corporation of India"
type = "agent_network"

[tenants.hdfc]
name = "HDFC Life Insurance"
type = "agent_network"
"#;

/// The previous release's core history versions that moved to the pack.
const MOVED_CORE_VERSIONS: &str = "3,4,6,7,8";

/// Loads the previous release's dump into `db` (its roles are idempotent).
fn load_previous_release(db: &TestDb) {
    let fixture = support::repo().join("tests/fixtures/previous_release.sql");
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(&fixture)
        .output()
        .expect("run psql");
    assert!(output.status.success(), "loading the fixture failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// A copy of `db` made with pg_dump and psql.
fn dumped_and_restored(db: &TestDb) -> TestDb {
    let copy = TestDb::new();
    let status = Command::new("sh")
        .args(["-c", "pg_dump -d \"$1\" | psql -X -q -v ON_ERROR_STOP=1 -d \"$2\"", "sh", &db.url, &copy.url])
        .status()
        .expect("run pg_dump | psql");
    assert!(status.success(), "pg_dump | psql failed");
    copy
}

/// Catalog and privileges, without the history tables (the only thing the
/// move may change) and with UUIDs masked (tenant ids differ between
/// databases made separately).
fn image(db: &TestDb) -> Vec<String> {
    let mut rows = db.catalog();
    rows.extend(db.strings(include_str!("sql/layout_privileges.sql")));
    let mut rows: Vec<String> = rows
        .into_iter()
        .filter(|r| !r.contains("refinery_schema_history") && !r.contains("_shared_history"))
        // Roles are cluster-wide: other tests of this binary add tenants' roles in parallel.
        .filter(|r| !r.starts_with("member ") || r.starts_with("member lic_") || r.starts_with("member hdfc_"))
        .map(|r| mask_uuids(&r))
        .collect();
    rows.sort();
    rows
}

/// Whether a catalog row names an object that a core version newer than the
/// previous-release fixture creates (V14: column encryption; V16: retention
/// periods and salts; V17: row tenancy's functions; V18: template sources;
/// V19: tenant moves).
fn added_by_newer_core_versions(row: &str) -> bool {
    const NEWER: &[&str] = &[
        "shared.ciphertext ",
        "shared.decrypt",
        "shared.encrypt",
        "shared.envelope_key_id",
        "shared.is_envelope",
        "shared.key_id",
        "shared.wrong_key",
        "shared.tenant_keys",
        "shared.retention_periods",
        "shared.retention_salts",
        "comment pg_class shared.retention_periods ",
        "shared.tenant_active",
        "shared.tenant_role_member",
        "comment pg_proc  0 Row tenancy: ",
        "shared.template_sources",
        "comment pg_class shared.template_sources ",
        "shared.tenant_moves",
        "comment pg_class shared.tenant_moves ",
    ];
    NEWER.iter().any(|name| row.starts_with(name))
}

/// Whether a catalog row is one a core version newer than the fixture
/// changes (V19: the registry's status CHECK allows `moving` and `moved`).
fn changed_by_newer_core_versions(row: &str) -> bool {
    row.starts_with("shared.tenants con tenants_status_check ")
}

/// Replaces every canonical UUID in `text` by `<uuid>`.
fn mask_uuids(text: &str) -> String {
    let is_uuid = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let bytes = text.as_bytes();
    let (mut out, mut at) = (String::new(), 0);
    while at < bytes.len() {
        if at + 36 <= bytes.len() && is_uuid(&bytes[at..at + 36]) {
            out.push_str("<uuid>");
            at += 36;
        } else {
            let ch = text[at..].chars().next().unwrap();
            out.push(ch);
            at += ch.len_utf8();
        }
    }
    out
}

/// Asserts two images are equal, showing only what differs.
#[track_caller]
fn assert_same(found: &[String], expected: &[String]) {
    let missing: Vec<&String> = expected.iter().filter(|r| !found.contains(r)).collect();
    let extra: Vec<&String> = found.iter().filter(|r| !expected.contains(r)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing: {missing:#?}\nextra: {extra:#?}");
    assert_eq!(found.len(), expected.len(), "duplicates differ");
}

fn row_counts(db: &TestDb) -> Vec<String> {
    db.strings(include_str!("sql/row_counts.sql"))
        .into_iter()
        .filter(|r| !r.contains("refinery_schema_history") && !r.contains("_shared_history"))
        .filter(|r| !r.starts_with("provision.gate_passed"))
        .collect()
}

fn history(db: &TestDb, table: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT version || ' ' || name || ' ' || applied_on || ' ' || checksum FROM {table} ORDER BY version"
    ))
}

fn versions(db: &TestDb, table: &str) -> String {
    db.scalar(&format!("SELECT string_agg(version::text, ',' ORDER BY version) FROM {table}"))
}

#[test]
fn previous_release_database_moves_to_packs_in_place() {
    let db = TestDb::new();
    load_previous_release(&db);
    let old_core = history(&db, "provision.refinery_schema_history");
    assert_eq!(versions(&db, "provision.refinery_schema_history"), "1,2,3,4,5,6,7,8,9,10,11,12,13");
    let (before, counts) = (image(&db), row_counts(&db));
    let ws = Workspace::new(TWO_TENANTS);
    // Dry runs say so and change nothing (5 versions moved, 2 split).
    db.provision().in_workspace(&ws).args(["migrate", "--dry-run"]).success().stdout_has("would re-record 7 versions");
    assert_eq!(history(&db, "provision.refinery_schema_history"), old_core);

    db.provision().in_workspace(&ws).arg("up").success();

    // The history is re-recorded: moved versions left the core history and
    // every shared version of the pack is recorded, with the old applied_on.
    assert_eq!(versions(&db, "provision.refinery_schema_history"), "1,2,5,9,10,11,12,13,14,15,16,17,18,19");
    assert_eq!(versions(&db, r#"provision."agent_mitra_shared_history""#), "1,2,3,4,5,6,7,8");
    let moved_left: i64 = db
        .scalar(&format!(
            "SELECT count(*)::text FROM provision.refinery_schema_history WHERE version IN ({MOVED_CORE_VERSIONS})"
        ))
        .parse()
        .unwrap();
    assert_eq!(moved_left, 0);
    let applied_on_of = |version: i32| old_core[version as usize - 1].split(' ').nth(2).unwrap().to_owned();
    assert_eq!(
        db.scalar(r#"SELECT applied_on FROM provision."agent_mitra_shared_history" WHERE version = 4"#),
        applied_on_of(7)
    );
    // Nothing else changed: the catalog, privileges, and every table's rows,
    // apart from what core versions newer than the fixture add.
    let upgraded = image(&db);
    let unchanged: Vec<String> = upgraded
        .iter()
        .filter(|r| !added_by_newer_core_versions(r) && !changed_by_newer_core_versions(r))
        .cloned()
        .collect();
    let kept: Vec<String> = before.iter().filter(|r| !changed_by_newer_core_versions(r)).cloned().collect();
    assert_same(&unchanged, &kept);
    let counts_after: Vec<String> = row_counts(&db).into_iter().filter(|r| !added_by_newer_core_versions(r)).collect();
    assert_same(&counts_after, &counts);
    assert_eq!(db.scalar("SELECT count(*)::text FROM lic_schema.insurance_policies"), "200");
    assert_eq!(db.scalar("SELECT email FROM portal.portal_users"), "agent1@lic.example");

    db.provision().in_workspace(&ws).arg("verify").success();

    // A second `up` changes nothing, histories included.
    let (core_after, pack_after) =
        (history(&db, "provision.refinery_schema_history"), history(&db, r#"provision."agent_mitra_shared_history""#));
    db.provision().in_workspace(&ws).arg("up").success();
    assert_same(&image(&db), &upgraded);
    assert_eq!(history(&db, "provision.refinery_schema_history"), core_after);
    assert_eq!(history(&db, r#"provision."agent_mitra_shared_history""#), pack_after);

    // A database the new layout builds from nothing has the same catalog,
    // once it went through pg_dump and back as the fixture did (a restore
    // spells some CHECKs and default ACLs differently).
    let fresh = TestDb::new();
    fresh.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(versions(&fresh, r#"provision."agent_mitra_shared_history""#), "1,2,3,4,5,6,7,8");
    assert_same(&image(&dumped_and_restored(&fresh)), &image(&db));
}

#[test]
fn an_old_history_with_unknown_checksums_is_refused_untouched() {
    let db = TestDb::new();
    load_previous_release(&db);
    db.execute("UPDATE provision.refinery_schema_history SET checksum = '1' WHERE version = 7");
    let before = (image(&db), history(&db, "provision.refinery_schema_history"));
    let ws = Workspace::new(TWO_TENANTS);

    db.provision().in_workspace(&ws).arg("up").status(2).one_line_error().stderr_has("core version 7");

    assert_eq!((image(&db), history(&db, "provision.refinery_schema_history")), before);
    assert_eq!(
        db.scalar(r#"SELECT coalesce(to_regclass('provision."agent_mitra_shared_history"')::text, 'none')"#),
        "none"
    );
}

/// A second, tiny blueprint beside the shipped one, in the workspace's own
/// templates: a shared reference table its tenants' table points at.
fn add_widgets_blueprint(ws: &Workspace, shared_sql: &str, tenant_tail: &str) {
    let dir = ws.own_templates().join("widgets");
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::create_dir_all(dir.join("tenant")).unwrap();
    std::fs::write(dir.join("blueprint.toml"), "name = \"widgets\"\ndescription = \"two tables for tests\"\n").unwrap();
    std::fs::write(dir.join("shared/V1__widget_kinds.sql"), shared_sql).unwrap();
    let items = format!("{}{tenant_tail}", include_str!("fixtures/widgets_items.sql.tera"));
    std::fs::write(dir.join("tenant/V1__items.sql.tera"), items).unwrap();
}

const WIDGET_KINDS: &str = include_str!("fixtures/widgets_shared.sql");

fn table_exists(db: &TestDb, name: &str) -> bool {
    db.scalar(&format!("SELECT (to_regclass('{name}') IS NOT NULL)::text")) == "true"
}

#[test]
fn a_second_blueprint_applies_its_shared_part_once_with_its_first_tenant() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\nblueprint = \"agent_mitra\"\n");
    add_widgets_blueprint(&ws, WIDGET_KINDS, "");
    db.provision().in_workspace(&ws).arg("up").success();
    assert!(!table_exists(&db, "widget_ref.kinds"), "no widgets tenant yet, so no widgets shared part");
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "w1", "--name", "W1", "--blueprint", "widgets", "--dry-run"])
        .success()
        .stdout_has("would apply shared migrations: widgets/V1__widget_kinds");
    assert!(!table_exists(&db, "widget_ref.kinds"), "a dry run changes nothing");

    db.provision().in_workspace(&ws).args(["tenant", "add", "w1", "--name", "W1", "--blueprint", "widgets"]).success();
    assert_eq!(versions(&db, r#"provision."widgets_shared_history""#), "1");
    assert_eq!(db.scalar("SELECT count(*)::text FROM widget_ref.kinds"), "3");
    let first = history(&db, r#"provision."widgets_shared_history""#);

    db.provision().in_workspace(&ws).args(["tenant", "add", "w2", "--name", "W2", "--blueprint", "widgets"]).success();
    assert_eq!(history(&db, r#"provision."widgets_shared_history""#), first);
    assert_eq!(db.scalar("SELECT count(*)::text FROM widget_ref.kinds"), "3");
    assert!(table_exists(&db, "w2_schema.items"));
    db.provision().in_workspace(&ws).arg("status").success().stdout_has("shared part of widgets: version 1, 0 pending");
    // The shipped blueprint's history is its own.
    assert_eq!(versions(&db, r#"provision."agent_mitra_shared_history""#), "1,2,3,4,5,6,7,8");
}

/// Nothing of the widgets blueprint or of tenant w1 is in `db`.
#[track_caller]
fn assert_nothing_of_w1(db: &TestDb, before: &[String]) {
    assert!(!table_exists(db, r#"provision."widgets_shared_history""#));
    assert!(!table_exists(db, "widget_ref.kinds"));
    assert!(!table_exists(db, "w1_schema.items"));
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname LIKE 'w1\\_%'"), "0");
    // Only provision's own migrations (their own transaction, first) may have run.
    let added: Vec<String> = db.catalog().into_iter().filter(|r| !before.contains(r)).collect();
    assert!(added.iter().all(|r| !r.contains("widget") && !r.contains("w1_")), "{added:#?}");
}

#[test]
fn a_failing_shared_part_leaves_neither_it_nor_the_tenant() {
    let db = TestDb::new();
    let ws = Workspace::new("");
    add_widgets_blueprint(&ws, &format!("{WIDGET_KINDS}\nSELECT 1 / 0;\n"), "");
    let before = db.catalog();

    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "w1", "--name", "W1", "--blueprint", "widgets"])
        .status(1)
        .stderr_has("the shared part of blueprint widgets failed")
        .stderr_has("division by zero");

    assert_nothing_of_w1(&db, &before);
}

/// The first tenant's transaction holds its blueprint's shared part: when
/// the tenant fails after it (here its own template, for w1 only, so the
/// template safety gate's reference tenant passes), both are rolled back.
#[test]
fn a_first_tenant_that_fails_takes_its_blueprints_shared_part_back() {
    let db = TestDb::new();
    let ws = Workspace::new("");
    add_widgets_blueprint(&ws, WIDGET_KINDS, "{% if code == \"w1\" %}\nSELECT 1 / 0;\n{% endif %}\n");
    let before = db.catalog();

    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "add", "w1", "--name", "W1", "--blueprint", "widgets"])
        .status(1)
        .stderr_has("division by zero");

    assert_nothing_of_w1(&db, &before);
    // w2 passes the same template, and gets the shared part with it.
    db.provision().in_workspace(&ws).args(["tenant", "add", "w2", "--name", "W2", "--blueprint", "widgets"]).success();
    assert_eq!(versions(&db, r#"provision."widgets_shared_history""#), "1");
}

/// A blueprint's applied shared version that was edited since is reported as
/// a core one is: by verify as a changed migration, and `up` refuses to go on.
#[test]
fn an_edited_shared_version_is_reported_like_a_core_one() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.w1]\nname = \"W1\"\nblueprint = \"widgets\"\n");
    add_widgets_blueprint(&ws, WIDGET_KINDS, "");
    db.provision().in_workspace(&ws).arg("up").success();
    assert_eq!(versions(&db, r#"provision."widgets_shared_history""#), "1");
    let shared_v1 = ws.path().join("templates/widgets/shared/V1__widget_kinds.sql");
    std::fs::write(&shared_v1, format!("{WIDGET_KINDS}-- edited after it ran\n")).unwrap();
    let history_before = history(&db, r#"provision."widgets_shared_history""#);

    db.provision().in_workspace(&ws).arg("verify").status(1).stdout_has("widgets/V1__widget_kinds");
    db.provision()
        .in_workspace(&ws)
        .arg("up")
        .status(1)
        .stderr_has("the shared part of blueprint widgets failed")
        .stderr_has("V1__widget_kinds was edited since it ran");
    assert_eq!(history(&db, r#"provision."widgets_shared_history""#), history_before);
}
