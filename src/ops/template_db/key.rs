//! The key: what decides a template's contents, hashed into its name, so a
//! change to any input makes a new template rather than reusing a stale one.

use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::{BUILD_SUFFIX, HASH_HEX, TEMPLATE_COMMENT, TEMPLATE_PREFIX};
use crate::error::bad_input;
use crate::model::blueprint::{Blueprint, Interval};
use crate::model::config::Config;
use crate::store::migrate;

/// Identifies a template: the hash of its inputs, and what it records.
#[derive(Debug, Clone)]
pub struct Key {
    /// 16 hex digits of SHA-256 over the inputs.
    pub hash: String,
    pub sample: Option<u32>,
    /// The tenants.toml the template is made for; older templates made for
    /// the same file are dropped once a newer one exists.
    pub config_file: PathBuf,
    /// `server_version_num` (STRATEGY FILE_COPY needs 15).
    pub(super) version_num: i32,
}

impl Key {
    /// `provision_tpl_<hash>`.
    pub fn template(&self) -> String {
        format!("{TEMPLATE_PREFIX}{}", self.hash)
    }

    pub(super) fn build_name(&self) -> String {
        format!("{}{BUILD_SUFFIX}", self.template())
    }

    pub(super) fn sample_text(&self) -> String {
        self.sample.map_or("none".to_owned(), |n| n.to_string())
    }

    pub(super) fn comment(&self) -> String {
        format!("{TEMPLATE_COMMENT}sample {}; config {}", self.sample_text(), self.config_file.display())
    }
}

/// The advisory lock of the template with `hash`.
pub(super) fn lock_name(hash: &str) -> String {
    crate::store::lock::template_key(hash)
}

/// Computes the key from everything a template's contents depend on: the
/// shared migrations compiled in, every file under the templates directory
/// (sorted, path and bytes), tenants.toml's text, the sample size, the
/// provision binary, and the current period of each partition interval
/// in use (partitions are made for "now", so a template never outlives its
/// month: after the period turns, the next `db create` builds a new one).
pub async fn key(admin: &Client, config: &Config, config_file: &Path, sample: Option<u32>) -> Result<Key> {
    let units = period_units(config, sample)?;
    let sql = include_str!("../sql/template_db_server.sql");
    let row = admin.query_typed_one(sql, &[(&units, Type::TEXT_ARRAY)]).await?;
    let (version_num, periods): (i32, String) = (row.get("version_num"), row.get("periods"));

    let mut h = Fields(Sha256::new());
    h.field("provision", env!("CARGO_PKG_VERSION").as_bytes());
    h.field("binary", binary_identity().as_bytes());
    for migration in migrate::shared_migrations() {
        h.field("shared migration", migration.to_string().as_bytes());
        h.field("sql", migration.sql().unwrap_or_default().as_bytes());
    }
    for blueprint in blueprints_of(config)? {
        h.field("blueprint", blueprint.name.as_bytes());
        for file in &blueprint.files {
            h.field("template file", file.path.as_bytes());
            h.field("bytes", &file.bytes);
        }
    }
    let toml = match std::fs::read(config_file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(bad_input(format!("cannot read {}: {e}", config_file.display()))),
    };
    h.field("tenants.toml", &toml);
    h.field("sample", sample.map(|n| n.to_string()).unwrap_or_default().as_bytes());
    h.field("periods", periods.as_bytes());
    let digest = h.0.finalize();
    let hash: String = digest.iter().take(HASH_HEX / 2).map(|b| format!("{b:02x}")).collect();

    let config_file = std::fs::canonicalize(config_file)
        .or_else(|_| std::path::absolute(config_file))
        .unwrap_or_else(|_| config_file.to_owned());
    Ok(Key { hash, sample, config_file, version_num })
}

/// A fingerprint of the inputs of [`key`] that need no parsing: the
/// binary (its shipped packs and shared migrations), tenants.toml's path and
/// bytes, every file under the templates directory (path and bytes), and
/// the sample size; not the periods, which a spare's comment records and
/// the take checks on the server's clock. Equal fingerprints (and periods)
/// mean equal keys, so a spare labelled with one can be taken without
/// loading the blueprints, most of a pooled `db create`'s own work.
pub fn quick_fingerprint(config_file: &Path, templates_dir: &Path, sample: Option<u32>) -> Result<String> {
    let mut h = Fields(Sha256::new());
    h.field("provision", env!("CARGO_PKG_VERSION").as_bytes());
    h.field("binary", binary_identity().as_bytes());
    let absolute = std::fs::canonicalize(config_file)?;
    h.field("config", absolute.as_os_str().as_encoded_bytes());
    h.field("tenants.toml", &std::fs::read(config_file)?);
    h.field("templates", templates_dir.as_os_str().as_encoded_bytes());
    let mut files = Vec::new();
    walk(templates_dir, &mut files)?;
    files.sort();
    for file in files {
        h.field("file", file.as_os_str().as_encoded_bytes());
        h.field("bytes", &std::fs::read(&file)?);
    }
    h.field("sample", sample.map(|n| n.to_string()).unwrap_or_default().as_bytes());
    let digest = h.0.finalize();
    Ok(digest.iter().take(HASH_HEX / 2).map(|b| format!("{b:02x}")).collect())
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Size and modification time of the running binary: provisioning code
/// (roles, partitions, audit triggers) lives in it beside the shared SQL, so
/// a rebuilt `provision` builds its own template rather than trusting one an
/// older build made. (Hashing the binary's bytes would cost more than a clone.)
pub(crate) fn binary_identity() -> String {
    let metadata = std::env::current_exe().and_then(std::fs::metadata);
    match metadata {
        Ok(m) => {
            let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            format!("{}:{}", m.len(), modified.map_or(0, |d| d.as_nanos()))
        }
        Err(_) => String::new(),
    }
}

/// SHA-256 over length-prefixed, labelled fields (no two inputs collide by
/// shifting bytes between fields).
pub(crate) struct Fields(pub(crate) Sha256);

impl Fields {
    pub(crate) fn field(&mut self, label: &str, bytes: &[u8]) {
        for part in [label.as_bytes(), bytes] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
    }
}

/// The partition intervals the tenants of `config` use (and `month` for a
/// sample, whose dates are anchored on the current month), sorted.
fn period_units(config: &Config, sample: Option<u32>) -> Result<Vec<String>> {
    let mut units: Vec<Interval> = Vec::new();
    let settings = config.partition_settings();
    let loaded = blueprints_of(config)?;
    for spec in &config.tenants {
        let blueprint = loaded.iter().find(|b| b.name == spec.blueprint).expect("loaded above");
        units.extend(blueprint.partitions_of(&spec.code, &settings.for_tenant(&spec.code)).iter().map(|p| p.interval));
    }
    if sample.is_some() {
        units.push(Interval::Month);
    }
    let mut units: Vec<String> = units.into_iter().map(|u| u.unit().to_owned()).collect();
    units.sort();
    units.dedup();
    Ok(units)
}

/// The blueprints the tenants of `config` use, each once, by name.
fn blueprints_of(config: &Config) -> Result<Vec<Blueprint>> {
    let mut names: Vec<&str> = config.tenants.iter().map(|t| t.blueprint.as_str()).collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|name| Blueprint::load(&config.templates_dir, name)).collect()
}
