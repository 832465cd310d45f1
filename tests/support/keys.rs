//! The vault test pack (tests/fixtures/vault: two tables of encrypted
//! columns) and its key files, for the tests of `keys rotate` (tests/keys.rs)
//! and its crash scenario (tests/crash.rs).

use std::path::PathBuf;

use super::{TestDb, Workspace};

/// Keys as files hold them (the tests' own; at least 32 characters).
pub const KEY_A: &str = "key-A-for-tests-only-0123456789abcdefghij";
pub const KEY_B: &str = "key-B-for-tests-only-0123456789abcdefghij";
pub const KEY_C: &str = "key-C-for-tests-only-0123456789abcdefghij";

/// A workspace whose templates hold the vault pack, declaring tenant
/// `code` of it, with key files a.key, b.key and c.key (mode 600).
pub fn vault_workspace(code: &str) -> Workspace {
    let ws = Workspace::new(&format!("[tenants.{code}]\nname = \"Vault {code}\"\nblueprint = \"vault\"\n"));
    let pack = ws.own_templates().join("vault");
    let fixture = super::repo().join("tests/fixtures/vault");
    std::fs::create_dir_all(pack.join("tenant")).unwrap();
    for file in ["blueprint.toml", "tenant/V1__tables.sql.tera"] {
        std::fs::copy(fixture.join(file), pack.join(file)).unwrap();
    }
    for (name, key) in [("a.key", KEY_A), ("b.key", KEY_B), ("c.key", KEY_C)] {
        write_key(&ws, name, &format!("{key}\n"));
    }
    ws
}

/// Writes a key file of mode 600 in the workspace.
pub fn write_key(ws: &Workspace, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = ws.path().join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// `rows` patients and as many contacts of tenant `code`, every value
/// encrypted under `key` (a bind parameter), some left NULL; the key
/// recorded as the tenant's current one, as `provision seed` does.
pub fn seed_vault(db: &TestDb, code: &str, key: &str, rows: i32) {
    let schema = format!("{code}_schema");
    db.with(async |c| {
        let patients = format!(
            "INSERT INTO {schema}.patients (patient_id, member_number, full_name, ssn) \
             SELECT g, 'M' || g, shared.encrypt('Patient ' || g, $1), \
                    CASE WHEN g % 5 <> 0 THEN shared.encrypt(lpad(g::text, 9, '0'), $1) END \
             FROM generate_series(1, $2::int) AS g"
        );
        c.execute(&patients, &[&key, &rows]).await.expect("seed patients");
        let contacts = format!(
            "INSERT INTO {schema}.contacts (patient_id, phone, email, address) \
             SELECT g, shared.encrypt('+1 555 ' || g, $1), shared.encrypt('p' || g || '@example.com', $1), \
                    CASE WHEN g % 3 <> 0 THEN shared.encrypt(g || ' Main Street', $1) END \
             FROM generate_series(1, $2::int) AS g"
        );
        c.execute(&contacts, &[&key, &rows]).await.expect("seed contacts");
        c.execute(
            "INSERT INTO shared.tenant_keys (tenant_code, key_id) VALUES ($1, shared.key_id($2))",
            &[&code, &key],
        )
        .await
        .expect("record the key");
    });
}
