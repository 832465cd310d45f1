//! The security a rollover gives new partitions, beyond the blueprint's own
//! policies: the plan spells each parent's policies once for the whole
//! database without locking anything, which works only for expressions that
//! name no column; a policy that names one, a policy for one role and
//! command, and a DEFAULT partition recreated by rollover must all come out
//! exactly like the parent's. Every assertion reads pg_policy and pg_class.

mod support;

use support::{TestDb, Workspace};

const LIC: &str = "[tenants.lic]\nname = \"LIC\"\n";

/// A relation's policies, each as name, command, permissive, roles, USING and
/// WITH CHECK, deparsed against the relation itself.
fn policies(db: &TestDb, rel: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT polname::text || ' ' || polcmd::text || ' ' || polpermissive::text || ' ' || \
                (SELECT string_agg(CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1) FROM unnest(polroles) r) || ' ' || \
                coalesce(pg_get_expr(polqual, polrelid), '-') || ' ' || coalesce(pg_get_expr(polwithcheck, polrelid), '-') \
         FROM pg_policy WHERE polrelid = '{rel}'::regclass ORDER BY 1"
    ))
}

fn partitions(db: &TestDb, parent: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = '{parent}'::regclass ORDER BY 1"
    ))
}

#[test]
fn new_partitions_copy_policies_that_name_columns_or_roles_and_a_recreated_default_is_secured() {
    let db = TestDb::new();
    let ws = Workspace::new(LIC);
    db.provision().in_workspace(&ws).arg("up").success();
    let events = "lic_schema.user_events";
    let sessions = "lic_schema.session_analytics";
    // A policy naming a column cannot be deparsed without locking the parent,
    // so its partitions' transactions copy it; the role-and-command one can.
    db.execute(&format!(
        "CREATE POLICY own_events ON {events} AS RESTRICTIVE FOR UPDATE TO lic_app \
             USING (\"timestamp\" > '2000-01-01') WITH CHECK (event_type IS NOT NULL);
         CREATE POLICY app_reads ON {events} FOR SELECT TO lic_app, lic_owner USING (true);
         DROP TABLE {sessions}_default"
    ));
    let before_events = partitions(&db, events);
    let now = db.scalar("SELECT to_char(localtimestamp + interval '2 months', 'YYYY-MM-DD')");
    db.provision().in_workspace(&ws).args(["partitions", "rollover", "--now", &now]).success();

    let parent_policies = policies(&db, events);
    assert_eq!(parent_policies.len(), 4, "{parent_policies:?}");
    let new_events: Vec<String> = partitions(&db, events)
        .into_iter()
        .filter(|p| !before_events.contains(p) && !p.ends_with("_default"))
        .collect();
    assert_eq!(new_events.len(), 2, "two months ahead: two new partitions of {events}: {new_events:?}");
    for part in &new_events {
        assert_eq!(policies(&db, part), parent_policies, "{part} lacks the policies of {events}");
    }

    let default = format!("{sessions}_default");
    assert!(partitions(&db, sessions).contains(&default), "rollover did not recreate {default}");
    assert_eq!(
        db.scalar(&format!(
            "SELECT relrowsecurity::text || ' ' || relforcerowsecurity::text || ' ' || pg_get_userbyid(relowner) \
             FROM pg_class WHERE oid = '{default}'::regclass"
        )),
        "true true lic_owner",
        "{default}: RLS enabled + forced, owned by the parent's owner"
    );
    assert_eq!(policies(&db, &default), policies(&db, sessions), "{default} lacks the policies of {sessions}");
}
