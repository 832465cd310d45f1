//! `db create` as a use case: a fully provisioned database for CI, cloned
//! from a template that is built first when no current one exists (see
//! [`crate::ops::template_db`]). Building the template provisions it as `up`
//! would, loads the sample when asked, and verifies it: every clone inherits
//! whatever the template holds.

use std::path::Path;

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use crate::error::{bad_input, failed};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::ops::admin::AdminPassword;
use crate::ops::provisioner::Settings;
use crate::ops::sample::{self, Request};
use crate::ops::template_db::{self, Created};
use crate::ops::verify::VerifyReporter;
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::store::registry;

/// `provision seed`'s default seed: a `--sample` template holds the same rows as `seed --sample N`.
const SAMPLE_RNG_SEED: u64 = 1;

/// What to create.
pub struct Wanted<'a> {
    pub config: &'a Config,
    /// tenants.toml's path: it keys the template's lineage.
    pub config_file: &'a Path,
    /// The new database's name.
    pub name: &'a str,
    /// Sample size per tenant to load into the template, if any.
    pub sample: Option<u32>,
}

/// Creates the database `request.name` on `target`'s server (through the
/// maintenance connection `admin`), building its template first if needed.
pub async fn create(
    reporter: &dyn VerifyReporter,
    lock_timeout: std::time::Duration,
    (admin, target): (&Client, &Target),
    request: &Wanted<'_>,
) -> Result<Created> {
    let env = Env { reporter, lock_timeout };
    let Wanted { config, config_file, name, sample } = *request;
    template_db::ensure_absent(admin, name).await?;
    let key = template_db::key(admin, config, config_file, sample).await?;
    let fill = async |building: &Target| fill(reporter, lock_timeout, building, config, sample).await;
    template_db::create(&env, admin, target, &key, name, fill).await
}

/// `--sample` as `provision seed` accepts it: every tenant's blueprint
/// declares a sample, and the size is within its bounds.
pub fn check_sample(config: &Config, sample: Option<u32>) -> Result<()> {
    let Some(size) = sample else { return Ok(()) };
    for tenant in &config.tenants {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        let Some(spec) = blueprint.manifest.sample.as_ref() else {
            return Err(bad_input(format!(
                "tenant {} uses blueprint {:?}, which declares no sample data ([sample] in its blueprint.toml); \
                 drop --sample",
                tenant.code, tenant.blueprint
            )));
        };
        sample::check_size(spec, u64::from(size))?;
    }
    Ok(())
}

/// Provisions the template being built, as `up` would (shared migrations,
/// every tenant of tenants.toml, reference data, then `verify`), plus the
/// sample. Tenants' administrators get no usable password: the template is
/// shared.
async fn fill(
    reporter: &dyn VerifyReporter,
    lock_timeout: std::time::Duration,
    building: &Target,
    config: &Config,
    sample: Option<u32>,
) -> Result<()> {
    let mut client = building.connect().await?;
    let settings = Settings {
        lock_timeout,
        upgrade: Default::default(),
        admin_password: AdminPassword::Unusable,
        partitions: config.partition_settings(),
        structure_only: false,
    };
    let failures = crate::ops::up::provision_all(reporter, &mut client, config, &settings).await?;
    if !failures.is_empty() {
        return Err(failed(format!("tenants failed: {}", failures.join("; "))));
    }
    if let Some(size) = sample {
        load_sample(reporter, &mut client, config, size).await?;
    }
    // As `up` ends: every clone inherits whatever the template holds.
    let verified =
        crate::ops::verify::after_changes(reporter, &mut client, building, config, None, lock_timeout).await?;
    match verified.is_clean() {
        true => Ok(()),
        false => Err(failed(crate::ops::verify::report::summary(&verified))),
    }
}

/// `provision seed --sample N` for every tenant, one transaction each. No
/// advisory locks: nobody else can reach a template being built.
async fn load_sample(reporter: &dyn VerifyReporter, client: &mut Client, config: &Config, size: u32) -> Result<()> {
    let tenants = registry::snapshot(&*client, None).await?;
    for tenant in tenants.iter().filter(|t| t.is_active()) {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        let request = Request {
            blueprint: &blueprint,
            code: &tenant.code,
            tenant_id: tenant.id,
            size: u64::from(size),
            rng_seed: SAMPLE_RNG_SEED,
        };
        let tx = client.transaction().await?;
        sample::load(&tx, &request, reporter)
            .await
            .with_context(|| format!("loading the sample into tenant {} failed", tenant.code))?;
        tx.commit().await?;
    }
    Ok(())
}
