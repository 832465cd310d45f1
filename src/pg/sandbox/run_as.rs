//! Who runs the PostgreSQL tools. `initdb` and `postgres` refuse to run as
//! root, so as root they run as an unprivileged user through `runuser`
//! (else `su`), and the sandbox root is handed to that user.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result};

use super::cluster::last_line;
use super::SUPERUSER;
use crate::error::{failed, unavailable};
use crate::pg::tools::is_executable;

/// Who runs the PostgreSQL tools: ourselves, or, when we are root (which
/// initdb and postgres refuse), an unprivileged user.
pub(super) enum RunAs {
    Me,
    User { name: String, uid: u32, runuser: Option<PathBuf> },
}

impl RunAs {
    pub(super) fn detect(os_user: Option<&str>) -> Result<RunAs> {
        if !running_as_root() {
            return Ok(RunAs::Me);
        }
        let name = os_user.unwrap_or(SUPERUSER).to_string();
        let uid = user_uid(&name)?;
        if uid == 0 {
            return Err(unavailable(format!(
                "the sandbox cannot run as {name}: PostgreSQL refuses to run with root privileges; pass --sandbox-user with an unprivileged user, or --database-url"
            )));
        }
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| is_executable(p));
        Ok(RunAs::User { name, uid, runuser })
    }

    /// A command running `program args…` as this user.
    pub(super) fn command(&self, program: &OsStr, args: &[&OsStr]) -> Command {
        match self {
            RunAs::Me => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            RunAs::User { name, runuser: Some(runuser), .. } => {
                let mut command = Command::new(runuser);
                command.args(["-u", name, "--"]).arg(program).args(args);
                command
            }
            RunAs::User { name, runuser: None, .. } => {
                // su takes one shell command line, so every word is quoted.
                let mut line = shell_quote(program);
                for arg in args {
                    line.push(" ");
                    line.push(shell_quote(arg));
                }
                let mut command = Command::new("su");
                command.args(["-s", "/bin/sh", "-c"]).arg(line).arg(name);
                command
            }
        }
    }

    /// Runs a tool to completion in `dir`, capturing its output. The working
    /// directory matters: the user may not be able to enter ours (/root).
    pub(super) fn run(&self, program: &Path, args: &[&OsStr], dir: &Path) -> Result<Output> {
        self.command(program.as_os_str(), args)
            .current_dir(dir)
            .output()
            .with_context(|| format!("cannot run {}", program.display()))
    }
}

/// The effective uid is what matters; `/proc/self` is owned by it.
fn running_as_root() -> bool {
    if let Ok(meta) = fs::metadata("/proc/self") {
        return meta.uid() == 0;
    }
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn user_uid(name: &str) -> Result<u32> {
    let output = Command::new("id").args(["-u", "--", name]).output().context("cannot run id")?;
    let uid = String::from_utf8_lossy(&output.stdout).trim().parse().ok();
    match uid {
        Some(uid) if output.status.success() => Ok(uid),
        _ => Err(unavailable(format!(
            "the sandbox runs PostgreSQL as user {name} when provision runs as root, but there is no such user; create it (e.g. useradd --system {name}), pass --sandbox-user with another unprivileged user, or pass --database-url"
        ))),
    }
}

pub(super) fn chown_tree(root: &Path, user: &str) -> Result<()> {
    // `user:` also sets the group to the user's login group.
    let output =
        Command::new("chown").arg("-R").arg(format!("{user}:")).arg(root).output().context("cannot run chown")?;
    if output.status.success() {
        return Ok(());
    }
    Err(failed(format!(
        "cannot hand {} to the sandbox user {user}: {}",
        root.display(),
        last_line(&output).unwrap_or_else(|| output.status.to_string())
    )))
}

/// Single-quotes a word for `/bin/sh`.
pub(super) fn shell_quote(word: &OsStr) -> OsString {
    let mut quoted = b"'".to_vec();
    for &byte in word.as_bytes() {
        if byte == b'\'' {
            quoted.extend_from_slice(b"'\\''");
        } else {
            quoted.push(byte);
        }
    }
    quoted.push(b'\'');
    OsString::from_vec(quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_escapes_single_quotes() {
        assert_eq!(shell_quote(OsStr::new("a'b c")), OsString::from("'a'\\''b c'"));
    }
}
