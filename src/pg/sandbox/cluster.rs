//! The cluster on disk and its server: laying out the root, `initdb`, and
//! starting and stopping the postmaster with `pg_ctl`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result};

use super::lock::create_private_dir;
use super::run_as::{chown_tree, shell_quote, RunAs};
use super::{Sandbox, PORT, SUPERUSER};
use crate::error::{failed, unavailable};
use crate::pg::tools::ServerBinaries;

/// The extension that audits reads (store/read_audit.rs), preloaded when installed.
const READ_AUDIT_LIBRARY: &str = "pgaudit";

/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_WAIT: &str = "60";
/// Lines of a failing tool's output or the server log quoted in errors.
const LOG_TAIL: usize = 10;

impl Sandbox {
    /// Creates `run/`, clears a leftover staging dir and, as root, hands the
    /// tree to the server user and checks that user can reach it.
    pub(super) fn prepare_layout(&self, run_as: &RunAs) -> Result<()> {
        create_private_dir(&self.socket_dir(), false)?;
        // Keeps the cluster out of git without the user editing .gitignore.
        let ignore = self.root.join(".gitignore");
        if !ignore.exists() {
            fs::write(&ignore, "*\n").with_context(|| format!("cannot write {}", ignore.display()))?;
        }
        let staging = self.staging_dir();
        if staging.exists() {
            fs::remove_dir_all(&staging).with_context(|| format!("cannot remove {}", staging.display()))?;
        }
        if let RunAs::User { name, uid, .. } = run_as {
            if self.needs_chown(*uid)? {
                chown_tree(&self.root, name)?;
            }
            self.check_reachable(run_as, name)?;
        }
        Ok(())
    }

    fn needs_chown(&self, uid: u32) -> Result<bool> {
        for path in [self.root.clone(), self.socket_dir(), self.data_dir(), self.log_file()] {
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.uid() != uid => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
            }
        }
        Ok(false)
    }

    /// Owning the root is not enough: every parent must be searchable too
    /// (a project under /root, mode 0700, is not). Asking the user directly
    /// turns initdb's obscure failure into an error that says what to do.
    fn check_reachable(&self, run_as: &RunAs, name: &str) -> Result<()> {
        let args = [OsStr::new("-w"), self.root.as_os_str()];
        let output = run_as.command(OsStr::new("test"), &args).output();
        match output {
            Ok(output) if output.status.success() => Ok(()),
            _ => Err(unavailable(format!(
                "the sandbox user {name} cannot write to {} (a parent directory is probably not searchable by {name}); run provision from a directory {name} can reach, or pass --sandbox-user or --database-url",
                self.root.display()
            ))),
        }
    }

    /// Creates the cluster in a staging dir and renames it into place.
    pub(super) fn initdb(&self, binaries: &ServerBinaries, run_as: &RunAs) -> Result<()> {
        let staging = self.staging_dir();
        // `-A trust` is safe here: the only way in is the socket in `run/`,
        // which (like the root) is mode 0700, so only its owner and root can
        // connect. `--no-sync` because the sandbox is throwaway.
        let args: [&OsStr; 10] = [
            "-D".as_ref(),
            staging.as_os_str(),
            "-U".as_ref(),
            SUPERUSER.as_ref(),
            "-A".as_ref(),
            "trust".as_ref(),
            "--no-sync".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
            "--locale=C".as_ref(),
        ];
        let output = run_as.run(&binaries.initdb, &args, &self.root)?;
        if !output.status.success() {
            return Err(failed(format!(
                "initdb failed for the sandbox in {}:{}",
                self.root.display(),
                indented_tail(&String::from_utf8_lossy(&output.stderr), LOG_TAIL)
            )));
        }
        fs::rename(&staging, self.data_dir()).with_context(|| format!("cannot move {} into place", staging.display()))
    }

    /// Starts the server on our private socket. A stale `postmaster.pid` left
    /// by a crash is pg_ctl's and the server's business: both check the pid.
    pub(super) fn start_postmaster(&self, binaries: &ServerBinaries, run_as: &RunAs) -> Result<()> {
        if self.live_postmaster()?.is_some() {
            // Alive but without our socket (e.g. the directory was moved):
            // restart it so the socket lands where `target()` looks.
            self.pg_ctl_stop(binaries, run_as)?;
        }
        self.remove_stale_lock_files()?;
        let options = self.server_options(self.read_audit && binaries.has_library(READ_AUDIT_LIBRARY));
        let (data, log) = (self.data_dir(), self.log_file());
        let args: [&OsStr; 10] = [
            "-D".as_ref(),
            data.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            PG_CTL_WAIT.as_ref(),
            "-o".as_ref(),
            options.as_os_str(),
            "start".as_ref(),
        ];
        let output = run_as.run(&binaries.pg_ctl, &args, &self.root)?;
        if output.status.success() {
            return Ok(());
        }
        Err(self.start_failure(&output))
    }

    /// The summary first, then the end of `server.log` (pg_ctl's own output
    /// only says "Examine the log output"), or pg_ctl's if the log is empty.
    fn start_failure(&self, output: &Output) -> anyhow::Error {
        let log = self.log_file();
        let log_text = fs::read(&log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let (source, tail) = match indented_tail(&log_text, LOG_TAIL) {
            tail if tail.is_empty() => {
                let pg_ctl = String::from_utf8_lossy(&output.stderr);
                ("pg_ctl's output".to_string(), indented_tail(&pg_ctl, LOG_TAIL))
            }
            tail => (log.display().to_string(), tail),
        };
        unavailable(format!(
            "the sandbox PostgreSQL server in {} did not start (pg_ctl {}); last lines of {source}:{tail}",
            self.root.display(),
            output.status
        ))
    }

    /// Removes `postmaster.pid` and the socket lock file when the pid they
    /// name is not a live postgres. PostgreSQL checks those pids itself, but
    /// counts any process with that pid as the owner: an unrelated process
    /// that reused it, or the crashed postmaster as a zombie nobody reaps
    /// (containers whose PID 1 does not reap), which would block every
    /// later start. We hold the sandbox lock, so nobody is starting it.
    fn remove_stale_lock_files(&self) -> Result<()> {
        let socket_lock = self.socket_dir().join(format!(".s.PGSQL.{PORT}.lock"));
        for path in [self.data_dir().join("postmaster.pid"), socket_lock] {
            let pid = match fs::read_to_string(&path) {
                Ok(text) => text.lines().next().and_then(|l| l.trim().parse::<u32>().ok()),
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            if !pid.is_some_and(is_postgres_process) {
                fs::remove_file(&path).with_context(|| format!("cannot remove the stale {}", path.display()))?;
            }
        }
        Ok(())
    }

    /// Server options for `pg_ctl -o`, which pg_ctl hands to `/bin/sh`, so
    /// the socket path is shell-quoted. No TCP (`listen_addresses=''`), and
    /// no durability: fsync and friends are off because the sandbox is a
    /// throwaway development and test database, never the real one.
    /// pgaudit is preloaded when it is installed, so blueprints that audit
    /// reads (`[audit] reads`) are audited here as in production.
    /// `wal_level = logical`: `tenant move` publishes a tenant from here.
    fn server_options(&self, preload_pgaudit: bool) -> OsString {
        let mut options = OsString::from("-k ");
        options.push(shell_quote(self.socket_dir().as_os_str()));
        options.push(format!(
            " -c listen_addresses='' -p {PORT} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=logical"
        ));
        if preload_pgaudit {
            options.push(format!(" -c shared_preload_libraries={READ_AUDIT_LIBRARY}"));
        }
        options
    }

    /// Stops the server if a postmaster is alive; the caller holds the lock.
    pub(super) fn stop_locked(&self) -> Result<bool> {
        if self.live_postmaster()?.is_none() {
            return Ok(false);
        }
        let binaries = ServerBinaries::find()?;
        let run_as = RunAs::detect(self.os_user.as_deref())?;
        self.pg_ctl_stop(&binaries, &run_as)?;
        Ok(true)
    }

    pub(super) fn pg_ctl_stop(&self, binaries: &ServerBinaries, run_as: &RunAs) -> Result<()> {
        let data = self.data_dir();
        let args: [&OsStr; 8] = [
            "-D".as_ref(),
            data.as_os_str(),
            "-m".as_ref(),
            "fast".as_ref(),
            "-w".as_ref(),
            "-t".as_ref(),
            PG_CTL_WAIT.as_ref(),
            "stop".as_ref(),
        ];
        let output = run_as.run(&binaries.pg_ctl, &args, &self.root)?;
        // It may have exited on its own between our check and pg_ctl's.
        if output.status.success() || self.live_postmaster()?.is_none() {
            return Ok(());
        }
        Err(failed(format!(
            "cannot stop the sandbox PostgreSQL server in {}: {}",
            self.root.display(),
            last_line(&output).unwrap_or_else(|| output.status.to_string())
        )))
    }
}

/// Whether `pid` is a live PostgreSQL process. On Linux the command line
/// tells a postmaster from an unrelated process that reused the pid, and a
/// zombie (an empty command line) from a live one.
pub(super) fn is_postgres_process(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return fs::read(format!("/proc/{pid}/cmdline"))
            .map(|cmdline| cmdline.windows(8).any(|w| w == b"postgres"))
            .unwrap_or(false);
    }
    Command::new("kill").args(["-0", &pid.to_string()]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// The last non-empty line of a tool's stderr, else its stdout.
pub(super) fn last_line(output: &Output) -> Option<String> {
    [&output.stderr, &output.stdout].into_iter().find_map(|stream| {
        String::from_utf8_lossy(stream).lines().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim().to_string())
    })
}

/// The last `count` non-empty lines of `text`, each on its own indented line.
fn indented_tail(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(count);
    lines[start..].iter().map(|line| format!("\n  {line}")).collect()
}
