//! Structural comparison: each tenant schema against a reference schema built
//! from its blueprint at the tenant's applied version, in a transaction that
//! is rolled back. One fingerprint query covers every tenant and reference.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;
use uuid::Uuid;

use super::{context, groups, reference_spec, Finding};
use crate::admin::AdminPassword;
use crate::blueprint::{Blueprint, Identity};
use crate::provisioner::{self, Settings};
use crate::registry::Registered;
use crate::tenant::TenantCode;

/// (kind, name) → detail, with tenant-specific names replaced by placeholders.
type Image = BTreeMap<(String, String), String>;

pub async fn compare(
    client: &mut Client,
    target: &crate::connection::Target,
    tenants: &[Registered],
    blueprints: &HashMap<String, Blueprint>,
) -> Result<Vec<Finding>> {
    if tenants.is_empty() {
        return Ok(Vec::new());
    }
    let groups = groups(tenants);
    let settings = Settings {
        lock_timeout: Duration::from_secs(60),
        upgrade: Default::default(),
        admin_password: AdminPassword::Unusable,
        partitions: Default::default(),
    };
    let tx = client.transaction().await?;
    let mut references = Vec::new();
    let mut elsewhere = Vec::new();
    for (index, ((blueprint, version), _)) in groups.iter().enumerate() {
        let spec = reference_spec(blueprint, index);
        let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
        let bp = &blueprints[blueprint];
        let migrations: Vec<_> = bp.render(&identity)?.into_iter().filter(|m| m.version() <= *version).collect();
        references.push(identity.clone());
        if migrations.iter().any(|m| !crate::statements::enum_additions(m.sql().unwrap_or_default()).is_empty()) {
            // Needs commits between versions: built in a scratch database.
            elsewhere.push((spec, *version));
            continue;
        }
        context(
            provisioner::build(&tx, &spec, bp, &identity, &migrations, &settings).await,
            "cannot build the reference schema",
        )?;
    }
    let mut schemas: Vec<String> = references.iter().map(|i| i.code.schema_name()).collect();
    schemas.extend(tenants.iter().map(|t| t.schema_name.clone()));
    schemas.push("audit".to_owned());
    let mut rows = tx.query(include_str!("../sql/verify_fingerprint.sql"), &[&schemas]).await?;
    tx.rollback().await?;
    if !elsewhere.is_empty() {
        rows.extend(scratch_references(client, target, &elsewhere, blueprints, &settings).await?);
    }

    let owners: Vec<Identity> = references
        .iter()
        .cloned()
        .chain(tenants.iter().map(|t| Identity { code: t.code.clone(), tenant_id: t.id }))
        .collect();
    let by_schema: HashMap<String, &Identity> = owners.iter().map(|o| (o.code.schema_name(), o)).collect();
    let by_log: HashMap<String, &Identity> = owners.iter().map(|o| (o.code.audit_log_name(), o)).collect();
    let mut images: HashMap<String, Image> = HashMap::new();
    for row in &rows {
        let (schema, kind, name, detail): (String, String, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let Some(owner) = owner_of(&by_schema, &by_log, &schema, &name) else { continue };
        // Qualified, so a report names `lic_schema.users` or `audit.lic_audit_log`.
        let qualified = if kind == "schema" { name.clone() } else { format!("{schema}.{name}") };
        let key = (kind, normalize(&qualified, &owner.code, owner.tenant_id));
        images
            .entry(owner.code.as_str().to_owned())
            .or_default()
            .insert(key, normalize(&detail.unwrap_or_default(), &owner.code, owner.tenant_id));
    }
    let mut findings = Vec::new();
    for (index, (_, members)) in groups.iter().enumerate() {
        let expected = images.remove(references[index].code.as_str()).unwrap_or_default();
        for tenant in members {
            let found = images.get(tenant.code.as_str()).cloned().unwrap_or_default();
            let identity = Identity { code: tenant.code.clone(), tenant_id: tenant.id };
            findings.extend(diff(&identity, &expected, &found));
        }
    }
    Ok(findings)
}

/// References whose versions add enum values cannot be built in one
/// rolled-back transaction; they are created for real in a throwaway
/// database (shared migrations, then the tenant as `tenant add` makes it)
/// and fingerprinted there.
async fn scratch_references(
    client: &Client,
    target: &crate::connection::Target,
    specs: &[(crate::config::TenantSpec, i32)],
    blueprints: &HashMap<String, Blueprint>,
    settings: &Settings,
) -> Result<Vec<tokio_postgres::Row>> {
    let name = format!("provision_verify_ref_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    client.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0")).await?;
    let result = async {
        let mut scratch = target.with_dbname(&name).connect().await?;
        crate::shared::apply(&mut scratch, settings.lock_timeout, &crate::output::Printer::quiet()).await?;
        let mut schemas = vec!["audit".to_owned()];
        for (spec, version) in specs {
            let bp = &blueprints[&spec.blueprint];
            if *version != bp.latest_version() {
                return Err(crate::error::failed(format!(
                    "verify cannot yet build a reference for blueprint {} at version {version} (its versions add enum \
                     values): upgrade the tenants to version {} first",
                    spec.blueprint,
                    bp.latest_version()
                )));
            }
            provisioner::create(&mut scratch, spec, bp, settings, &crate::output::Printer::quiet()).await?;
            schemas.push(spec.code.schema_name());
        }
        Ok(scratch.query(include_str!("../sql/verify_fingerprint.sql"), &[&schemas]).await?)
    }
    .await;
    let dropped = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    // Roles outlive databases: the references' roles go too (best effort;
    // another verify running at the same moment may still use them).
    for (spec, _) in specs {
        let code = &spec.code;
        let roles = [code.owner_role(), code.app_role(), code.ro_role()].map(|r| crate::tenant::quote_ident(&r));
        let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {}", roles.join(", "))).await;
    }
    let rows = context(result, "cannot build the reference schema")?;
    dropped?;
    Ok(rows)
}

/// Which tenant (or reference) a fingerprint row belongs to: its schema, or
/// for the `audit` schema the tenant whose audit log the object is part of
/// (`lic_audit_log`, `lic_audit_log.col`, `lic_audit_log_pkey`, …).
fn owner_of<'a>(
    by_schema: &HashMap<String, &'a Identity>,
    by_log: &HashMap<String, &'a Identity>,
    schema: &str,
    name: &str,
) -> Option<&'a Identity> {
    if schema != "audit" {
        return by_schema.get(schema).copied();
    }
    let table = name.split('.').next().unwrap_or(name);
    let log = match table.rfind("_audit_log") {
        Some(at) => &table[..at + "_audit_log".len()],
        None => table,
    };
    by_log.get(log).copied()
}

/// Replaces what differs between two tenants of one blueprint by design.
fn normalize(text: &str, code: &TenantCode, tenant_id: Uuid) -> String {
    let replacements = [
        (code.schema_name(), "{schema}"),
        (code.audit_log_name(), "{audit_log}"),
        (code.owner_role(), "{owner}"),
        (code.app_role(), "{app}"),
        (code.ro_role(), "{ro}"),
        (tenant_id.to_string(), "{tenant_id}"),
    ];
    let mut out = text.to_owned();
    for (from, to) in replacements {
        out = out.replace(&from, to);
    }
    out.replace(&format!("'{code}'"), "'{code}'")
}

/// Puts the tenant's own names back, for the report.
fn denormalize(text: &str, tenant: &Identity) -> String {
    let code = &tenant.code;
    text.replace("{schema}", &code.schema_name())
        .replace("{audit_log}", &code.audit_log_name())
        .replace("{owner}", &code.owner_role())
        .replace("{app}", &code.app_role())
        .replace("{ro}", &code.ro_role())
        .replace("{tenant_id}", &tenant.tenant_id.to_string())
        .replace("'{code}'", &format!("'{code}'"))
}

fn diff(tenant: &Identity, expected: &Image, found: &Image) -> Vec<Finding> {
    let finding = |problem: &str, (kind, name): &(String, String), e: Option<&String>, f: Option<&String>| Finding {
        scope: tenant.code.as_str().to_owned(),
        check: "structure",
        problem: problem.to_owned(),
        kind: kind.clone(),
        object: denormalize(name, tenant),
        expected: e.map(|d| shorten(&denormalize(d, tenant))),
        found: f.map(|d| shorten(&denormalize(d, tenant))),
    };
    let mut findings = Vec::new();
    for (key, detail) in expected {
        match found.get(key) {
            None => findings.push(finding("missing", key, Some(detail), None)),
            Some(other) if other != detail => findings.push(finding("changed", key, Some(detail), Some(other))),
            Some(_) => {}
        }
    }
    for (key, detail) in found {
        if !expected.contains_key(key) {
            findings.push(finding("extra", key, None, Some(detail)));
        }
    }
    findings
}

/// Function and view bodies are long; a report shows their start and a hash.
fn shorten(detail: &str) -> String {
    if detail.chars().count() <= 240 {
        return detail.to_owned();
    }
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    detail.hash(&mut hasher);
    let head: String = detail.chars().take(160).collect();
    format!("{head}… (#{:016x})", hasher.finish())
}
