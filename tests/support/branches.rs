//! The branches test pack (tests/fixtures/branches): row tenancy in
//! miniature, for tests/row_tenancy.rs (and verify's tests). Its tenants are
//! rows of branchco.branches; staff, orders and the kept activity trail
//! carry branch_id; countries is reference data.

use super::{TestDb, Workspace};

/// A workspace whose templates hold the branches pack, declaring `tenants`
/// (codes) of it; each tenant's name is its code upper-cased.
pub fn branches_workspace(tenants: &[&str]) -> Workspace {
    let toml: String = tenants
        .iter()
        .map(|code| format!("[tenants.{code}]\nname = \"{}\"\nblueprint = \"branches\"\n", code.to_uppercase()))
        .collect();
    let ws = Workspace::new(&toml);
    let pack = ws.own_templates().join("branches");
    let fixture = super::repo().join("tests/fixtures/branches");
    std::fs::create_dir_all(pack.join("shared")).unwrap();
    std::fs::create_dir_all(pack.join("sample")).unwrap();
    for file in ["blueprint.toml", "shared/V1__tables.sql", "sample/10_staff.sql.tera"] {
        std::fs::copy(fixture.join(file), pack.join(file)).unwrap();
    }
    ws
}

/// The key of branch `code`.
pub fn branch_id(db: &TestDb, code: &str) -> String {
    db.scalar(&format!("SELECT id::text FROM branchco.branches WHERE code = '{code}'"))
}

/// `staff` members and one order each for branch `code`, and an activity row.
pub fn seed_branch(db: &TestDb, code: &str, staff: usize) {
    db.execute(&format!(
        "INSERT INTO branchco.staff (branch_id, name)
           SELECT b.id, '{code} staff ' || g FROM branchco.branches b, generate_series(1, {staff}) g
           WHERE b.code = '{code}';
         INSERT INTO branchco.orders (branch_id, staff_id, total)
           SELECT s.branch_id, s.id, 10 * s.id FROM branchco.staff s
           JOIN branchco.branches b ON b.id = s.branch_id WHERE b.code = '{code}';
         INSERT INTO branchco.activity (branch_id, what)
           SELECT id, 'opened ' || code FROM branchco.branches WHERE code = '{code}';"
    ));
}

/// Every row of the pack's tenant tables, as `<table> b<branch id> <row>`,
/// in a stable order.
pub fn rows(db: &TestDb) -> Vec<String> {
    db.strings(
        "SELECT format('branches b%s %s', b.id, b) FROM branchco.branches b
         UNION ALL SELECT format('staff b%s %s', s.branch_id, s) FROM branchco.staff s
         UNION ALL SELECT format('orders b%s %s', o.branch_id, o) FROM branchco.orders o
         UNION ALL SELECT format('activity b%s %s', a.branch_id, a) FROM branchco.activity a
         ORDER BY 1",
    )
}

/// [`rows`] of branch `id` only.
pub fn rows_of(all: &[String], id: &str) -> Vec<String> {
    all.iter().filter(|r| r.split(' ').nth(1) == Some(&format!("b{id}"))).cloned().collect()
}
