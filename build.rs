//! Two jobs, both for things cargo cannot see by itself:
//!
//! - The binary embeds the shipped blueprint packs (`include_dir!` over
//!   `templates/`) and provision's own migrations (refinery's
//!   `embed_migrations!` over `migrations/`) through macros, whose inputs
//!   cargo does not track: an edited template or a new migration left a stale
//!   binary until some Rust file changed. Naming both directories here makes
//!   cargo rebuild when anything under them changes.
//! - `provision --version` names the commit and the build date
//!   (`PROVISION_GIT_COMMIT`, `PROVISION_BUILD_DATE`). A build without git
//!   or without `.git` (`cargo install` from a tarball) says `unknown`; this
//!   script never fails the build. The date honours `SOURCE_DATE_EPOCH`, for
//!   reproducible builds.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let commit = git_commit(Path::new(&root)).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PROVISION_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=PROVISION_BUILD_DATE={}", civil_date(build_epoch()));
}

/// The short hash of HEAD, when this source tree is a git checkout and git
/// runs. Only this tree's own `.git` counts: a tarball unpacked inside some
/// other repository must not take that repository's commit.
///
/// Watches the file HEAD is in and the loose ref it points to (both found
/// through git, so a linked worktree, whose `.git` is a file, works too):
/// a commit or a checkout reruns this script, an ordinary build does not.
/// A path that does not exist is not watched, since cargo would rerun on
/// every build for it.
fn git_commit(root: &Path) -> Option<String> {
    if !root.join(".git").exists() {
        return None;
    }
    let commit = git(root, &["rev-parse", "--short", "HEAD"])?;
    let mut watched = vec![git(root, &["rev-parse", "--git-path", "HEAD"])?];
    if let Some(reference) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(root, &["rev-parse", "--git-path", &reference]));
    }
    watched.extend(git(root, &["rev-parse", "--git-path", "packed-refs"]));
    for path in watched {
        let path = root.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(commit)
}

/// One line of git's output, or None when git is missing or fails.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(root).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.trim();
    (out.status.success() && !line.is_empty()).then(|| line.to_owned())
}

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when it is set and a
/// number, else now.
fn build_epoch() -> i64 {
    let fixed = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse().ok());
    fixed.unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64))
}

/// `YYYY-MM-DD` (UTC) of a Unix time: Howard Hinnant's `civil_from_days`,
/// so the build script needs no date crate.
fn civil_date(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
