//! A bulk sample load builds the secondary indexes of (nearly) empty tables
//! after its inserts instead of during them (src/ops/sample/indexes.rs).
//! These tests hold it to its promise from the catalog: the indexes that
//! were dropped come back with the same names and definitions (partitioned
//! ones attached to the same partition indexes), everything the trick must
//! not touch keeps its very index, the rebuilt indexes hold every row, and a
//! seed into tables that already hold data takes the ordinary path.

mod support;

use std::collections::BTreeMap;

use support::{TestDb, Workspace};

const LIC_ONLY: &str = "[tenants.lic]\nname = \"LIC\"\n";

/// Every index of lic's schema with what a rebuild could lose: definition,
/// validity, owner, tablespace, comment, statistics targets and the parent
/// index it is attached to.
const INDEX_FACTS: &str = "
SELECT format('%s | %s | valid=%s ready=%s clustered=%s | owner=%s tablespace=%s | comment=%s | stats=%s | parent=%s',
              c.relname, pg_get_indexdef(c.oid), i.indisvalid, i.indisready, i.indisclustered,
              pg_get_userbyid(c.relowner), c.reltablespace, obj_description(c.oid, 'pg_class'),
              (SELECT string_agg(a.attstattarget::text, ',' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid),
              (SELECT h.inhparent::regclass::text FROM pg_inherits h WHERE h.inhrelid = c.oid))
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'lic_schema'::regnamespace
ORDER BY c.relname";

/// Index name → oid, for lic's schema: a rebuilt index has a new oid.
fn index_oids(db: &TestDb) -> BTreeMap<String, String> {
    db.strings(
        "SELECT c.relname || ' ' || c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relnamespace = 'lic_schema'::regnamespace",
    )
    .into_iter()
    .map(|r| {
        let (name, oid) = r.split_once(' ').unwrap();
        (name.to_owned(), oid.to_owned())
    })
    .collect()
}

/// Each B-tree index of lic's schema is checked by amcheck against its table
/// (every row indexed); a GIN index answers an index-only question with the
/// table's row count.
fn assert_indexes_hold_every_row(db: &TestDb) {
    db.execute("CREATE EXTENSION IF NOT EXISTS amcheck");
    let checked = db.scalar(
        "SELECT count(bt_index_check(c.oid, true))::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = c.relam WHERE c.relnamespace = 'lic_schema'::regnamespace \
         AND am.amname = 'btree' AND c.relkind = 'i'",
    );
    assert!(checked.parse::<i64>().unwrap() > 40, "{checked} B-tree indexes checked");
    let by_gin: i64 = db.with(async |c| {
        c.batch_execute("SET enable_seqscan = off; SET enable_indexscan = off").await.unwrap();
        let sql = "SELECT count(*) FROM lic_schema.user_events WHERE event_properties @> '{}'";
        c.query_one(sql, &[]).await.unwrap().get(0)
    });
    assert_eq!(by_gin.to_string(), db.scalar("SELECT count(*)::text FROM lic_schema.user_events"));
}

#[test]
fn a_fresh_tenants_secondary_indexes_are_built_after_the_load_exactly_as_they_were() {
    let ws = Workspace::new(LIC_ONLY);
    let db = TestDb::new();
    db.provision().in_workspace(&ws).arg("up").success();
    // A comment and a statistics target are not in pg_get_indexdef: such
    // indexes must be left in place, not rebuilt without them.
    db.execute(
        "COMMENT ON INDEX lic_schema.idx_policyholders_user_id IS 'kept';
         ALTER INDEX lic_schema.idx_users_address_city ALTER COLUMN 1 SET STATISTICS 500;",
    );
    let catalog = db.catalog();
    let facts = db.strings(INDEX_FACTS);
    let before = index_oids(&db);

    db.provision().in_workspace(&ws).args(["seed", "--sample", "300", "--rng-seed", "7"]).success();

    assert_eq!(db.catalog(), catalog);
    assert_eq!(db.strings(INDEX_FACTS), facts);
    let after = index_oids(&db);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    let rebuilt =
        ["idx_users_name_search", "idx_policies_search", "idx_payments_policy_status", "idx_user_events_properties"];
    for name in rebuilt {
        assert_ne!(after[name], before[name], "{name} was not rebuilt after the load");
    }
    let partition_index =
        after.keys().find(|n| n.starts_with("user_events_p") && n.ends_with("_properties_idx")).unwrap();
    assert_ne!(after[partition_index], before[partition_index], "{partition_index} was not rebuilt");
    let kept =
        ["users_pkey", "users_email_key", "user_events_pkey", "idx_policyholders_user_id", "idx_users_address_city"];
    for name in kept {
        assert_eq!(after[name], before[name], "{name} should have stayed");
    }
    assert_eq!(db.scalar("SELECT count(*)::text FROM lic_schema.insurance_policies"), "300");
    db.provision().in_workspace(&ws).arg("verify").success();
    assert_indexes_hold_every_row(&db);
}

#[test]
fn a_seed_into_tables_holding_data_maintains_their_indexes_as_it_goes() {
    let ws = Workspace::new(LIC_ONLY);
    let db = TestDb::new();
    db.provision().in_workspace(&ws).arg("up").success();
    db.provision().in_workspace(&ws).args(["seed", "--sample", "200", "--rng-seed", "7"]).success();
    let facts = db.strings(INDEX_FACTS);
    let before = index_oids(&db);

    let more = db.provision().in_workspace(&ws).args(["--json", "seed", "--sample", "400", "--rng-seed", "7"]);
    assert_eq!(more.success().json()["tenants"][0]["inserted"]["insurance_policies"], 200);

    let after = index_oids(&db);
    for name in
        ["idx_users_name_search", "idx_policies_search", "idx_payments_policy_status", "idx_user_events_properties"]
    {
        assert_eq!(after[name], before[name], "{name} was rebuilt although its table held rows");
    }
    assert_eq!(db.strings(INDEX_FACTS), facts);
    db.provision().in_workspace(&ws).arg("verify").success();
    assert_indexes_hold_every_row(&db);
}
