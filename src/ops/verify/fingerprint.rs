//! Structural comparison: each tenant schema against a reference schema built
//! from its blueprint at the tenant's applied version, in a transaction that
//! is rolled back.
//!
//! Three connections work at once: one builds the references while two read
//! the tenants' digests, half the tenants each (`verify_digest.sql`: raw
//! catalog fields and node trees, no deparsing). Digests are made
//! tenant-independent (`canonical.rs`) on blocking threads and compared by
//! hash. Only when something differs does the deparsing fingerprint query
//! run, for the references and the drifted tenants alone: the deparsed
//! definitions decide (catalog forms also differ where a schema was restored
//! from a dump) and the report shows them. The number of queries is fixed,
//! whatever the tenant count.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use anyhow::Result;
use tokio_postgres::{Client, Row};

use super::canonical::{self, Normalizer, OidNames, Owner};
use super::digest::{read_digest, Digest, Param, DIGEST, DIGEST_COLUMNS, FINGERPRINT, OID_NAMES};
use super::references;
use super::{groups, Check, Difference, Finding};
use crate::model::blueprint::{Blueprint, Identity};
use crate::store::registry::Registered;

/// (kind, normalized qualified name).
type Key = (&'static str, String);

pub async fn compare(
    client: &mut Client,
    target: &crate::pg::connection::Target,
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
        let names_params: [Param; 1] = [&schemas];
        let (names, digest) = tokio::try_join!(tx.query(OID_NAMES, &names_params), read_digest(&tx, &schemas))?;
        anyhow::Ok((scratch, names, digest))
    };
    let (built, found) = tokio::join!(references, tenant_images(&readers, tenants, owners.clone()));
    let (scratch, reference_names, expected) = built?;
    let (mut names, mut images) = found?;
    owners.add_names(&mut names, &reference_names);
    for (code, image) in owners.images(&expected, &names) {
        images.entry(code).or_default().extend(image);
    }
    if let Some(scratch) = &scratch {
        images.extend(owners.images(&scratch.digest, &owners.names(&scratch.names)));
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
    Ok(confirmed(drift, &readable))
}

/// The differences the deparsed definitions confirm, as findings.
///
/// Catalog forms can differ where definitions do not: a schema restored
/// from pg_dump was parsed again from deparsed SQL (an implicit cast became
/// an explicit one, say). The deparsed definition decides, as it always did,
/// with the array casts a restore re-parses written one way
/// (`canonical::same_definition`); the digest only spares deparsing what is
/// certainly equal.
fn confirmed(
    drift: Vec<(&Identity, &Registered, Difference, Key)>,
    readable: &HashMap<String, HashMap<Key, String>>,
) -> Vec<Finding> {
    let empty = HashMap::new();
    drift
        .into_iter()
        .filter_map(|(reference, tenant, problem, key)| {
            let expected = readable.get(reference.code.as_str()).unwrap_or(&empty).get(&key);
            let found = readable.get(tenant.code.as_str()).unwrap_or(&empty).get(&key);
            let same = match (expected, found) {
                (Some(expected), Some(found)) => canonical::same_definition(expected, found),
                (expected, found) => expected == found,
            };
            if problem == Difference::Changed && same {
                return None;
            }
            Some(finding(&tenant.identity(), problem, &key, expected, found))
        })
        .collect()
}

type Images = HashMap<String, HashMap<Key, u64>>;

/// The tenants' digests, read on two more connections (so the server can
/// use two cores; a third names the objects) and made canonical on blocking
/// threads as each part arrives, all while the references are being built.
async fn tenant_images(
    readers: &[Client; 3],
    tenants: &[Registered],
    owners: Arc<Owners>,
) -> Result<(OidNames, Images)> {
    let schemas: Vec<&str> = tenants.iter().map(|t| t.schema_name.as_str()).collect();
    // Two parts, one per connection: more would repeat the catalog scans.
    let (one, two) = schemas.split_at(schemas.len() / 2);
    let all: [Param; 1] = [&None::<Vec<String>>];
    let (named, waiting) = tokio::sync::watch::channel(None::<Arc<OidNames>>);
    let names = async {
        let names = Arc::new(owners.names(&readers[0].query(OID_NAMES, &all).await?));
        named.send_replace(Some(names.clone()));
        anyhow::Ok(names)
    };
    let (names, mut images, more) = tokio::try_join!(
        names,
        part_images(&readers[1], one, owners.clone(), waiting.clone()),
        part_images(&readers[2], two, owners.clone(), waiting)
    )?;
    images.extend(more);
    Ok((OidNames::clone(&names), images))
}

/// One part of the tenants: both digest queries are sent at once, and the
/// first result is made canonical while the server computes the second.
async fn part_images(
    client: &Client,
    schemas: &[&str],
    owners: Arc<Owners>,
    names: tokio::sync::watch::Receiver<Option<Arc<OidNames>>>,
) -> Result<Images> {
    let params: [Param; 2] = [&schemas, &None::<String>];
    let canonical = |query: &'static str| {
        let (owners, mut names) = (owners.clone(), names.clone());
        let rows = client.query(query, &params);
        async move {
            let rows = rows.await?;
            // The sender outlives this (it is in the same join), so a closed
            // channel means the names query failed, and its error is the one
            // reported.
            let names = names.wait_for(Option::is_some).await.map(|n| n.clone()).ok().flatten();
            let Some(names) = names else { return Ok(Images::new()) };
            let digest = match query {
                DIGEST => Digest { rows, columns: Vec::new() },
                _ => Digest { rows: Vec::new(), columns: rows },
            };
            anyhow::Ok(tokio::task::spawn_blocking(move || owners.images(&digest, &names)).await?)
        }
    };
    let (mut images, columns) = tokio::try_join!(canonical(DIGEST), canonical(DIGEST_COLUMNS))?;
    for (code, image) in columns {
        images.entry(code).or_default().extend(image);
    }
    Ok(images)
}

/// Every (reference, tenant, problem, key) where a tenant differs.
fn drift<'a>(
    groups: &BTreeMap<(String, i32), Vec<&'a Registered>>,
    identities: &'a [Identity],
    images: &Images,
) -> Vec<(&'a Identity, &'a Registered, Difference, Key)> {
    let empty = HashMap::new();
    let mut drift = Vec::new();
    for (index, (_, members)) in groups.iter().enumerate() {
        let reference = &identities[index];
        let expected = images.get(reference.code.as_str()).unwrap_or(&empty);
        for tenant in members {
            let found = images.get(tenant.code.as_str()).unwrap_or(&empty);
            drift.extend(
                super::differences(expected, found)
                    .into_iter()
                    .map(|(problem, key)| (reference, *tenant, problem, key)),
            );
        }
    }
    drift
}

/// The tenants and references, and who owns which fingerprint row.
struct Owners {
    /// In id order; an owner's id is its index.
    all: Vec<(Identity, Normalizer)>,
    by_schema: HashMap<String, u32>,
    /// Audit log table name → owner.
    by_log: HashMap<String, u32>,
    /// Tenant role name → owner.
    by_role: HashMap<String, u32>,
}

impl Owners {
    fn new(identities: impl Iterator<Item = Identity>) -> Self {
        let mut owners =
            Owners { all: Vec::new(), by_schema: HashMap::new(), by_log: HashMap::new(), by_role: HashMap::new() };
        for identity in identities {
            let id = owners.all.len() as u32;
            let code = &identity.code;
            owners.by_log.insert(code.audit_log_name(), id);
            owners.by_schema.insert(code.schema_name(), id);
            for role in [code.owner_role(), code.app_role(), code.ro_role()] {
                owners.by_role.insert(role, id);
            }
            let normalizer = Normalizer::new(code, identity.tenant_id);
            owners.all.push((identity, normalizer));
        }
        owners
    }

    fn owner(&self, id: u32) -> Owner<'_> {
        Owner { id, normalizer: &self.all[id as usize].1 }
    }

    /// Which tenant (or reference) an object belongs to: its schema, or for
    /// the `audit` schema the tenant whose audit log the object is part of
    /// (`lic_audit_log`, `lic_audit_log.col`, `lic_audit_log_pkey`, its row
    /// type `_lic_audit_log`, …), or for a role the tenant it serves.
    fn owner_of(&self, schema: Option<&str>, name: &str) -> Option<u32> {
        match schema {
            None => self.by_role.get(name).copied(),
            Some("audit") => {
                let table = name.split('.').next().unwrap_or(name).trim_start_matches('_');
                let log = match table.rfind("_audit_log") {
                    Some(at) => &table[..at + "_audit_log".len()],
                    None => table,
                };
                self.by_log.get(log).copied()
            }
            Some(schema) => self.by_schema.get(schema).copied(),
        }
    }

    /// The object names of a database, each normalized for its owner.
    fn names(&self, rows: &[Row]) -> OidNames {
        OidNames::from_rows(rows, |schema, name| self.owner_of(schema, name).map(|id| self.owner(id)))
    }

    fn add_names(&self, names: &mut OidNames, rows: &[Row]) {
        names.extend(rows, |schema, name| self.owner_of(schema, name).map(|id| self.owner(id)));
    }

    fn key(&self, schema: &str, kind: &str, name: &str) -> Option<(Owner<'_>, Key)> {
        let owner = self.owner(self.owner_of(Some(schema), name)?);
        let (identity, normalizer) = &self.all[owner.id as usize];
        // Qualified, so a report names `lic_schema.users` or `audit.lic_audit_log`.
        let name = normalizer.apply_cow(name);
        let qualified = match kind {
            "schema" => name.into_owned(),
            _ if identity.code.schema_name() == schema => format!("{{schema}}.{name}"),
            _ => format!("{schema}.{name}"),
        };
        Some((owner, (kind_name(kind), qualified)))
    }

    /// Digest rows → per owner, key → hash of the canonical form.
    fn images(&self, digest: &Digest, names: &OidNames) -> Images {
        let mut images = Images::new();
        let mut canonical_form = String::new();
        let mut insert = |owner: Owner<'_>, key: Key, canonical_form: &str| {
            let code = self.all[owner.id as usize].0.code.as_str();
            let hash = xxhash_rust::xxh3::xxh3_64(canonical_form.as_bytes());
            images.entry(code.to_owned()).or_default().insert(key, hash);
        };
        for row in &digest.rows {
            let (schema, kind, name): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
            let Some((owner, key)) = self.key(schema, kind, name) else { continue };
            canonical_form.clear();
            canonical::plain(row.get::<_, Option<&str>>(3).unwrap_or_default(), names, owner, &mut canonical_form);
            for tree in row.get::<_, Option<Vec<Option<&str>>>>(4).unwrap_or_default() {
                canonical_form.push_str(" | ");
                canonical::tree(tree.unwrap_or("<>"), names, owner, &mut canonical_form);
            }
            insert(owner, key, &canonical_form);
        }
        for row in &digest.columns {
            let (schema, table, column): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
            let Some((owner, key)) = self.key(schema, "column", &format!("{table}.{column}")) else { continue };
            canonical_form.clear();
            column_form(row, names, owner, &mut canonical_form);
            insert(owner, key, &canonical_form);
        }
        images
    }

    /// Fingerprint rows → per owner, key → normalized readable definition.
    fn readable(&self, rows: &[Row]) -> HashMap<String, HashMap<Key, String>> {
        let mut readable: HashMap<String, HashMap<Key, String>> = HashMap::new();
        for row in rows {
            let (schema, kind, name): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
            let Some((owner, key)) = self.key(schema, kind, name) else { continue };
            let detail = owner.normalizer.apply(row.get::<_, Option<&str>>(3).unwrap_or_default());
            let code = self.all[owner.id as usize].0.code.as_str();
            readable.entry(code.to_owned()).or_default().insert(key, detail);
        }
        readable
    }
}

/// A column's typed digest fields, in the form `plain` gives the others.
fn column_form(row: &Row, names: &OidNames, owner: Owner<'_>, out: &mut String) {
    use std::fmt::Write as _;
    let (typid, typmod, ndims, not_null): (u32, i32, i32, bool) = (row.get(3), row.get(4), row.get(5), row.get(6));
    let (generated, identity, collation, position): (&str, &str, u32, i16) =
        (row.get(7), row.get(8), row.get(9), row.get(10));
    let _ = write!(
        out,
        "#{typid} {typmod} {ndims} {not_null} generated {generated} identity {identity} #{collation} {position}"
    );
    let plain = std::mem::take(out);
    canonical::plain(&plain, names, owner, out);
    if let Some(default) = row.get::<_, Option<&str>>(11) {
        out.push_str(" | ");
        canonical::tree(default, names, owner, out);
    }
}

/// The kinds the fingerprint queries report, as static names.
fn kind_name(kind: &str) -> &'static str {
    const KINDS: &[&str] = &[
        "schema",
        "table",
        "view",
        "materialized view",
        "sequence",
        "foreign table",
        "column",
        "constraint",
        "index",
        "enum",
        "type",
        "function",
        "trigger",
        "policy",
        "default privileges",
    ];
    KINDS.iter().find(|k| **k == kind).copied().unwrap_or("object")
}

fn finding(
    tenant: &Identity,
    problem: Difference,
    (kind, name): &Key,
    e: Option<&String>,
    f: Option<&String>,
) -> Finding {
    let names = Normalizer::new(&tenant.code, tenant.tenant_id);
    Finding {
        scope: tenant.code.as_str().to_owned(),
        check: Check::Structure,
        problem: problem.as_str().to_owned(),
        kind: (*kind).to_owned(),
        object: names.restore(name),
        expected: e.map(|d| shorten(&names.restore(d))),
        found: f.map(|d| shorten(&names.restore(d))),
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
