//! What changed in an edited template (issue 16): for an applied version
//! whose template no longer renders to what the tenant ran, the SQL it ran
//! (rendered again from the source recorded in `shared.template_sources`
//! that reproduces the tenant's checksum) against what the template renders
//! today, as a unified diff. A checksum alone says only that something
//! changed; the diff says what, so an operator can restore the file or
//! accept the change (`tenant repair --accept-checksums`) knowingly.

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::model::blueprint::{render_source, Blueprint};
use crate::store::registry::Registered;
use crate::store::template_sources;

/// One edited version of one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDiff {
    pub version: i32,
    pub name: String,
    /// `--- applied` / `+++ template` unified diff; `None` when the source
    /// the tenant ran was never recorded (applied before provision kept them).
    pub diff: Option<String>,
}

/// The diffs of `tenant`'s `edited` versions (name, version).
pub async fn edited(
    client: &impl GenericClient,
    tenant: &Registered,
    blueprint: &Blueprint,
    edited: &[(String, i32)],
) -> Result<Vec<VersionDiff>> {
    let identity = tenant.identity();
    let today = blueprint.render(&identity)?;
    let mut diffs = Vec::with_capacity(edited.len());
    for (name, version) in edited {
        let applied = tenant.applied.iter().find(|a| a.version == *version).map(|a| a.checksum);
        let mut ran = None;
        for source in template_sources::sources(client, &blueprint.name, *version).await? {
            let Ok(migration) = render_source(name, &source, &identity) else { continue };
            if Some(migration.checksum()) == applied {
                ran = migration.sql().map(str::to_owned);
                break;
            }
        }
        let now = today.iter().find(|m| m.version() == *version).and_then(|m| m.sql()).unwrap_or_default();
        let diff = ran.map(|old| {
            similar::TextDiff::from_lines(old.as_str(), now)
                .unified_diff()
                .context_radius(3)
                .header(&format!("applied {name}"), &format!("template {name}"))
                .to_string()
        });
        diffs.push(VersionDiff { version: *version, name: name.clone(), diff });
    }
    Ok(diffs)
}
