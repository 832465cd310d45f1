//! The embedded default: a private PostgreSQL cluster under `.provision/`.
//!
//! When no database URL and no `PG*` variables are given, `provision` should
//! still work out of the box, so it starts its own server in `.provision/`
//! under the current directory and reuses it on later runs. The test suite
//! uses the same code to start one throwaway cluster per test binary in a
//! temporary directory, which is why everything takes an arbitrary root and
//! favours speed over durability.
//!
//! Layout under the root directory (all directories mode 0700):
//!
//! - `data/`: the cluster (`initdb` output),
//! - `run/`: the Unix socket directory; the server listens on nothing else,
//! - `server.log`: the server's log, quoted when it fails to start,
//! - `sandbox.lock`: held while starting, stopping or destroying, so two
//!   `provision` processes never both run `initdb` or `pg_ctl`.
//!
//! `initdb` refuses to run as root, so when we are root the tools run as an
//! unprivileged user (`--sandbox-user`, default `postgres`) who owns the root.
//!
//! Here: the paths, status, start, stop and destroy. The lock is in
//! [`lock`], `initdb` and `pg_ctl` in [`cluster`], running as that user in
//! [`run_as`]; finding the binaries is [`crate::pg::tools`]'s job.

mod cluster;
mod lock;
mod run_as;

use std::fmt;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;

use crate::error::{failed, unavailable};
use crate::pg::connection::url::percent_encode;
use crate::pg::connection::Target;
use crate::pg::tools::ServerBinaries;
use cluster::is_postgres_process;
use run_as::RunAs;

/// The port in the socket file name. The socket directory is private, so
/// the standard port never clashes with another server.
pub const PORT: u16 = 5432;
/// The cluster's superuser (`initdb -U`).
pub const SUPERUSER: &str = "postgres";
/// The database `provision` works in; created on first start.
pub const DATABASE: &str = "provision";

/// `sun_path` is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// What [`Sandbox::status`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxStatus {
    /// There is no initialized cluster under the root.
    NotCreated,
    /// The cluster exists but no server is serving it.
    Stopped,
    /// A live postmaster serves the cluster through our socket directory.
    Running { pid: u32, port: u16 },
}

/// What [`Sandbox::start`] had to do; all false when it reused a running server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Started {
    /// `initdb` created the cluster.
    pub initialized: bool,
    /// The server was started (it was not running).
    pub started: bool,
    /// The database `provision` was created.
    pub created_database: bool,
}

impl Started {
    /// True when anything was created or started.
    pub fn changed(&self) -> bool {
        self.initialized || self.started || self.created_database
    }
}

/// A short phrase for messages: "initialized, started, created database
/// provision", or "already running" when the server was reused.
impl fmt::Display for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done = [
            (self.initialized, "initialized"),
            (self.started, "started"),
            (self.created_database, "created database provision"),
        ];
        let parts: Vec<&str> = done.iter().filter(|(did, _)| *did).map(|(_, what)| *what).collect();
        if parts.is_empty() {
            return f.write_str("already running");
        }
        f.write_str(&parts.join(", "))
    }
}

/// A private PostgreSQL cluster rooted at one directory.
#[derive(Debug, Clone)]
pub struct Sandbox {
    root: PathBuf,
    os_user: Option<String>,
    /// Preload pgaudit when installed (see [`Sandbox::without_read_audit`]).
    read_audit: bool,
}

impl Sandbox {
    /// A sandbox whose files live in `root` (made absolute, since the socket
    /// path ends up in URLs). `os_user` is who runs the server when we are
    /// root (default `postgres`); ignored otherwise.
    ///
    /// As root, every parent of `root` must be searchable by that user
    /// (`start` checks and says so). A temp dir made 0700 can still serve as
    /// the root itself, since the root is chowned to that user.
    pub fn new(root: impl Into<PathBuf>, os_user: Option<String>) -> Sandbox {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        Sandbox { root, os_user, read_audit: true }
    }

    /// Starts the server without pgaudit even where it is installed: for
    /// tests of provision on a server that cannot audit reads.
    pub fn without_read_audit(self) -> Sandbox {
        Sandbox { read_audit: false, ..self }
    }

    /// The sandbox of a project directory: `dir/.provision`.
    pub fn in_dir(dir: &Path, os_user: Option<String>) -> Sandbox {
        Sandbox::new(dir.join(".provision"), os_user)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Where `initdb` writes before the result is renamed to `data/`, so an
    /// interrupted `initdb` never leaves a half-made cluster behind.
    fn staging_dir(&self) -> PathBuf {
        self.root.join("data.init")
    }

    fn socket_file(&self) -> PathBuf {
        self.socket_dir().join(format!(".s.PGSQL.{PORT}"))
    }

    /// The database `provision` on the sandbox server.
    pub fn target(&self) -> Target {
        Target::socket(&self.socket_dir(), PORT, SUPERUSER, DATABASE)
    }

    /// The maintenance database `postgres` on the sandbox server.
    pub fn admin_target(&self) -> Target {
        Target::socket(&self.socket_dir(), PORT, SUPERUSER, "postgres")
    }

    /// A URL for the sandbox that psql and tokio-postgres both understand;
    /// the socket directory goes in the `host` parameter.
    pub fn url(&self) -> String {
        let host = percent_encode(self.socket_dir().as_os_str().as_bytes(), "/");
        format!("postgresql://{SUPERUSER}@/{DATABASE}?host={host}&port={PORT}")
    }

    /// Reads the state from the files alone; takes no lock and runs nothing.
    pub fn status(&self) -> Result<SandboxStatus> {
        if !self.is_initialized() {
            return Ok(SandboxStatus::NotCreated);
        }
        // A postmaster that lost its socket (say the project directory was
        // moved while it ran) cannot be reached through `target()`.
        match self.live_postmaster()? {
            Some((pid, port)) if self.socket_file().exists() => Ok(SandboxStatus::Running { pid, port }),
            _ => Ok(SandboxStatus::Stopped),
        }
    }

    /// Makes sure the server runs and has the database `provision`: runs
    /// `initdb` if there is no cluster, starts the server if it is stopped,
    /// creates the database if it is missing. Idempotent and safe to call
    /// from several processes at once.
    pub async fn start(&self) -> Result<Started> {
        let this = self.clone();
        // Process calls and the lock wait block, so keep them off the runtime.
        let (lock, mut started) = tokio::task::spawn_blocking(move || this.start_server())
            .await
            .context("the sandbox start task panicked")??;
        // Still holding the lock, so concurrent starts create the database once.
        started.created_database = self.ensure_database().await?;
        drop(lock);
        Ok(started)
    }

    /// Stops the server (`pg_ctl stop -m fast`); `Ok(false)` if it was not
    /// running. Blocking (well under a second for a sandbox), like `status`.
    pub fn stop(&self) -> Result<bool> {
        let Some(_lock) = self.lock(false)? else {
            return Ok(false);
        };
        self.stop_locked()
    }

    /// Stops the server and removes the whole root directory. Blocking on
    /// purpose, so tests can call it from `Drop`.
    pub fn destroy(&self) -> Result<()> {
        let Some(lock) = self.lock(false)? else {
            return Ok(());
        };
        self.stop_locked()?;
        fs::remove_dir_all(&self.root).with_context(|| format!("cannot remove the sandbox {}", self.root.display()))?;
        drop(lock);
        Ok(())
    }

    /// The blocking half of [`Sandbox::start`]; returns the held lock.
    fn start_server(&self) -> Result<(File, Started)> {
        // Checks that need nothing on disk come first, so a failure leaves no trace.
        let binaries = ServerBinaries::find()?;
        self.check_socket_path()?;
        let run_as = RunAs::detect(self.os_user.as_deref())?;
        let lock = self.lock(true)?.context("the sandbox lock was not created")?;
        self.prepare_layout(&run_as)?;
        let mut started = Started::default();
        if !self.is_initialized() {
            self.initdb(&binaries, &run_as)?;
            started.initialized = true;
        }
        if !matches!(self.status()?, SandboxStatus::Running { .. }) {
            self.start_postmaster(&binaries, &run_as)?;
            started.started = true;
        }
        Ok((lock, started))
    }

    fn is_initialized(&self) -> bool {
        self.data_dir().join("PG_VERSION").is_file()
    }

    fn check_socket_path(&self) -> Result<()> {
        let socket = self.socket_file();
        let length = socket.as_os_str().len();
        if length > MAX_SOCKET_PATH {
            return Err(unavailable(format!(
                "the sandbox socket path {} is {length} bytes, over the {MAX_SOCKET_PATH}-byte limit for Unix sockets; run provision from a directory with a shorter path or pass --database-url",
                socket.display()
            )));
        }
        Ok(())
    }

    /// The postmaster named in `postmaster.pid`, if that process is alive.
    /// After a crash the file stays behind, so the pid alone proves nothing.
    fn live_postmaster(&self) -> Result<Option<(u32, u16)>> {
        let path = self.data_dir().join("postmaster.pid");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        // Line 1 is the pid, line 4 the port; a half-written file counts as absent.
        let mut lines = text.lines();
        let pid = lines.next().and_then(|l| l.trim().parse::<u32>().ok());
        let port = lines.nth(2).and_then(|l| l.trim().parse::<u16>().ok());
        match (pid, port) {
            (Some(pid), Some(port)) if is_postgres_process(pid) => Ok(Some((pid, port))),
            _ => Ok(None),
        }
    }

    /// Creates the database `provision` if missing; true when it did.
    async fn ensure_database(&self) -> Result<bool> {
        let client = self.admin_target().connect().await?;
        let found = client
            .query_opt("select 1 from pg_database where datname = $1", &[&DATABASE])
            .await
            .context("cannot list the sandbox databases")?;
        if found.is_some() {
            return Ok(false);
        }
        match client.batch_execute(&format!("CREATE DATABASE {DATABASE}")).await {
            Ok(()) => Ok(true),
            // Someone outside our lock (a person with psql) got there first.
            Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => Ok(false),
            Err(e) => Err(failed(format!("cannot create the sandbox database {DATABASE}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encodes_the_socket_dir() {
        let sandbox = Sandbox::new("/tmp/my project/.provision", None);
        assert_eq!(sandbox.url(), "postgresql://postgres@/provision?host=/tmp/my%20project/.provision/run&port=5432");
    }

    #[test]
    fn started_reads_as_a_phrase() {
        assert_eq!(Started::default().to_string(), "already running");
        let fresh = Started { initialized: true, started: true, created_database: true };
        assert_eq!(fresh.to_string(), "initialized, started, created database provision");
    }

    #[test]
    fn long_roots_are_refused() {
        let sandbox = Sandbox::new(format!("/tmp/{}", "x".repeat(100)), None);
        let error = sandbox.check_socket_path().unwrap_err().to_string();
        assert!(error.contains("107-byte limit"), "{error}");
    }
}
