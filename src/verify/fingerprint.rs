//! Structural comparison: each tenant schema against a reference schema built
//! from its blueprint at the tenant's applied version, in a transaction that
//! is rolled back.
//!
//! Three connections work at once: one builds the references while two read
//! the tenants' digests, half the tenants each (`verify_digest.sql`: raw
//! catalog fields and node trees, no deparsing). Digests are made
//! tenant-independent (`canonical.rs`) on blocking threads and compared by
//! hash. Only when something differs does the deparsing fingerprint query
//! run, for the references and the drifted tenants alone, so that the report
//! shows readable definitions. The number of queries is fixed, whatever the
//! tenant count.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use anyhow::Result;
use tokio_postgres::{Client, GenericClient, Row};

use super::canonical::{self, Normalizer, OidNames};
use super::references;
use super::{groups, Finding};
use crate::blueprint::{Blueprint, Identity};
use crate::registry::Registered;

const DIGEST: &str = include_str!("../sql/verify_digest.sql");
const FINGERPRINT: &str = include_str!("../sql/verify_fingerprint.sql");
const OID_NAMES: &str = include_str!("../sql/verify_oid_names.sql");

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// (kind, normalized qualified name).
type Key = (String, String);

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
    let identities = references::identities(&groups);
    let owners = Arc::new(Owners::new(identities.iter().cloned().chain(tenants.iter().map(Registered::identity))));
    let (first, second, third) = tokio::try_join!(
        super::side_connection(target),
        super::side_connection(target),
        super::side_connection(target)
    )?;
    let readers = [first, second, third];
    let mut schemas: Vec<String> = identities.iter().map(|i| i.code.schema_name()).collect();
    schemas.push("audit".to_owned());
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL jit = off").await?;
    let references = async {
        let scratch = references::build(&tx, target, &groups, blueprints).await?;
        let (names_params, digest_params): ([Param; 1], [Param; 2]) = ([&schemas], [&schemas, &None::<String>]);
        let (names, rows) = tokio::try_join!(tx.query(OID_NAMES, &names_params), tx.query(DIGEST, &digest_params))?;
        anyhow::Ok((scratch, names, rows))
    };
    let (built, found) = tokio::join!(references, tenant_images(&readers, tenants, owners.clone()));
    let (scratch, reference_names, expected) = built?;
    let (mut names, mut images) = found?;
    names.extend(&reference_names);
    for (code, image) in owners.images(&expected, &names) {
        images.entry(code).or_default().extend(image);
    }
    if let Some(scratch) = &scratch {
        images.extend(owners.images(&scratch.digest, &OidNames::from_rows(&scratch.names)));
    }

    let drift = drift(&groups, &identities, &images);
    if drift.is_empty() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    // Readable definitions, for the references and the drifted tenants only.
    let mut readable_schemas: BTreeSet<String> = schemas.into_iter().collect();
    readable_schemas.extend(drift.iter().map(|(_, tenant, _, _)| tenant.schema_name.clone()));
    let readable_schemas: Vec<String> = readable_schemas.into_iter().collect();
    let rows = tx.query(FINGERPRINT, &[&readable_schemas, &None::<String>]).await?;
    tx.rollback().await?;
    let mut readable = owners.readable(&rows);
    if let Some(scratch) = &scratch {
        readable.extend(owners.readable(&scratch.fingerprint));
    }
    let empty = HashMap::new();
    Ok(drift
        .into_iter()
        .map(|(reference, tenant, problem, key)| {
            let expected = readable.get(reference.code.as_str()).unwrap_or(&empty).get(&key);
            let found = readable.get(tenant.code.as_str()).unwrap_or(&empty).get(&key);
            finding(&tenant.identity(), problem, &key, expected, found)
        })
        .collect())
}

type Images = HashMap<String, HashMap<Key, u64>>;

/// The tenants' digests, read on two more connections (half the tenants
/// each, so the server can use two cores; a third names the objects) and
/// made canonical on blocking threads as each half arrives, all while the
/// references are being built.
async fn tenant_images(
    readers: &[Client; 3],
    tenants: &[Registered],
    owners: Arc<Owners>,
) -> Result<(OidNames, Images)> {
    let schemas: Vec<&str> = tenants.iter().map(|t| t.schema_name.as_str()).collect();
    let (one, two) = schemas.split_at(schemas.len() / 2);
    let all: [Param; 1] = [&None::<Vec<String>>];
    let (named, waiting) = tokio::sync::watch::channel(None::<Arc<OidNames>>);
    let names = async {
        let names = Arc::new(OidNames::from_rows(&readers[0].query(OID_NAMES, &all).await?));
        named.send_replace(Some(names.clone()));
        anyhow::Ok(names)
    };
    let (names, mut images, more) = tokio::try_join!(
        names,
        half_images(&readers[1], one, owners.clone(), waiting.clone()),
        half_images(&readers[2], two, owners.clone(), waiting)
    )?;
    images.extend(more);
    Ok((OidNames::clone(&names), images))
}

async fn half_images(
    client: &Client,
    schemas: &[&str],
    owners: Arc<Owners>,
    mut names: tokio::sync::watch::Receiver<Option<Arc<OidNames>>>,
) -> Result<Images> {
    let params: [Param; 2] = [&schemas, &None::<String>];
    let rows = client.query(DIGEST, &params).await?;
    // The sender outlives this (it is in the same join), so a closed channel
    // means the names query failed, and its error is the one reported.
    let names = names.wait_for(Option::is_some).await.map(|n| n.clone()).ok().flatten();
    let Some(names) = names else { return Ok(Images::new()) };
    Ok(tokio::task::spawn_blocking(move || owners.images(&rows, &names)).await?)
}

/// Every (reference, tenant, problem, key) where a tenant differs.
fn drift<'a>(
    groups: &BTreeMap<(String, i32), Vec<&'a Registered>>,
    identities: &'a [Identity],
    images: &Images,
) -> Vec<(&'a Identity, &'a Registered, &'static str, Key)> {
    let empty = HashMap::new();
    let mut drift = Vec::new();
    for (index, (_, members)) in groups.iter().enumerate() {
        let reference = &identities[index];
        let expected = images.get(reference.code.as_str()).unwrap_or(&empty);
        for tenant in members {
            let found = images.get(tenant.code.as_str()).unwrap_or(&empty);
            drift.extend(
                differences(expected, found).into_iter().map(|(problem, key)| (reference, *tenant, problem, key)),
            );
        }
    }
    drift
}

/// The tenants and references, and who owns which fingerprint row.
struct Owners {
    by_schema: HashMap<String, (Identity, Normalizer)>,
    /// Audit log table name → schema of its tenant.
    by_log: HashMap<String, String>,
}

impl Owners {
    fn new(identities: impl Iterator<Item = Identity>) -> Self {
        let mut owners = Owners { by_schema: HashMap::new(), by_log: HashMap::new() };
        for identity in identities {
            let normalizer = Normalizer::new(&identity.code, identity.tenant_id);
            owners.by_log.insert(identity.code.audit_log_name(), identity.code.schema_name());
            owners.by_schema.insert(identity.code.schema_name(), (identity, normalizer));
        }
        owners
    }

    /// Which tenant (or reference) a row belongs to: its schema, or for the
    /// `audit` schema the tenant whose audit log the object is part of
    /// (`lic_audit_log`, `lic_audit_log.col`, `lic_audit_log_pkey`, …).
    fn owner_of(&self, schema: &str, name: &str) -> Option<&(Identity, Normalizer)> {
        if schema != "audit" {
            return self.by_schema.get(schema);
        }
        let table = name.split('.').next().unwrap_or(name);
        let log = match table.rfind("_audit_log") {
            Some(at) => &table[..at + "_audit_log".len()],
            None => table,
        };
        self.by_schema.get(self.by_log.get(log)?)
    }

    fn key(&self, row: &Row) -> Option<(&(Identity, Normalizer), Key)> {
        let (schema, kind, name): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
        let owner = self.owner_of(schema, name)?;
        // Qualified, so a report names `lic_schema.users` or `audit.lic_audit_log`.
        let qualified = if kind == "schema" { name.to_owned() } else { format!("{schema}.{name}") };
        Some((owner, (kind.to_owned(), owner.1.apply(&qualified))))
    }

    /// Digest rows → per owner, key → hash of the canonical form.
    fn images(&self, rows: &[Row], names: &OidNames) -> Images {
        let mut images = Images::new();
        let mut canonical_form = String::new();
        for row in rows {
            let Some(((identity, normalizer), key)) = self.key(row) else { continue };
            canonical_form.clear();
            canonical::plain(row.get::<_, Option<&str>>(3).unwrap_or_default(), names, normalizer, &mut canonical_form);
            for tree in row.get::<_, Option<Vec<Option<&str>>>>(4).unwrap_or_default() {
                canonical_form.push_str(" | ");
                canonical::tree(tree.unwrap_or("<>"), names, normalizer, &mut canonical_form);
            }
            let digest = xxhash_rust::xxh3::xxh3_64(canonical_form.as_bytes());
            images.entry(identity.code.as_str().to_owned()).or_default().insert(key, digest);
        }
        images
    }

    /// Fingerprint rows → per owner, key → normalized readable definition.
    fn readable(&self, rows: &[Row]) -> HashMap<String, HashMap<Key, String>> {
        let mut readable: HashMap<String, HashMap<Key, String>> = HashMap::new();
        for row in rows {
            let Some(((identity, normalizer), key)) = self.key(row) else { continue };
            let detail = normalizer.apply(row.get::<_, Option<&str>>(3).unwrap_or_default());
            readable.entry(identity.code.as_str().to_owned()).or_default().insert(key, detail);
        }
        readable
    }
}

/// Keys missing from `found`, extra in it, or with another canonical form.
fn differences(expected: &HashMap<Key, u64>, found: &HashMap<Key, u64>) -> Vec<(&'static str, Key)> {
    let mut out = Vec::new();
    for (key, digest) in expected {
        match found.get(key) {
            None => out.push(("missing", key.clone())),
            Some(other) if other != digest => out.push(("changed", key.clone())),
            Some(_) => {}
        }
    }
    out.extend(found.keys().filter(|key| !expected.contains_key(*key)).map(|key| ("extra", key.clone())));
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
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

fn finding(tenant: &Identity, problem: &str, (kind, name): &Key, e: Option<&String>, f: Option<&String>) -> Finding {
    let (expected, found) = match (problem, e, f) {
        // The canonical forms differ where the deparsed ones do not (an id
        // of an object outside the tenant, say): show that much.
        ("changed", Some(e), Some(f)) if e == f => {
            (Some(e.clone()), Some(format!("{f} (differs in its catalog form)")))
        }
        _ => (e.cloned(), f.cloned()),
    };
    Finding {
        scope: tenant.code.as_str().to_owned(),
        check: "structure",
        problem: problem.to_owned(),
        kind: kind.clone(),
        object: denormalize(name, tenant),
        expected: expected.map(|d| shorten(&denormalize(&d, tenant))),
        found: found.map(|d| shorten(&denormalize(&d, tenant))),
    }
}

/// Function and view bodies are long; a report shows their start and a hash.
fn shorten(detail: &str) -> String {
    if detail.chars().count() <= 240 {
        return detail.to_owned();
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    detail.hash(&mut hasher);
    let head: String = detail.chars().take(160).collect();
    format!("{head}… (#{:016x})", hasher.finish())
}

/// A query on whichever client: the transaction or the scratch database.
pub(super) async fn digest_of(
    client: &impl GenericClient,
    schemas: &[String],
) -> Result<(Vec<Row>, Vec<Row>, Vec<Row>)> {
    let params: [Param; 2] = [&schemas, &None::<String>];
    let all: [Param; 1] = [&None::<Vec<String>>];
    let (names, digest, fingerprint) = tokio::try_join!(
        client.query(OID_NAMES, &all),
        client.query(DIGEST, &params),
        client.query(FINGERPRINT, &params)
    )?;
    Ok((names, digest, fingerprint))
}
