//! `db create` as a use case: a fully provisioned database for CI, cloned
//! from a template that is built first when no current one exists (see
//! [`crate::ops::template_db`]). Building the template provisions it as `up`
//! would, loads the sample when asked, and verifies it: every clone inherits
//! whatever the template holds.
//!
//! Except a sample's secrets. A tenant whose sample encrypts with a per-run
//! sample key (`[[encrypted]]`) or hands out generated passwords
//! (`pg_temp.sample_secrets`) gets no sample in the template: a key or
//! password baked into a shared template would either be shown to nobody
//! (its PHI unreadable for ever) or be shared silently by every clone. Its
//! sample is loaded into each clone instead, through `provision seed`'s own
//! path ([`crate::ops::seed`]), so each clone has its own key and passwords,
//! returned for the caller to show once on the embedded sandbox only.
//!
//! With a pool (`--pool N`, `[db] pool`), the clone is usually a spare
//! renamed ([`crate::ops::template_db`]'s pool), and [`refill`] makes new
//! spares afterwards, in a process of its own so the caller need not wait.

use std::path::Path;

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use crate::error::{bad_input, failed};
use crate::model::blueprint::Blueprint;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::admin::AdminPassword;
use crate::ops::provisioner::Settings;
use crate::ops::sample::{self, Request};
use crate::ops::seed::{self, Seed, SeedReporter, Seeded};
use crate::ops::template_db::{self, Created, Refilled, Taken};
use crate::ops::verify::VerifyReporter;
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::report::Reporter;
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
    /// Sample size per tenant, if any: loaded into the template, or into
    /// each clone for tenants whose sample makes secrets.
    pub sample: Option<u32>,
}

/// What `create` made: the clone, and the samples loaded into it alone.
pub struct Made {
    pub created: Created,
    /// The per-clone samples (tenants whose sample carries secrets), with
    /// their secrets only when the target is the embedded sandbox.
    pub seeded: Option<Seeded>,
}

/// Creates the database `request.name` on `target`'s server (through the
/// maintenance connection `admin`), building its template first if needed,
/// then loads the per-clone samples into it (dropping it if that fails).
pub async fn create(
    reporter: &dyn VerifyReporter,
    lock_timeout: std::time::Duration,
    (admin, target): (&Client, &Target),
    request: &Wanted<'_>,
) -> Result<Made> {
    let env = Env { reporter, lock_timeout };
    let Wanted { config, config_file, name, sample } = *request;
    // Both in one flight (the client pipelines them).
    let absent = template_db::ensure_absent(admin, name);
    let ((), key) = tokio::try_join!(absent, template_db::key(admin, config, config_file, sample))?;
    let fill = async |building: &Target| fill(reporter, lock_timeout, building, config, sample).await;
    let created = template_db::create(&env, admin, target, &key, name, fill).await?;
    let Some(size) = sample else { return Ok(Made { created, seeded: None }) };
    let per_clone = per_clone_tenants(config)?;
    if per_clone.is_empty() {
        return Ok(Made { created, seeded: None });
    }
    match seed_clone(&env, &target.with_dbname(name), config, &per_clone, size, target.is_sandbox()).await {
        Ok(seeded) => Ok(Made { created, seeded: Some(seeded) }),
        Err(error) => {
            let dropped = template_db::drop_clone(admin, name).await;
            let fate = if dropped.is_ok() { "it was dropped" } else { "drop it with `provision db drop`" };
            Err(error.context(format!("cannot load the per-database sample into {name}; {fate}")))
        }
    }
}

/// Brings the spares of the current template (of `config`, `sample`) to
/// `size`: the pool `db create --pool` keeps. Does nothing when that template
/// does not exist yet (the next `db create` builds it). Labels the spares
/// with the inputs' quick fingerprint when nothing changed while the key was
/// computed (neither a file nor the period), so [`take_labelled`] finds them.
pub async fn refill(
    reporter: &dyn VerifyReporter,
    lock_timeout: std::time::Duration,
    admin: &Client,
    (config, config_file, sample): (&Config, &Path, Option<u32>),
    size: u32,
) -> Result<Refilled> {
    let env = Env { reporter, lock_timeout };
    let quick = || template_db::quick_fingerprint(config_file, &config.templates_dir, sample).ok();
    let (before, periods) = (quick(), template_db::periods_now(admin).await?);
    let key = template_db::key(admin, config, config_file, sample).await?;
    let stable = quick() == before && template_db::periods_now(admin).await? == periods;
    let label = before.filter(|_| stable).map(|q| template_db::label(&q, &periods));
    template_db::refill(&env, admin, &key, size, label.as_deref()).await
}

/// A spare made from exactly these inputs (tenants.toml at `config_file`,
/// the files under `templates_dir`, this binary, `sample`), renamed to
/// `name`, found without loading any blueprint; `None` when there is none
/// (or the inputs cannot be read), and the caller goes the whole way.
pub async fn take_labelled(
    admin: &Client,
    (config_file, templates_dir): (&Path, &Path),
    sample: Option<u32>,
    name: &str,
) -> Result<Option<Taken>> {
    let Ok(quick) = template_db::quick_fingerprint(config_file, templates_dir, sample) else { return Ok(None) };
    template_db::take_labelled(admin, &quick, name).await
}

/// Whether a tenant of `blueprint` gets its sample in each clone rather
/// than in the shared template: its sample makes secrets (a sample key for
/// `[[encrypted]]` columns, or rows in `pg_temp.sample_secrets`).
fn sample_per_clone(blueprint: &Blueprint) -> bool {
    !blueprint.manifest.encrypted.is_empty()
        || blueprint.sample_files().any(|f| f.text(&blueprint.name).is_ok_and(|t| t.contains("sample_secrets")))
}

/// The tenants of `config` whose sample is loaded per clone.
fn per_clone_tenants(config: &Config) -> Result<Vec<TenantCode>> {
    let mut codes = Vec::new();
    for tenant in &config.tenants {
        if sample_per_clone(&Blueprint::load(&config.templates_dir, &tenant.blueprint)?) {
            codes.push(tenant.code.clone());
        }
    }
    Ok(codes)
}

/// `provision seed --sample size` of the tenants `codes` in the new clone,
/// with the template's rng seed: the same rows as `seed` would load, under
/// a key and passwords of this clone's own.
async fn seed_clone(
    env: &Env<'_>,
    clone: &Target,
    config: &Config,
    codes: &[TenantCode],
    size: u32,
    reveal_secrets: bool,
) -> Result<Seeded> {
    let mut client = clone.connect().await?;
    let request = Seed {
        codes,
        size: Some(u64::from(size)),
        rng_seed: SAMPLE_RNG_SEED,
        templates_dir: &config.templates_dir,
        reveal_secrets,
    };
    seed::seed(env, &Relay(env.reporter), &mut client, &request).await
}

/// Passes a seed's messages on; the caller reports the tenants at the end.
struct Relay<'a>(&'a dyn Reporter);

impl Reporter for Relay<'_> {
    fn note(&self, text: &str) {
        self.0.note(text);
    }
    fn detail(&self, text: &str) {
        self.0.detail(text);
    }
    fn warn(&self, text: &str) {
        self.0.warn(text);
    }
}

impl SeedReporter for Relay<'_> {}

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

/// `provision seed --sample N` for every tenant whose sample carries no
/// secret, one transaction each. No advisory locks: nobody else can reach a
/// template being built.
async fn load_sample(reporter: &dyn VerifyReporter, client: &mut Client, config: &Config, size: u32) -> Result<()> {
    let tenants = registry::snapshot(&*client, None).await?;
    for tenant in tenants.iter().filter(|t| t.is_active()) {
        let blueprint = Blueprint::load(&config.templates_dir, &tenant.blueprint)?;
        if sample_per_clone(&blueprint) {
            continue;
        }
        let request = Request {
            blueprint: &blueprint,
            code: &tenant.code,
            tenant_id: tenant.id,
            size: u64::from(size),
            rng_seed: SAMPLE_RNG_SEED,
        };
        let tx = client.transaction().await?;
        let loaded = sample::load(&tx, &request, reporter)
            .await
            .with_context(|| format!("loading the sample into tenant {} failed", tenant.code))?;
        // Only dynamic SQL could hide sample_secrets from `sample_per_clone`;
        // a secret kept in a shared template would be shown to nobody.
        if !loaded.secrets.is_empty() {
            return Err(failed(format!(
                "blueprint {:?}'s sample made secrets without naming pg_temp.sample_secrets in its files; \
                 a template cannot hold them (seed a database with `provision up` and `provision seed` instead)",
                blueprint.name
            )));
        }
        tx.commit().await?;
    }
    Ok(())
}
