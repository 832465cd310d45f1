//! Whether each tenant is complete, and completing it (issue 11, items 1–2).
//!
//! A tenant is built and upgraded in several transactions (a version that
//! adds an enum value or references a shared table ends one; a no-transaction
//! version is outside any), so a crash can stop between two of them. Nothing
//! here trusts a flag that says "done": every `up`, `tenant add` and `tenant
//! upgrade` asks the catalog, in one query for all tenants ([`survey`]),
//! what each tenant lacks of what the finishing steps make (audit triggers,
//! partitions with RLS, FORCE and policies, the audit log's guards, the
//! tenant roles' memberships), and [`complete`] makes it, whether or not a
//! version is pending. The one fact the catalog cannot tell, that the
//! administrator has not been created yet, is a registry row written in the
//! transaction that registers a multi-transaction build and deleted in the
//! one that creates the administrator, so it can never disagree with it.

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, GenericClient, Transaction};

use crate::model::blueprint::{Blueprint, Identity};
use crate::ops::admin::{self, AdminReport};
use crate::ops::steps::{self, Outcome, Settings};
use crate::report::Reporter;
use crate::store::partitions;
use crate::store::registry::Registered;
use crate::store::roles;

/// What one incomplete tenant lacks.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub code: String,
    /// What is missing, for the operator: "audit trigger on lic_schema.x", …
    pub missing: Vec<String>,
    /// Its creation was interrupted: the administrator is still to be made,
    /// after every version (the admin template needs the latest schema).
    pub creating: bool,
}

/// The incomplete tenants among `tenants` (each with its blueprint), by code.
pub async fn survey(client: &mut Client, tenants: &[(&Registered, &Blueprint)]) -> Result<HashMap<String, Gap>> {
    if tenants.is_empty() {
        return Ok(HashMap::new());
    }
    let input = SurveyInput::new(tenants);
    // A catalog query over every tenant is costed high enough to be JIT
    // compiled, which costs seconds and saves nothing here.
    let tx = client.build_transaction().read_only(true).start().await?;
    // Sent together with the query: one round trip for both.
    let jit_off = async { Ok::<_, anyhow::Error>(tx.batch_execute("SET LOCAL jit = off").await?) };
    let ((), gaps) = tokio::try_join!(jit_off, query(&tx, &input))?;
    tx.commit().await?;
    Ok(gaps.into_iter().map(|gap| (gap.code.clone(), gap)).collect())
}

async fn query(client: &impl GenericClient, input: &SurveyInput) -> Result<Vec<Gap>> {
    // Typed parameters: parse, bind and execute in one round trip.
    let rows = client
        .query_typed(include_str!("sql/completion_survey.sql"), &input.params())
        .await
        .context("cannot check whether the tenants are complete")?;
    Ok(rows.iter().map(|row| Gap { code: row.get(0), missing: row.get(1), creating: row.get(2) }).collect())
}

/// The survey's parameters: what each tenant's blueprint says it must have,
/// as parallel arrays.
#[derive(Default)]
struct SurveyInput {
    codes: Vec<String>,
    schemas: Vec<String>,
    audited: Vec<bool>,
    excluded: (Vec<String>, Vec<String>),
    partitioned: (Vec<String>, Vec<String>, Vec<String>),
    /// (code, table) of the tables whose reads are audited.
    reads: (Vec<String>, Vec<String>),
}

impl SurveyInput {
    fn new(tenants: &[(&Registered, &Blueprint)]) -> SurveyInput {
        let mut input = SurveyInput::default();
        for (tenant, blueprint) in tenants {
            let code = &tenant.code;
            let audit = blueprint.manifest.audit.as_ref();
            input.codes.push(code.as_str().to_owned());
            input.schemas.push(tenant.schema_name.clone());
            input.audited.push(audit.is_some());
            for table in audit.map(|a| a.exclude.clone()).unwrap_or_default() {
                input.excluded.0.push(code.as_str().to_owned());
                input.excluded.1.push(table);
            }
            for table in audit.map(|a| a.reads.clone()).unwrap_or_default() {
                input.reads.0.push(code.as_str().to_owned());
                input.reads.1.push(table);
            }
            for spec in blueprint.partitions_of(code, &Default::default()) {
                input.partitioned.0.push(code.as_str().to_owned());
                input.partitioned.1.push(spec.schema.clone().unwrap_or_else(|| code.schema_name()));
                input.partitioned.2.push(spec.table.clone());
            }
        }
        input
    }

    fn params(&self) -> [(&(dyn ToSql + Sync), Type); 10] {
        let (excluded, partitioned, reads) = (&self.excluded, &self.partitioned, &self.reads);
        [
            (&self.codes, Type::TEXT_ARRAY),
            (&self.schemas, Type::TEXT_ARRAY),
            (&self.audited, Type::BOOL_ARRAY),
            (&excluded.0, Type::TEXT_ARRAY),
            (&excluded.1, Type::TEXT_ARRAY),
            (&partitioned.0, Type::TEXT_ARRAY),
            (&partitioned.1, Type::TEXT_ARRAY),
            (&partitioned.2, Type::TEXT_ARRAY),
            (&reads.0, Type::TEXT_ARRAY),
            (&reads.1, Type::TEXT_ARRAY),
        ]
    }
}

/// What completing a tenant made.
#[derive(Debug, Default)]
pub struct Completed {
    pub partitions: usize,
    /// Partition security statements (ENABLE, FORCE, policies) run.
    pub secured: usize,
    pub admin: Option<AdminReport>,
}

impl Completed {
    /// Adds what an earlier transaction of the same upgrade made.
    pub fn absorb(&mut self, earlier: Option<Completed>) {
        if let Some(earlier) = earlier {
            self.partitions += earlier.partitions;
            self.secured += earlier.secured;
            self.admin = self.admin.take().or(earlier.admin);
        }
    }

    pub fn changed(&self) -> bool {
        self.partitions > 0 || self.secured > 0 || self.admin.is_some()
    }
}

/// Completes one tenant at its current version in a transaction of its own
/// (under the tenant's lock). `Current` if there was nothing to do.
pub async fn complete(
    client: &mut tokio_postgres::Client,
    tenant: &Registered,
    blueprint: &Blueprint,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Outcome> {
    let identity = tenant.identity();
    let tx = steps::begin_locked(client, &tenant.code, settings.lock_timeout, reporter).await?;
    // Asked again under the tenant's lock: another process may have
    // completed it since the survey, and the answer names what is repaired.
    let missing = query(&tx, &SurveyInput::new(&[(tenant, blueprint)])).await?.into_iter().flat_map(|g| g.missing);
    let repaired: Vec<String> = missing.collect();
    let done = complete_in(&tx, &identity, blueprint, settings).await?;
    crate::ops::gate::check_tenant(&tx, &tenant.code, blueprint).await?;
    tx.commit().await.with_context(|| format!("cannot complete tenant {}", tenant.code))?;
    let version = tenant.version();
    Ok(match repaired.is_empty() && !done.changed() {
        true => Outcome::Current { version },
        false => Outcome::Completed { version, repaired, partitions: done.partitions, admin: done.admin },
    })
}

/// The finishing steps, inside the caller's transaction (which holds the
/// tenant's lock): roles in their groups, partitions for the window, the
/// audit log's guards, audit triggers, RLS on every partition of the
/// tenant, then a pending administrator. Each step makes only what is
/// missing, so running it on a complete tenant changes nothing.
pub async fn complete_in(
    tx: &Transaction<'_>,
    identity: &Identity,
    blueprint: &Blueprint,
    settings: &Settings,
) -> Result<Completed> {
    let code = &identity.code;
    roles::ensure(tx, code).await?;
    // The window's new partitions are among `all` below, secured in the
    // same pass as the older ones.
    let partitions = steps::finish_but_security(tx, code, blueprint, settings).await?.len();
    let specs = blueprint.partitions_of(code, &settings.partitions.for_tenant(code));
    let parents: Vec<String> = specs
        .iter()
        .map(|s| {
            let schema = s.schema.clone().unwrap_or_else(|| code.schema_name());
            format!("{}.{}", crate::pg::quote::quote_ident(&schema), crate::pg::quote::quote_ident(&s.table))
        })
        .collect();
    let rows = tx.query_typed(include_str!("sql/completion_partitions.sql"), &[(&parents, Type::TEXT_ARRAY)]).await?;
    let all: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let schemas = partitions::schemas_of(&code.schema_name(), &specs);
    let secured = match all.is_empty() {
        true => 0,
        false => partitions::secure_only(tx, &schemas, Some(&all)).await?,
    };
    let admin = pending_administrator(tx, identity, blueprint, settings).await?;
    Ok(Completed { partitions, secured, admin })
}

/// Marks, in the transaction that registers `identity`, that its
/// administrator is still to be created by a later transaction.
pub async fn administrator_pending(tx: &Transaction<'_>, identity: &Identity) -> Result<()> {
    let email = admin::email(&identity.code);
    let params: [(&(dyn ToSql + Sync), Type); 2] = [(&identity.tenant_id, Type::UUID), (&email, Type::TEXT)];
    tx.query_typed(include_str!("sql/administrator_pending.sql"), &params).await?;
    Ok(())
}

/// Creates the administrator if its creation is pending (and takes the mark).
async fn pending_administrator(
    tx: &Transaction<'_>,
    identity: &Identity,
    blueprint: &Blueprint,
    settings: &Settings,
) -> Result<Option<AdminReport>> {
    if settings.structure_only
        || tx
            .query_typed_opt(include_str!("sql/administrator_done.sql"), &[(&identity.tenant_id, Type::UUID)])
            .await?
            .is_none()
    {
        return Ok(None);
    }
    roles::act_as_owner(tx, identity, crate::pg::owned_ddl::Lasting::Transaction).await?;
    let admin = admin::ensure(tx, blueprint, identity, &settings.admin_password).await?;
    roles::stop_acting(tx, crate::pg::owned_ddl::Lasting::Transaction).await?;
    Ok(admin)
}
