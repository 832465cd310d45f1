//! `provision keys rotate` against real PostgreSQL, on the vault test pack
//! (tests/fixtures/vault: a bigint-keyed and a uuid-keyed table of
//! encrypted columns): every value re-encrypted and still the same
//! plaintext, the old key retired only once no value carries it (proved with
//! the test's own queries), a kill in the middle resumed to the same result,
//! refusals that change no ciphertext, keys that never reach the server log,
//! plaintext refused by the domain.

mod support;

use support::keys::{seed_vault, vault_workspace, write_key, KEY_A, KEY_B, KEY_C};
use support::{TestDb, Workspace};

/// Every encrypted value of tenant `code`, in a stable order, as stored.
fn ciphertexts(db: &TestDb, code: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT concat_ws('|', patient_id, full_name, ssn) FROM {code}_schema.patients \
         UNION ALL SELECT concat_ws('|', patient_id, phone, email, address) FROM {code}_schema.contacts ORDER BY 1"
    ))
}

/// Every encrypted value decrypted with `key` (a bind parameter), in a
/// stable order; panics when the key does not decrypt one.
fn plaintexts(db: &TestDb, code: &str, key: &str) -> Vec<String> {
    let sql = format!(
        "SELECT concat_ws('|', patient_id, shared.decrypt(full_name, $1), shared.decrypt(ssn, $1)) \
         FROM {code}_schema.patients \
         UNION ALL SELECT concat_ws('|', patient_id, shared.decrypt(phone, $1), shared.decrypt(email, $1), \
                                    shared.decrypt(address, $1)) \
         FROM {code}_schema.contacts ORDER BY 1"
    );
    db.with(async |c| {
        let rows = c.query(&sql, &[&key]).await.unwrap_or_else(|e| panic!("decrypt with the key: {e:?}"));
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    })
}

/// Values of every declared column per key id (`id:count`), by the test's own query.
fn key_ids_in_use(db: &TestDb, code: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT k || ':' || count(*) FROM (
           SELECT shared.envelope_key_id(v) AS k FROM {code}_schema.patients, LATERAL (VALUES (full_name), (ssn)) x(v)
           UNION ALL
           SELECT shared.envelope_key_id(v) FROM {code}_schema.contacts, LATERAL (VALUES (phone), (email), (address)) x(v)
         ) s WHERE k IS NOT NULL GROUP BY k ORDER BY k"
    ))
}

fn key_id(db: &TestDb, key: &str) -> String {
    db.with(async |c| c.query_one("SELECT shared.key_id($1)", &[&key]).await.unwrap().get(0))
}

/// The tenant's key versions: `id retired|current`, oldest first.
fn tenant_keys(db: &TestDb, code: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT key_id || CASE WHEN retired_at IS NULL THEN ' current' ELSE ' retired' END \
         FROM shared.tenant_keys WHERE tenant_code = '{code}' ORDER BY created_at, retired_at NULLS LAST"
    ))
}

/// A provisioned vault tenant with `rows` rows per table under key A.
fn vault(code: &str, rows: i32) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = vault_workspace(code);
    db.provision().in_workspace(&ws).arg("up").success();
    seed_vault(&db, code, KEY_A, rows);
    (db, ws)
}

fn rotate_args(code: &str, from: &str, to: &str, batch: &str) -> Vec<String> {
    ["keys", "rotate", "--tenant", code, "--from-key-file", from, "--to-key-file", to, "--batch", batch]
        .map(str::to_owned)
        .to_vec()
}

#[test]
fn rotation_re_encrypts_every_value_and_retires_the_old_key() {
    let (db, ws) = vault("kra", 23);
    let (a, b) = (key_id(&db, KEY_A), key_id(&db, KEY_B));
    let before = plaintexts(&db, "kra", KEY_A);
    let audit_rows = "SELECT count(*)::text FROM audit.kra_audit_log";
    let audited = db.scalar(audit_rows);
    assert_eq!(key_ids_in_use(&db, "kra"), [format!("{a}:104")], "the seed: 23×2 − 4 + 23×3 − 7 values");
    // The key files through the environment, as cron would give them.
    let out = db
        .provision()
        .in_workspace(&ws)
        .env("PROVISION_KEY_FILE_FROM", ws.path().join("a.key"))
        .env("PROVISION_KEY_FILE_TO", ws.path().join("b.key"))
        .args(["--json", "keys", "rotate", "--tenant", "kra", "--batch", "4"])
        .success();
    let report = out.json();
    assert_eq!((report["values"].clone(), report["rows"].clone()), (104.into(), 46.into()), "{report:#}");
    assert_eq!(report["batches"], 12, "6 batches of ≤4 rows per table: {report:#}");
    assert_eq!(plaintexts(&db, "kra", KEY_B), before, "every value decrypts with B to what it was");
    assert_eq!(key_ids_in_use(&db, "kra"), [format!("{b}:104")], "no value references A");
    assert_eq!(tenant_keys(&db, "kra"), [format!("{a} retired"), format!("{b} current")]);
    assert_eq!(db.scalar(audit_rows), audited, "re-encryption writes no audit row per value");
    assert!(!out.stdout.contains(KEY_A) && !out.stdout.contains(KEY_B) && !out.stderr.contains(KEY_A));
    // Run again: done already, nothing written.
    let stored = ciphertexts(&db, "kra");
    let again = db.provision().in_workspace(&ws).args(rotate_args("kra", "a.key", "b.key", "4")).success();
    assert!(again.stdout.contains("already done"), "{}", again.stdout);
    assert_eq!(ciphertexts(&db, "kra"), stored);
}

#[test]
fn a_killed_rotation_resumes_to_the_same_result() {
    let (db, ws) = vault("krk", 20);
    let (a, b) = (key_id(&db, KEY_A), key_id(&db, KEY_B));
    let before = plaintexts(&db, "krk", KEY_A);
    let died = db
        .provision()
        .in_workspace(&ws)
        .env(provision::failpoint::VARIABLE, "keys.after_batch@3")
        .args(rotate_args("krk", "a.key", "b.key", "3"))
        .output();
    assert_eq!(died.code, -1, "did not die at keys.after_batch: {}", died.stderr);
    // Three batches of three patients committed; the rest still under A.
    let mixed = key_ids_in_use(&db, "krk");
    assert_eq!(mixed.len(), 2, "{mixed:?}");
    assert!(mixed.contains(&format!("{b}:{}", 3 * 3 * 2 - 1)), "{mixed:?}"); // ssn of patient 5 is NULL
    assert_eq!(tenant_keys(&db, "krk"), [format!("{a} current")], "nothing retired by a killed run");
    let resumed = db
        .provision()
        .in_workspace(&ws)
        .args(["--json"])
        .args(rotate_args("krk", "a.key", "b.key", "3"))
        .success()
        .json();
    let total: u64 = 20 * 2 - 4 + 20 * 3 - 6;
    assert_eq!(resumed["values"], total - 17, "the resumed run skips what was done: {resumed:#}");
    assert_eq!(plaintexts(&db, "krk", KEY_B), before);
    assert_eq!(key_ids_in_use(&db, "krk"), [format!("{b}:{total}")]);
    assert_eq!(tenant_keys(&db, "krk"), [format!("{a} retired"), format!("{b} current")]);
}

#[test]
fn a_wrong_old_key_or_a_bad_key_file_changes_nothing() {
    let (db, ws) = vault("krw", 7);
    let (a, c) = (key_id(&db, KEY_A), key_id(&db, KEY_C));
    let stored = ciphertexts(&db, "krw");
    let keys = tenant_keys(&db, "krw");
    let wrong =
        db.provision().in_workspace(&ws).args(rotate_args("krw", "c.key", "b.key", "2")).status(2).one_line_error();
    assert!(wrong.stderr.contains(&c) && wrong.stderr.contains(&format!("key id {a}")), "{}", wrong.stderr);
    write_key(&ws, "short.key", "only-twenty-chars-xx\n");
    let bad_files = [
        (rotate_args("krw", "missing.key", "b.key", "2"), "no such file"),
        (rotate_args("krw", "a.key", "short.key", "2"), "fewer than 32"),
        (rotate_args("krw", "a.key", "a.key", "2"), "the same key"),
    ];
    for (args, why) in bad_files {
        let out = db.provision().in_workspace(&ws).args(&args).status(2).one_line_error();
        assert!(out.stderr.contains(why), "{args:?}: {}", out.stderr);
    }
    // Values that name A's id but that A does not decrypt: the sample refuses.
    db.execute(&format!("UPDATE krw_schema.contacts SET address = 'enc1:{a}:AAAA'"));
    let damaged = ciphertexts(&db, "krw");
    let out = db.provision().in_workspace(&ws).args(rotate_args("krw", "a.key", "b.key", "2")).status(2);
    assert!(out.stderr.contains("does not decrypt the values of contacts.address"), "{}", out.stderr);
    assert_ne!(damaged, stored);
    assert_eq!(ciphertexts(&db, "krw"), damaged, "a refused rotation rewrote values");
    assert_eq!(tenant_keys(&db, "krw"), keys);
    assert!(!wrong.stderr.contains(KEY_A) && !wrong.stderr.contains(KEY_C));
}

#[test]
fn keys_never_reach_the_server_log() {
    let Some(log) = support::server().log_file.clone() else { return }; // a TEST_DATABASE_URL server: not ours to read
    let (db, ws) = vault("krl", 5);
    db.execute(&format!(
        "ALTER DATABASE {0} SET log_statement = 'all'; ALTER DATABASE {0} SET log_min_duration_statement = 0; \
         ALTER DATABASE {0} SET log_parameter_max_length = -1; \
         ALTER DATABASE {0} SET log_parameter_max_length_on_error = -1",
        db.name
    ));
    let offset = std::fs::metadata(&log).unwrap().len() as usize;
    // The logging is on: a bind value of a plain session reaches the log.
    let canary = "canary-bind-value-7f3e9a";
    db.with(async |c| c.query_one("SELECT $1::text", &[&canary]).await.unwrap());
    db.provision().in_workspace(&ws).args(rotate_args("krl", "a.key", "b.key", "2")).success();
    db.provision().in_workspace(&ws).args(rotate_args("krl", "c.key", "a.key", "2")).status(2);
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap()[offset..]).into_owned();
    assert!(text.contains(canary), "the server log does not show bind values, so this test proves nothing");
    for key in [KEY_A, KEY_B, KEY_C] {
        assert!(!text.contains(key), "a key reached the server log");
    }
}

#[test]
fn plaintext_is_refused_by_the_domain() {
    let (db, _ws) = vault("krp", 1);
    let error = db.with(async |c| {
        c.batch_execute(
            "INSERT INTO krp_schema.patients (patient_id, member_number, full_name) VALUES (9, 'M9', 'Jane Doe')",
        )
        .await
        .unwrap_err()
    });
    assert_eq!(error.code(), Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION), "{error:?}");
    let error =
        db.with(async |c| c.batch_execute("UPDATE krp_schema.contacts SET phone = '+1 555 0100'").await.unwrap_err());
    assert_eq!(error.code(), Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION), "{error:?}");
    assert_eq!(db.scalar("SELECT count(*)::text FROM krp_schema.patients WHERE patient_id = 9"), "0");
}
