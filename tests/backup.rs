//! `tenant backup` and the backup `tenant remove` takes, against a real
//! PostgreSQL: a backup restored with psql gives back the same catalog,
//! privileges, rows and registry, whether the audit log was kept (as
//! `tenant remove` does) or is gone too.

mod support;

use std::path::Path;
use std::process::Command;

use support::{with_user, TestDb, Workspace};

const LIC_AND_HDFC: &str = "[tenants.lic]\nname = \"LIC\"\n\n[tenants.hdfc]\nname = \"HDFC Life\"\n";

/// lic and hdfc provisioned, lic with sample data, audited changes, tenant
/// configuration and an application login attached.
fn provisioned(db: &TestDb, ws: &Workspace) -> String {
    db.provision().in_workspace(ws).arg("up").success();
    db.provision().in_workspace(ws).args(["seed", "--tenant", "lic", "--sample", "50"]).success();
    // Row-level audit rows on top of seed's summary rows.
    db.execute(
        "UPDATE lic_schema.users SET first_name = coalesce(first_name, '') || ' Jr' WHERE user_id IN \
           (SELECT user_id FROM lic_schema.users ORDER BY user_id LIMIT 5);
         DELETE FROM lic_schema.user_events WHERE event_id IN (SELECT event_id FROM lic_schema.user_events ORDER BY event_id LIMIT 2);
         INSERT INTO shared.tenant_config (tenant_id, config_key, config_value)
           SELECT tenant_id, 'branding', '{\"colour\": \"blue\", \"note\": \"it''s \\\\ fine\"}'::jsonb
           FROM shared.tenants WHERE tenant_code = 'lic';",
    );
    let login = format!("{}_api", db.name);
    db.execute(&format!("CREATE ROLE {login} LOGIN"));
    db.provision().in_workspace(ws).args(["tenant", "grant", "lic", &login]).success();
    login
}

/// Owners, privileges, RLS flags, policies, trigger states, sequence
/// positions, default privileges and memberships of lic: what the catalog
/// snapshot leaves out.
fn privileges(db: &TestDb) -> Vec<String> {
    db.strings(&format!(
        "SELECT x FROM (
           SELECT format('%s %s owner=%s acl=%s rls=%s/%s', c.oid::regclass, c.relkind, c.relowner::regrole, c.relacl,
                         c.relrowsecurity, c.relforcerowsecurity) AS x
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'lic_schema' OR (n.nspname = 'audit' AND c.relname LIKE 'lic\\_audit\\_log%')
           UNION ALL
           SELECT format('%s policy %s %s %s %s %s %s', p.polrelid::regclass, p.polname, p.polcmd, p.polpermissive,
                         p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
           FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'lic_schema'
           UNION ALL
           SELECT format('%s func owner=%s acl=%s', p.oid::regprocedure, p.proowner::regrole, p.proacl)
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'lic_schema'
           UNION ALL
           SELECT format('%s type owner=%s acl=%s', t.oid::regtype, t.typowner::regrole, t.typacl)
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'lic_schema'
           UNION ALL
           SELECT format('schema %s owner=%s acl=%s', n.nspname, n.nspowner::regrole, n.nspacl)
           FROM pg_namespace n WHERE n.nspname = 'lic_schema'
           UNION ALL
           SELECT format('%s trigger %s enabled=%s', g.tgrelid::regclass, g.tgname, g.tgenabled)
           FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE NOT g.tgisinternal AND (n.nspname = 'lic_schema' OR (n.nspname = 'audit' AND c.relname LIKE 'lic\\_audit\\_log%'))
           UNION ALL
           SELECT format('sequence %s.%s last=%s', schemaname, sequencename, last_value) FROM pg_sequences
           WHERE schemaname = 'lic_schema'
           UNION ALL
           SELECT format('default acl %s %s %s %s', d.defaclrole::regrole, d.defaclnamespace::regnamespace, d.defaclobjtype, d.defaclacl)
           FROM pg_default_acl d WHERE d.defaclrole::regrole::text LIKE 'lic\\_%'
           UNION ALL
           SELECT format('member %s of %s admin=%s', m.member::regrole, m.roleid::regrole, m.admin_option)
           FROM pg_auth_members m
           -- Roles are cluster-wide: only this test's logins, not another test's.
           WHERE m.member::regrole::text LIKE 'lic\\_%'
              OR (m.roleid::regrole::text LIKE 'lic\\_%' AND starts_with(m.member::regrole::text, '{}_'))
         ) facts ORDER BY x",
        db.name
    ))
}

/// One md5 per table of lic (partitioned parents whole) and of its audit
/// log, over every row in a stable order.
fn digests(db: &TestDb) -> Vec<String> {
    let tables = db.strings(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE ((n.nspname = 'lic_schema' AND c.relkind IN ('r', 'p')) OR c.oid = 'audit.lic_audit_log'::regclass)
           AND NOT c.relispartition
         ORDER BY 1",
    );
    assert!(tables.len() > 20, "{tables:?}");
    tables
        .iter()
        .map(|t| {
            let digest = db.scalar(&format!(
                "SELECT count(*) || ' ' || md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {t} r"
            ));
            format!("{t} {digest}")
        })
        .collect()
}

fn registry(db: &TestDb) -> Vec<String> {
    db.strings(
        "SELECT to_jsonb(t)::text FROM shared.tenants t WHERE tenant_code = 'lic'
         UNION ALL
         SELECT (to_jsonb(c) - 'tenant_id')::text FROM shared.tenant_config c
         JOIN shared.tenants t USING (tenant_id) WHERE t.tenant_code = 'lic'",
    )
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.scalar(&format!("SELECT ({sql})::text")).parse().unwrap()
}

fn restore(db: &TestDb, file: &Path) {
    let psql = Command::new("psql")
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(file)
        .output()
        .expect("psql is installed");
    assert!(
        psql.status.success(),
        "restore failed:\n{}\n{}",
        String::from_utf8_lossy(&psql.stdout),
        String::from_utf8_lossy(&psql.stderr)
    );
}

#[test]
fn remove_then_restore_gives_back_the_same_tenant() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    let login = provisioned(&db, &ws);
    assert!(count(&db, "SELECT count(*) FROM audit.lic_audit_log WHERE record_id <> '*'") > 5);
    let catalog = db.catalog();
    let privileges_before = privileges(&db);
    let digests_before = digests(&db);
    let registry_before = registry(&db);
    let hdfc_before = db.schema_catalog("hdfc_schema");
    assert!(privileges_before.iter().any(|p| p.starts_with(&format!("member {login} of lic_app"))));
    assert!(privileges_before.iter().any(|p| p == "default acl lic_owner - f {lic_owner=X/lic_owner}"));

    let file = ws.path().join("lic-final.sql");
    let removed = db
        .provision()
        .in_workspace(&ws)
        .args(["--json", "tenant", "remove", "lic", "--yes", "--backup-out"])
        .arg(&file)
        .success()
        .json();
    assert_eq!(removed["outcome"], "removed");
    assert!(removed["backup"]["size_bytes"].as_u64().unwrap() > 10_000, "{removed}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("SET session_replication_role = replica;"));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(count(&db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'lic_schema'"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM shared.tenants WHERE tenant_code = 'lic'"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM pg_default_acl WHERE defaclrole::regrole::text = 'lic_owner'"), 0);
    // The backup is recorded, and its history outlives the registry row.
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM shared.backup_history WHERE backup_type = 'full' AND status = 'completed' \
                 AND verification_status = 'pending' AND size_bytes = {} AND completed_at >= started_at",
                std::fs::metadata(&file).unwrap().len()
            )
        ),
        1
    );
    assert_eq!(db.schema_catalog("hdfc_schema"), hdfc_before, "hdfc was touched");

    restore(&db, &file);
    assert_eq!(db.catalog(), catalog, "the catalog differs after the restore");
    assert_eq!(privileges(&db), privileges_before, "privileges differ after the restore");
    assert_eq!(digests(&db), digests_before, "rows differ after the restore");
    assert_eq!(registry(&db), registry_before);
    assert_eq!(count(&db, "SELECT count(*) FROM shared.backup_history WHERE status = 'completed'"), 1);
    db.provision().in_workspace(&ws).args(["verify", "--tenant", "lic"]).success();

    // The restored tenant works as before: audited, and removable again.
    let audited = "SELECT count(*) FROM audit.lic_audit_log WHERE table_name = 'agents' AND operation = 'UPDATE'";
    let before = count(&db, audited);
    db.execute("UPDATE lic_schema.agents SET agent_code = agent_code WHERE agent_id IN (SELECT agent_id FROM lic_schema.agents LIMIT 1)");
    assert_eq!(count(&db, audited), before + 1);
    db.provision().in_workspace(&ws).args(["tenant", "remove", "lic", "--yes", "--no-backup"]).success();
    assert_eq!(count(&db, "SELECT count(*) FROM shared.backup_history"), 1);
}

#[test]
fn a_backup_brings_back_a_dropped_audit_log_too() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    provisioned(&db, &ws);
    let catalog = db.catalog();
    let privileges_before = privileges(&db);
    let digests_before = digests(&db);
    let registry_before = registry(&db);

    // A superuser with a password: it reaches pg_dump through the environment only.
    let admin = format!("{}_admin", db.name);
    let password = "Backup-Secret-4711";
    db.execute(&format!("CREATE ROLE {admin} LOGIN SUPERUSER PASSWORD '{password}'"));
    let url = with_user(&db.url, &admin, password);
    let file = ws.path().join("lic.sql");
    let out = support::Run::new()
        .env("DATABASE_URL", &url)
        .in_workspace(&ws)
        .args(["tenant", "backup", "lic", "--out"])
        .arg(&file)
        .success()
        .stdout_has("backed up tenant lic to");
    let text = std::fs::read_to_string(&file).unwrap();
    for shown in [&out.stdout, &out.stderr, &text] {
        assert!(!shown.contains(password), "the password leaked");
    }
    let lic_id = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'lic'");
    assert_eq!(
        db.strings(
            "SELECT concat_ws(' ', tenant_id, backup_type, status, size_bytes, verification_status, error_message) \
             FROM shared.backup_history"
        ),
        [format!("{lic_id} full completed {} pending", std::fs::metadata(&file).unwrap().len())]
    );

    // Removed without a second backup, and the audit log dropped as well
    // (retention, or a DBA): the restore makes the log and its partitions anew.
    db.provision().in_workspace(&ws).args(["tenant", "remove", "lic", "--yes", "--no-backup"]).success();
    db.execute("DROP TABLE audit.lic_audit_log");
    restore(&db, &file);
    assert_eq!(db.catalog(), catalog, "the catalog differs after the restore");
    assert_eq!(privileges(&db), privileges_before, "privileges differ after the restore");
    assert_eq!(digests(&db), digests_before, "rows differ after the restore");
    assert_eq!(registry(&db), registry_before);
    db.provision().in_workspace(&ws).args(["verify", "--tenant", "lic"]).success();

    // Restoring over an existing tenant changes nothing and says why.
    let again = Command::new("psql")
        .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("tenant lic already exists"));
    assert_eq!(digests(&db), digests_before);
}

#[test]
fn remove_backs_up_by_default_and_no_backup_skips_it() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    db.provision().in_workspace(&ws).arg("up").success();
    let sql_files = || -> Vec<String> {
        std::fs::read_dir(ws.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect()
    };

    let out = db.provision().in_workspace(&ws).args(["tenant", "remove", "hdfc", "--yes"]).success();
    let files = sql_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("hdfc-") && files[0].ends_with("Z.sql"), "{files:?}");
    assert!(out.stdout.contains(&format!("backed up tenant hdfc to {}", files[0])), "{}", out.stdout);

    let out = db.provision().in_workspace(&ws).args(["tenant", "remove", "lic", "--yes", "--no-backup"]).success();
    assert!(!out.stdout.contains("backed up"), "{}", out.stdout);
    assert_eq!(sql_files().len(), 1);
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.tenants"), "0");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.backup_history"), "1");
}

#[test]
fn refusals_are_one_line_and_change_nothing() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "backup", "nope"])
        .status(2)
        .one_line_error()
        .stderr_has("not registered");
    assert_eq!(std::fs::read_dir(ws.path()).unwrap().count(), 1, "only tenants.toml");

    // A backup never overwrites a file, and a removal that cannot back up drops nothing.
    let taken = ws.path().join("taken.sql");
    std::fs::write(&taken, "keep me").unwrap();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "backup", "lic", "--out"])
        .arg(&taken)
        .status(2)
        .one_line_error()
        .stderr_has("already exists");
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "lic", "--yes", "--backup-out"])
        .arg(&taken)
        .status(2)
        .one_line_error();
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "lic", "--yes", "--backup-out"])
        .arg(ws.path().join("missing-dir/lic.sql"))
        .status(2)
        .one_line_error();
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");

    // A removal the registry refuses is refused before any backup is written.
    db.execute(
        "INSERT INTO portal.callback_requests (tenant_id, customer_id, description, customer_name, customer_phone, request_type) \
         SELECT tenant_id, gen_random_uuid(), 'call me', 'Priya', '+919800000001', 'policy_issue' FROM shared.tenants \
         WHERE tenant_code = 'lic'",
    );
    db.provision()
        .in_workspace(&ws)
        .args(["tenant", "remove", "lic", "--yes", "--backup-out", "lic.sql"])
        .status(1)
        .one_line_error()
        .stderr_has("portal.callback_requests");
    assert!(!ws.path().join("lic.sql").exists());
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'lic_schema'"), "1");
    assert_eq!(db.scalar("SELECT count(*)::text FROM shared.backup_history"), "0");
}

#[test]
fn a_failed_backup_is_recorded_and_stops_the_removal() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    db.provision().in_workspace(&ws).arg("up").success();
    let before = db.catalog();
    db.with(async |holder| {
        // Another session holds a table of lic: pg_dump cannot read it.
        holder.batch_execute("BEGIN; LOCK TABLE lic_schema.users IN ACCESS EXCLUSIVE MODE").await.unwrap();
        let out = db
            .provision()
            .in_workspace(&ws)
            .args(["--lock-timeout", "1", "tenant", "backup", "lic", "--out", "lic.sql"])
            .status(1)
            .one_line_error()
            .stderr_has("pg_dump failed");
        assert!(out.stderr.contains("lic_schema.users"), "{}", out.stderr);
        // The removal cannot lock the tables for its final backup: exit 3, nothing dropped.
        db.provision()
            .in_workspace(&ws)
            .args(["--lock-timeout", "1", "tenant", "remove", "lic", "--yes", "--backup-out", "lic.sql"])
            .status(3)
            .one_line_error();
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    let files: Vec<String> =
        std::fs::read_dir(ws.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files, ["tenants.toml"], "no file, not even a partial one");
    assert_eq!(db.catalog(), before);
    let history = db.strings(
        "SELECT concat_ws(' ', backup_type, status, size_bytes IS NULL, verification_status) || ' | ' || error_message \
         || ' | ' || coalesce(storage_location, '') || ' | ' || coalesce(tenant_code, '') FROM shared.backup_history",
    );
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].starts_with("full failed t pending | pg_dump failed: "), "{history:?}");
    let file = ws.path().join("lic.sql").display().to_string();
    assert!(history[0].contains("lic_schema.users") && history[0].contains(&file), "{history:?}");
    assert!(history[0].ends_with(" | lic"), "the history names the tenant by code too: {history:?}");
}

/// The files of the workspace whose names end with `suffix`.
fn files_ending(ws: &Workspace, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(ws.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

#[test]
fn a_killed_backup_leaves_no_partial_file_after_the_next_run() {
    use std::time::{Duration, Instant};
    let db = TestDb::new();
    let ws = Workspace::new(LIC_AND_HDFC);
    db.provision().in_workspace(&ws).arg("up").success();
    db.with(async |holder| {
        // pg_dump waits for this lock, so the run is caught half-way.
        holder.batch_execute("BEGIN; LOCK TABLE lic_schema.users IN ACCESS EXCLUSIVE MODE").await.unwrap();
        let mut run =
            db.provision().in_workspace(&ws).args(["--lock-timeout", "60", "tenant", "backup", "lic"]).spawn();
        let deadline = Instant::now() + Duration::from_secs(30);
        let pg_dump = loop {
            holder.batch_execute("SELECT pg_stat_clear_snapshot()").await.unwrap();
            let waiting = holder
                .query_opt(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() \
                     AND wait_event_type = 'Lock'",
                    &[&db.name],
                )
                .await
                .unwrap();
            if let Some(row) = waiting {
                break row.get::<_, i32>(0);
            }
            if run.try_wait().unwrap().is_some() || Instant::now() > deadline {
                panic!("pg_dump never waited: {:?}", run.wait_with_output().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        run.kill().unwrap(); // SIGKILL: no cleanup runs
        run.wait().unwrap();
        holder.execute("SELECT pg_terminate_backend($1)", &[&pg_dump]).await.unwrap();
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    let leftovers = files_ending(&ws, ".sql.partial");
    assert_eq!(leftovers.len(), 1, "the kill left its partial file: {leftovers:?}");
    // pg_dump (which shares the file) exits on its own once its session ended.
    let leftover = ws.path().join(&leftovers[0]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::File::open(&leftover).unwrap().try_lock().is_err() {
        assert!(std::time::Instant::now() < deadline, "pg_dump kept the partial file open");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_secs(1)); // a new default name needs a new second
    db.provision().in_workspace(&ws).args(["tenant", "backup", "lic"]).success();
    assert_eq!(files_ending(&ws, ".partial"), Vec::<String>::new(), "the next run removed the leftover");
    assert_eq!(files_ending(&ws, ".sql").len(), 1);
    assert_eq!(db.scalar("SELECT string_agg(status, ',' ORDER BY status) FROM shared.backup_history"), "completed");
}
