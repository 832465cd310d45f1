//! Finding PostgreSQL's programs on this machine: the server binaries the
//! sandbox runs (`initdb`, `pg_ctl`) and the `pg_dump` a backup runs. Both
//! look in the same places, in the same order, so one answer holds for all.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Result;

use crate::error::unavailable;

const MISSING_SERVER_BINARIES: &str = "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in pg_config --bindir or /usr/lib/postgresql/*/bin; install PostgreSQL (e.g. apt-get install postgresql) or pass --database-url";

/// PATH first (the user's choice), then `pg_config --bindir`, then the
/// Debian/Ubuntu layout, newest major version first.
pub fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let bindir = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if output.status.success() && !bindir.is_empty() {
            dirs.push(PathBuf::from(bindir));
        }
    }
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.split('.').map(|part| part.parse().ok()).collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    dirs
}

/// A regular file with an execute bit set.
pub fn is_executable(path: &Path) -> bool {
    fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The directory holding both `initdb` and `pg_ctl`. Both come from one
/// directory so a cluster is never made by one version and run by another.
pub(crate) struct ServerBinaries {
    pub(crate) initdb: PathBuf,
    pub(crate) pg_ctl: PathBuf,
}

impl ServerBinaries {
    /// Whether the server's package library directory (`<bin>/../lib`, as
    /// Debian and the PGDG packages lay it out) holds `name`.so, so that it
    /// can be preloaded. `pg_ctl` may be a symlink (/usr/local/bin on some
    /// machines): its real directory counts.
    pub(crate) fn has_library(&self, name: &str) -> bool {
        let real = fs::canonicalize(&self.pg_ctl).unwrap_or_else(|_| self.pg_ctl.clone());
        let lib = real.parent().and_then(Path::parent).map(|dir| dir.join("lib").join(format!("{name}.so")));
        lib.is_some_and(|path| path.is_file())
    }

    /// The first candidate directory with both; exit 3 when there is none.
    pub(crate) fn find() -> Result<ServerBinaries> {
        candidate_dirs()
            .into_iter()
            .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl")))
            .map(|dir| ServerBinaries { initdb: dir.join("initdb"), pg_ctl: dir.join("pg_ctl") })
            .ok_or_else(|| unavailable(MISSING_SERVER_BINARIES))
    }
}

const MISSING_PG_DUMP: &str =
    "pg_dump not found on PATH, in pg_config --bindir or /usr/lib/postgresql/*/bin; install the PostgreSQL client (pg_dump)";

/// The `pg_dump` programs this machine has, with their major versions.
#[derive(Debug)]
pub struct PgDump {
    found: Vec<Found>,
}

#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) path: PathBuf,
    pub(crate) major: u32,
    pub(crate) version: String,
}

impl PgDump {
    /// Looks where [`ServerBinaries::find`] looks: `PATH`, `pg_config
    /// --bindir`, then `/usr/lib/postgresql/*/bin`. Exit 3 when there is
    /// none; `alternative` ends that message (e.g. "or pass --no-backup").
    pub fn find(alternative: Option<&str>) -> Result<PgDump> {
        let mut found: Vec<Found> = Vec::new();
        let mut seen: Vec<PathBuf> = Vec::new();
        for dir in candidate_dirs() {
            let path = dir.join("pg_dump");
            if !is_executable(&path) {
                continue;
            }
            let real = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            if let Some((major, version)) = version_of(&path) {
                found.push(Found { path, major, version });
            }
        }
        if found.is_empty() {
            return Err(unavailable(match alternative {
                Some(alternative) => format!("{MISSING_PG_DUMP} {alternative}"),
                None => MISSING_PG_DUMP.to_owned(),
            }));
        }
        Ok(PgDump { found })
    }

    /// The first pg_dump (in search order) able to dump a server of major
    /// version `server`: pg_dump refuses servers newer than itself.
    pub(crate) fn for_server(&self, server: u32) -> Result<&Found> {
        self.found.iter().find(|f| f.major >= server).ok_or_else(|| {
            let versions: Vec<String> =
                self.found.iter().map(|f| format!("{} ({})", f.path.display(), f.version)).collect();
            unavailable(format!(
                "the server runs PostgreSQL {server} but the only pg_dump found is older: {}; install the PostgreSQL {server} client",
                versions.join(", ")
            ))
        })
    }
}

/// `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` -> (15, "15.18").
fn version_of(path: &Path) -> Option<(u32, String)> {
    let output = Command::new(path).arg("--version").stdin(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

fn parse_version(text: &str) -> Option<(u32, String)> {
    let version = text.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let major = version.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    Some((major, version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"), Some((15, "15.18".into())));
        assert_eq!(parse_version("pg_dump (PostgreSQL) 17beta1"), Some((17, "17beta1".into())));
        assert_eq!(parse_version("pg_dump (PostgreSQL) 9.6.24"), Some((9, "9.6.24".into())));
        assert_eq!(parse_version("nothing"), None);
    }
}
