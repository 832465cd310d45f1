//! The ledger test pack (tests/fixtures/ledger: accounts, orders, order
//! lines, sessions, with `[[retention]]` rules) and rows of every fate, for
//! the tests of `retention run` (tests/retention.rs) and its crash scenario
//! (tests/crash.rs).

use super::{TestDb, Workspace};

/// A workspace whose templates hold the ledger pack, declaring tenant
/// `code` of it (and `more` besides, as tenants.toml text).
pub fn ledger_workspace(code: &str, more: &str) -> Workspace {
    let ws = Workspace::new(&format!("[tenants.{code}]\nname = \"Ledger {code}\"\nblueprint = \"ledger\"\n{more}"));
    let pack = ws.own_templates().join("ledger");
    let fixture = super::repo().join("tests/fixtures/ledger");
    std::fs::create_dir_all(pack.join("tenant")).unwrap();
    for file in ["blueprint.toml", "tenant/V1__tables.sql.tera"] {
        std::fs::copy(fixture.join(file), pack.join(file)).unwrap();
    }
    ws
}

/// Rows of tenant `code`, dated from the database clock (T0), and the
/// `--now` (T0 + 25 days) at which, by the pack's rules:
/// - accounts: 1 is anonymised (GDPR request, closed 35 days before now),
///   4 is deleted (closed 3 years + 1 day before T0, nothing references it),
///   5 is kept though as old (a young order references it), 2 (request too
///   recent), 3 (no request) and 6 (open) are untouched;
/// - orders: 20 goes (closed, 2 years old, after its line 30), 22 stays (its
///   line 31 is young), 21 and 23 stay (open);
/// - order lines: 30 goes, 31 stays;
/// - sessions 1..=50 expire g days before T0: 6..=50 go (45), 1..=5 stay.
pub fn seed_ledger(db: &TestDb, code: &str) -> String {
    let now = db.scalar("SELECT (date_trunc('second', localtimestamp) + interval '25 days')::text");
    insert_rows(db, code, &now);
    now
}

/// The same rows dated 25 days earlier, so that a run on the server's own
/// clock (no `--now`) finds them as [`seed_ledger`]'s `--now` does.
pub fn seed_ledger_expired(db: &TestDb, code: &str) {
    let now = db.scalar("SELECT date_trunc('second', localtimestamp)::text");
    insert_rows(db, code, &now);
}

fn insert_rows(db: &TestDb, code: &str, now: &str) {
    let s = format!("{code}_schema");
    let t0 = format!("('{now}'::timestamp - interval '25 days')");
    db.execute(&format!(
        "INSERT INTO {s}.accounts (id, email, phone, name, gdpr_deletion_request, closed_at) VALUES
           (1, 'one@example.com', '+1 555 0001', 'One', true, {t0} - interval '10 days'),
           (2, 'two@example.com', '+1 555 0002', 'Two', true, {t0}),
           (3, 'three@example.com', '+1 555 0003', 'Three', false, {t0} - interval '10 days'),
           (4, 'four@example.com', '+1 555 0004', 'Four', false, {t0} - interval '3 years 1 day'),
           (5, 'five@example.com', '+1 555 0005', 'Five', false, {t0} - interval '4 years'),
           (6, 'six@example.com', NULL, 'Six', false, NULL);
         INSERT INTO {s}.orders (id, account_id, status, created_at) VALUES
           (20, 6, 'closed', {t0} - interval '2 years'),
           (21, 5, 'open', {t0}),
           (22, 6, 'closed', {t0} - interval '2 years'),
           (23, 6, 'open', {t0} - interval '2 years');
         INSERT INTO {s}.order_lines (id, order_id, created_at) VALUES
           (30, 20, {t0} - interval '2 years'),
           (31, 22, {t0});
         INSERT INTO {s}.sessions (id, expires_at) SELECT g, {t0} - g * interval '1 day' FROM generate_series(1, 50) g;"
    ));
}
