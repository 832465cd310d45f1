//! What the verify test binaries share: a two-tenant database built by
//! `up` under tenant codes of the test's own (tenant roles are cluster-wide),
//! and `verify --format json` read back as findings.
#![allow(dead_code)]

use crate::support::{Outcome, TestDb, Workspace};

/// One finding of `verify --format json`.
#[derive(Debug, Clone)]
pub struct Finding {
    pub scope: String,
    pub check: String,
    pub problem: String,
    pub kind: String,
    pub object: String,
}

/// A database with two tenants `<prefix>lic` and `<prefix>hdfc`, built by `up`.
pub fn provisioned(prefix: &str) -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws =
        Workspace::new(&format!("[tenants.{prefix}lic]\nname = \"LIC\"\n[tenants.{prefix}hdfc]\nname = \"HDFC\"\n"));
    db.provision().in_workspace(&ws).arg("up").success();
    (db, ws)
}

pub fn findings_of(out: &Outcome) -> Vec<Finding> {
    let json = out.json();
    let text = |f: &serde_json::Value, key: &str| f[key].as_str().unwrap_or_default().to_owned();
    json["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array:\n{}", out.stdout))
        .iter()
        .map(|f| Finding {
            scope: text(f, "scope"),
            check: text(f, "check"),
            problem: text(f, "problem"),
            kind: text(f, "kind"),
            object: text(f, "object"),
        })
        .collect()
}

pub fn verify(db: &TestDb, ws: &Workspace, args: &[&str], code: i32) -> (Outcome, Vec<Finding>) {
    let out = db.provision().in_workspace(ws).arg("verify").args(args).args(["--format", "json"]).status(code);
    let findings = findings_of(&out);
    (out, findings)
}

/// The one finding with this scope, check, kind and object.
pub fn the<'a>(findings: &'a [Finding], scope: &str, check: &str, kind: &str, object: &str) -> &'a Finding {
    let matching: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.scope == scope && f.check == check && f.kind == kind && f.object == object)
        .collect();
    assert_eq!(matching.len(), 1, "expected one {scope}/{check} finding for {kind} {object}, got:\n{findings:#?}");
    matching[0]
}

pub fn names_all(f: &Finding, names: &[&str]) {
    for name in names {
        assert!(f.problem.contains(name), "the finding does not name {name}: {f:#?}");
    }
}
