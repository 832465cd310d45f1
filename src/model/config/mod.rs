//! `tenants.toml`: which tenants exist and how they are built.
//!
//! The file is parsed strictly (unknown keys are errors) and every error names
//! the file, line, column and key, because a DBA editing it by hand needs to
//! find the mistake without reading Rust. Duplicate tenant codes are duplicate
//! TOML keys, which the parser itself rejects with a position.

mod partitions;
mod raw;
mod servers;
mod tenant;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;

use crate::error::bad_input;
use crate::model::attributes;
use crate::model::blueprint::available;
use crate::model::tenant::TenantCode;
use crate::pg::text::one_line;

pub use partitions::{check_partitions, PartitionOverrides, PartitionSettings};
use raw::{line_column, name_the_key, RawConfig};
pub use servers::{ServerName, ServerSpec};
pub use tenant::{check_blueprint_name, check_name, derived_tenant_id, TenantSpec};
use tenant::{pick_blueprint, tenant_spec};

/// The parsed configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where blueprints live (`templates/<blueprint>/`).
    pub templates_dir: PathBuf,
    /// The blueprint of tenants that name none: `[defaults] blueprint`, else
    /// the only available pack when there is exactly one.
    pub default_blueprint: Option<String>,
    /// `[defaults]` partition settings.
    pub default_partitions: PartitionOverrides,
    /// Tenants in code order.
    pub tenants: Vec<TenantSpec>,
    /// `[db] pool`: spare clones of the current template that `db create`
    /// keeps ready (`--pool` overrides it; unset means none).
    pub db_pool: Option<u32>,
    /// `[servers.<name>]` in name order; empty means one server (the
    /// global `--database-url`, or the embedded sandbox).
    pub servers: Vec<ServerSpec>,
    /// The server each tenant that names one (`server = "…"`) lives on.
    pub placed: BTreeMap<TenantCode, ServerName>,
}

/// The largest `[db] pool` / `--pool`: every spare is a whole copy of the
/// template on disk, so a typo must not fill the disk.
pub const MAX_POOL: u32 = 100;

/// Checks a pool size; the message names what to do.
pub fn check_pool(pool: u32) -> Result<(), String> {
    match pool {
        0..=MAX_POOL => Ok(()),
        _ => {
            Err(format!("pool: at most {MAX_POOL} spare databases ({pool} given); each is a full copy of the template"))
        }
    }
}

impl Config {
    /// Loads `path`. A missing file is an error only when `explicit` (given
    /// with `--config`/`PROVISION_CONFIG`); otherwise it means "no tenants".
    pub fn load(path: &Path, explicit: bool) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Config::empty(path)),
            Err(e) => Err(bad_input(format!(
                "cannot read {}: {e}; pass --config with the path of your tenants.toml",
                path.display()
            ))),
        }
    }

    fn empty(path: &Path) -> Config {
        let templates_dir = base_dir(path).join("templates");
        Config {
            default_blueprint: only_pack(&templates_dir),
            templates_dir,
            default_partitions: PartitionOverrides::default(),
            tenants: Vec::new(),
            db_pool: None,
            servers: Vec::new(),
            placed: BTreeMap::new(),
        }
    }

    /// Parses the text of `path`; errors carry `file:line:column`.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let at = |span: Option<std::ops::Range<usize>>, message: &str| {
            let (line, column) = line_column(text, span.map_or(0, |s| s.start));
            bad_input(format!("{}:{line}:{column}: {}", path.display(), one_line(message)))
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| at(e.span(), &name_the_key(text, e.span(), e.message())))?;
        let templates_dir = base_dir(path).join(raw.templates.as_deref().unwrap_or("templates"));
        if let Some(name) = &raw.defaults.blueprint {
            check_blueprint_name(name).map_err(|m| at(None, &format!("[defaults] blueprint: {m}")))?;
        }
        let default_blueprint = raw.defaults.blueprint.clone().or_else(|| only_pack(&templates_dir));
        let mut tenants: Vec<TenantSpec> = Vec::with_capacity(raw.tenants.len());
        let mut given = Vec::with_capacity(raw.tenants.len());
        let servers = servers::servers(raw.servers).map_err(|m| at(None, &m))?;
        let mut placed = BTreeMap::new();
        for (code, entry) in raw.tenants {
            let span = Some(entry.span());
            if let Some(server) = &entry.get_ref().server {
                let message = match servers.iter().any(|s| s.name.as_str() == server) {
                    true => None,
                    false if servers.is_empty() => Some(format!(
                        "[tenants.{code}] server: {server:?} is not declared; add [servers.{server}] with url_env = \"VARIABLE\""
                    )),
                    false => Some(format!(
                        "[tenants.{code}] server: {server:?} is not declared; use one of {}",
                        servers.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                };
                if let Some(message) = message {
                    return Err(at(span, &message));
                }
            }
            let server = entry.get_ref().server.clone();
            let (spec, attributes) =
                tenant_spec(&code, entry.into_inner(), default_blueprint.as_deref(), &templates_dir)
                    .map_err(|m| at(span.clone(), &format!("[tenants.{code}] {m}")))?;
            // The id is the tenant's primary key in shared.tenants: a twin
            // would surface from the database halfway through `up`.
            if let Some(twin) = tenants.iter().find(|t| t.id == spec.id) {
                let message = format!(
                    "[tenants.{code}] id: {} is already the id of tenant {}; give each tenant its own id",
                    spec.id, twin.code
                );
                return Err(at(span, &message));
            }
            if let Some(server) = server {
                placed.insert(spec.code.clone(), ServerName::parse(&server).map_err(|m| at(span.clone(), &m))?);
            }
            tenants.push(spec);
            given.push((attributes, span));
        }
        let default_partitions = PartitionOverrides {
            premake: raw.defaults.premake,
            retention: raw.defaults.retention,
            archive: raw.defaults.archive,
        };
        check_partitions(&default_partitions).map_err(|m| at(None, &format!("[defaults] {m}")))?;
        if let Some(pool) = raw.db.pool {
            check_pool(pool).map_err(|m| at(None, &format!("[db] {m}")))?;
        }
        let db_pool = raw.db.pool;
        let mut config =
            Config { templates_dir, default_blueprint, default_partitions, tenants, db_pool, servers, placed };
        config.check_blueprints().map_err(|e| bad_input(format!("{}: {e:#}", path.display())))?;
        for (spec, (attributes, span)) in config.tenants.iter_mut().zip(given) {
            let blueprint = crate::model::blueprint::Blueprint::load(&config.templates_dir, &spec.blueprint)?;
            let resolved = attributes::resolve(&blueprint.manifest, &attributes)
                .map_err(|m| at(span, &format!("[tenants.{}] {m}", spec.code)))?;
            (spec.tenant_type, spec.attributes) = (resolved.tenant_type, resolved.values);
        }
        Ok(config)
    }

    /// The blueprint of a tenant that names `given` (or none): the error
    /// says how to name one and which exist.
    pub fn blueprint_for(&self, code: &TenantCode, given: Option<&str>) -> Result<String, String> {
        pick_blueprint(code.as_str(), given, self.default_blueprint.as_deref(), &self.templates_dir)
    }

    /// Every blueprint a declared tenant names loads: it exists, parses and
    /// renders. Checked by every command, so a typo in tenants.toml is bad
    /// input (exit 2) naming the tenants and the blueprint, before anything runs.
    pub fn check_blueprints(&self) -> Result<()> {
        let names: std::collections::BTreeSet<&str> = self.tenants.iter().map(|t| t.blueprint.as_str()).collect();
        for name in names {
            if let Err(e) = crate::model::blueprint::Blueprint::load(&self.templates_dir, name) {
                let users: Vec<&str> =
                    self.tenants.iter().filter(|t| t.blueprint == name).map(|t| t.code.as_str()).collect();
                let who = if users.len() == 1 { "tenant" } else { "tenants" };
                return Err(bad_input(format!("{who} {}: {e:#}", users.join(", "))));
            }
        }
        Ok(())
    }

    /// The declared server called `name`; the error lists the others.
    pub fn server(&self, name: &str) -> Result<&ServerSpec> {
        if let Some(server) = self.servers.iter().find(|s| s.name.as_str() == name) {
            return Ok(server);
        }
        let names: Vec<&str> = self.servers.iter().map(|s| s.name.as_str()).collect();
        Err(bad_input(match names.is_empty() {
            true => format!("server {name:?}: tenants.toml declares no servers; add [servers.{name}] with url_env"),
            false => format!("server {name:?} is not declared in tenants.toml; use one of {}", names.join(", ")),
        }))
    }

    pub fn tenant(&self, code: &TenantCode) -> Option<&TenantSpec> {
        self.tenants.iter().find(|t| &t.code == code)
    }

    /// The partition settings of every declared tenant, over `[defaults]`.
    pub fn partition_settings(&self) -> PartitionSettings {
        PartitionSettings {
            defaults: self.default_partitions.clone(),
            tenants: self.tenants.iter().map(|t| (t.code.clone(), t.partitions.clone())).collect(),
        }
    }
}

/// The one available pack, when there is exactly one.
fn only_pack(templates_dir: &Path) -> Option<String> {
    match available(templates_dir).as_slice() {
        [(name, _)] => Some(name.clone()),
        _ => None,
    }
}

/// The templates directory `path` names, reading only its `templates` key
/// (for commands about blueprints, which must work while a tenant still
/// names a blueprint not written yet).
pub fn templates_dir(path: &Path, explicit: bool) -> Result<PathBuf> {
    #[derive(Deserialize)]
    struct TemplatesOnly {
        templates: Option<String>,
    }
    let templates = match std::fs::read_to_string(path) {
        Ok(text) => {
            let only: TemplatesOnly = toml::from_str(&text)
                .map_err(|e| bad_input(format!("{}: {}", path.display(), one_line(e.message()))))?;
            only.templates
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
        Err(e) => return Err(bad_input(format!("cannot read {}: {e}", path.display()))),
    };
    Ok(base_dir(path).join(templates.as_deref().unwrap_or("templates")))
}

/// `[db] pool` of `path`, reading only that key (and no blueprint): for
/// `db create`'s quick look for a spare, before the full, checked load.
/// `None` when unset, unreadable or out of bounds (the full load says why).
pub fn db_pool(path: &Path) -> Option<u32> {
    #[derive(Deserialize)]
    struct DbOnly {
        db: Option<PoolOnly>,
    }
    #[derive(Deserialize)]
    struct PoolOnly {
        pool: Option<u32>,
    }
    let text = std::fs::read_to_string(path).ok()?;
    let only: DbOnly = toml::from_str(&text).ok()?;
    only.db?.pool.filter(|p| check_pool(*p).is_ok())
}

/// Whether `path` declares `[servers.*]`, reading only that key: every
/// command asks before anything else, and a full load checks every
/// blueprint, which a one-server run must not pay twice. Unreadable or
/// invalid files answer false; the command's own load reports them.
pub fn declares_servers(path: &Path) -> bool {
    #[derive(Deserialize)]
    struct ServersOnly {
        servers: Option<toml::Table>,
    }
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    toml::from_str::<ServersOnly>(&text).is_ok_and(|only| only.servers.is_some_and(|s| !s.is_empty()))
}

fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests;
