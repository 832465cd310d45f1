//! Dropping what a new template makes stale: older templates of the same
//! tenants.toml and sample size, their spares, and spares whose template is
//! gone. Done after each `db create`, never under anyone's feet: each
//! template only while its lock can be had at once.

use anyhow::Result;
use tokio_postgres::Client;

use super::listing::{Kind, Listed};
use super::{drop_database, lock_name, pool, release, Key};
use crate::ops::Env;

/// [`drop_stale`] of what `listed` found, a failure only warned about: the
/// new database is made.
pub(super) async fn dropped_stale(
    env: &Env<'_>,
    admin: &Client,
    key: &Key,
    listed: Result<Vec<Listed>>,
) -> (Vec<String>, Vec<String>) {
    match async { drop_stale(admin, key, &listed?).await }.await {
        Ok(dropped) => dropped,
        Err(error) => {
            env.reporter.warn(&format!("could not drop older templates: {error:#}"));
            Default::default()
        }
    }
}

/// Drops the other templates (and unfinished builds) made for the same
/// tenants.toml and sample size (so `--sample` and plain templates of one
/// project coexist), with their spares, each only if nobody builds, clones
/// or refills it right now; then the spares whose template is gone.
async fn drop_stale(admin: &Client, key: &Key, listed: &[Listed]) -> Result<(Vec<String>, Vec<String>)> {
    let ours = key.config_file.display().to_string();
    let our_sample = key.sample_text();
    let (mut templates, mut spares) = (Vec::new(), Vec::new());
    for entry in listed {
        let Kind::Template { hash, config, sample } = &entry.kind else { continue };
        if *hash == key.hash || *config != ours || *sample != our_sample {
            continue;
        }
        let lock = lock_name(hash);
        let free = crate::store::lock::session_try(admin, &lock, crate::store::lock::Mode::Exclusive).await?;
        if !free {
            continue;
        }
        let result = async {
            spares.extend(pool::drop_spares_of(admin, listed, hash).await?);
            drop_database(admin, &entry.name, entry.is_template).await
        }
        .await;
        release(admin, &lock, false).await?;
        result?;
        templates.push(entry.name.clone());
    }
    let gone = |l: &Listed| templates.contains(&l.name) || spares.contains(&l.name);
    let still_listed: Vec<_> = listed.iter().filter(|l| !gone(l)).cloned().collect();
    spares.extend(pool::drop_orphans(admin, &still_listed, key).await?);
    Ok((templates, spares))
}
