//! Moves a database made before blueprint packs to their layout, in place.
//!
//! That release kept a blueprint's database-level objects among provision's
//! own migrations, so its core history (`provision.refinery_schema_history`)
//! records versions that now belong to a blueprint's shared part, and
//! checksums of core files that were split since. Nothing in the catalog has
//! to change, only the histories: each moved file says which core version and
//! checksum it replaces (a `-- provision:replaces-core-version N checksum C`
//! line), so the core re-records them without knowing any blueprint by name,
//! and only when the old checksum is exactly the one that file names.

use anyhow::Result;
use refinery_core::Migration;
use tokio_postgres::Transaction;

use crate::error::bad_input;
use crate::store::migrate::Applied;

/// The line a moved shared migration carries.
const MARKER: &str = "-- provision:replaces-core-version ";

/// One blueprint's shared migrations, as loaded.
#[derive(Debug, Clone, Copy)]
pub struct SharedPart<'a> {
    pub blueprint: &'a str,
    pub migrations: &'a [Migration],
}

/// A shared migration that a database made before packs recorded as (part
/// of) core version `core_version` with `core_checksum`.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub blueprint: &'a str,
    pub migration: &'a Migration,
    pub core_version: i32,
    pub core_checksum: u64,
}

/// What re-recording an old history does; empty for any other database.
#[derive(Debug, Default)]
pub struct Rerecord<'a> {
    /// Core rows of versions that moved whole: deleted.
    pub moved: Vec<Applied>,
    /// Core rows of split versions: (old row, this binary's checksum).
    pub split: Vec<(Applied, u64)>,
    /// Rows the blueprints' shared histories receive.
    pub adopted: Vec<Claim<'a>>,
}

impl Rerecord<'_> {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty() && self.split.is_empty()
    }

    /// The core history as it reads once re-recorded.
    pub fn core_after(&self, applied: &[Applied]) -> Vec<Applied> {
        applied
            .iter()
            .filter(|a| !self.moved.contains(a))
            .map(|a| match self.split.iter().find(|(old, _)| old == a) {
                Some((_, checksum)) => Applied { version: a.version, checksum: *checksum },
                None => *a,
            })
            .collect()
    }

    /// What `blueprint`'s shared history holds once re-recorded, beyond `applied`.
    pub fn blueprint_after(&self, blueprint: &str, applied: &[Applied]) -> Vec<Applied> {
        let mut rows = applied.to_vec();
        for claim in self.adopted.iter().filter(|c| c.blueprint == blueprint) {
            if !rows.iter().any(|a| a.version == claim.migration.version()) {
                rows.push(Applied { version: claim.migration.version(), checksum: claim.migration.checksum() });
            }
        }
        rows
    }
}

/// The `replaces-core-version` claim of a shared migration, if it has one.
fn claim_of<'a>(blueprint: &'a str, migration: &'a Migration) -> Option<Claim<'a>> {
    let line = migration.sql()?.lines().find_map(|l| l.strip_prefix(MARKER))?;
    let mut words = line.split_whitespace();
    let core_version = words.next()?.parse().ok()?;
    let core_checksum = match (words.next(), words.next()) {
        (Some("checksum"), Some(value)) => value.parse().ok()?,
        _ => return None,
    };
    Some(Claim { blueprint, migration, core_version, core_checksum })
}

/// Decides the re-recording of `applied` (the core history) against this
/// binary's `core` migrations and every known blueprint's shared part.
/// A core row this binary does not have, or has with another checksum, is
/// re-recorded only when some shared migration claims exactly that version
/// and checksum; a claimed version with any other checksum is refused.
pub fn plan<'a>(applied: &[Applied], core: &[Migration], parts: &[SharedPart<'a>]) -> Result<Rerecord<'a>> {
    let claims: Vec<Claim<'a>> =
        parts.iter().flat_map(|p| p.migrations.iter().filter_map(|m| claim_of(p.blueprint, m))).collect();
    let mut rerecord = Rerecord::default();
    for row in applied {
        let current = core.iter().find(|m| m.version() == row.version);
        if current.is_some_and(|m| m.checksum() == row.checksum) {
            continue;
        }
        let claimed: Vec<&Claim<'a>> = claims.iter().filter(|c| c.core_version == row.version).collect();
        if claimed.is_empty() {
            // Not a moved version: the ordinary "edited"/"missing" reports apply.
            continue;
        }
        if let Some(other) = claimed.iter().find(|c| c.core_checksum != row.checksum) {
            return Err(bad_input(format!(
                "provision.refinery_schema_history records core version {} with checksum {}, but blueprint {} expects \
                 {} for it (that version moved into the blueprint); this database was not made by a release of \
                 provision this one upgrades: restore the migration files it was built with or repair its history",
                row.version, row.checksum, other.blueprint, other.core_checksum
            )));
        }
        match current {
            Some(m) => rerecord.split.push((*row, m.checksum())),
            None => rerecord.moved.push(*row),
        }
        rerecord.adopted.extend(claimed.into_iter().cloned());
    }
    Ok(rerecord)
}

/// Carries out `rerecord` inside `tx` (the caller holds the exclusive shared
/// lock): blueprint rows first, keeping the old rows' `applied_on`, then the
/// core rows, each matched on version and old checksum.
pub async fn apply(tx: &Transaction<'_>, rerecord: &Rerecord<'_>, history_of: impl Fn(&str) -> String) -> Result<()> {
    for claim in &rerecord.adopted {
        let table = history_of(claim.blueprint);
        tx.batch_execute(&crate::store::migrate::history_create_sql(&table)).await?;
        // Same applied_on as the core row it was part of; a version already there is kept.
        let insert = format!(
            "INSERT INTO {table} (version, name, applied_on, checksum) SELECT $1, $2, applied_on, $3 \
             FROM provision.refinery_schema_history WHERE version = $4 ON CONFLICT (version) DO NOTHING"
        );
        let (version, name, checksum) =
            (claim.migration.version(), claim.migration.name().to_owned(), claim.migration.checksum().to_string());
        let core_version = claim.core_version;
        tx.execute(&insert, &[&version, &name, &checksum, &core_version]).await?;
    }
    for row in &rerecord.moved {
        tx.execute(include_str!("sql/layout_drop_moved.sql"), &[&row.version, &row.checksum.to_string()]).await?;
    }
    for (row, checksum) in &rerecord.split {
        let (old, new) = (row.checksum.to_string(), checksum.to_string());
        tx.execute(include_str!("sql/layout_rechecksum_split.sql"), &[&row.version, &old, &new]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(version: i32, checksum: u64, name: &str) -> Migration {
        let sql = format!("-- note\n{MARKER}{version} checksum {checksum}\nSELECT 1;");
        Migration::unapplied(name, &sql).unwrap()
    }

    #[test]
    fn re_records_exact_old_checksums_only() {
        let core = vec![
            Migration::unapplied("V1__a", "SELECT 1").unwrap(),
            Migration::unapplied("V3__c", "SELECT 3").unwrap(),
        ];
        let pack = vec![moved(2, 22, "V1__b"), moved(3, 33, "V2__c_part")];
        let parts = [SharedPart { blueprint: "widgets", migrations: &pack }];
        let old = [
            Applied { version: 1, checksum: core[0].checksum() },
            Applied { version: 2, checksum: 22 },
            Applied { version: 3, checksum: 33 },
        ];
        let plan = plan(&old, &core, &parts).unwrap();
        assert_eq!(plan.moved, vec![old[1]]);
        assert_eq!(plan.split, vec![(old[2], core[1].checksum())]);
        assert_eq!(plan.adopted.len(), 2);
        let after = plan.core_after(&old);
        assert_eq!(after.iter().map(|a| a.version).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(plan.blueprint_after("widgets", &[]).len(), 2);

        let unknown = [Applied { version: 2, checksum: 23 }];
        let error = super::plan(&unknown, &core, &parts).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&error), crate::error::ExitCode::BadInput);
        assert!(super::plan(&old[..1], &core, &parts).unwrap().is_empty());
    }
}
