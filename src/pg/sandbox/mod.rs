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

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;

use crate::error::{failed, unavailable};
use crate::pg::connection::Target;

/// The port in the socket file name. The socket directory is private, so
/// the standard port never clashes with another server.
pub const PORT: u16 = 5432;
/// The cluster's superuser (`initdb -U`).
pub const SUPERUSER: &str = "postgres";
/// The database `provision` works in; created on first start.
pub const DATABASE: &str = "provision";

const LOCK_FILE: &str = "sandbox.lock";
/// How long to wait for another process that is starting or stopping the
/// same sandbox; a first `initdb` plus start takes a few seconds.
const LOCK_WAIT: Duration = Duration::from_secs(120);
/// `sun_path` is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_WAIT: &str = "60";
/// Lines of `server.log` quoted when the server does not start.
const LOG_TAIL: usize = 10;

const MISSING_BINARIES: &str = "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in pg_config --bindir or /usr/lib/postgresql/*/bin; install PostgreSQL (e.g. apt-get install postgresql) or pass --database-url";

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
        Sandbox { root, os_user }
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
        let host = percent_encode(self.socket_dir().as_os_str().as_bytes());
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
        let binaries = Binaries::find()?;
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

    /// Takes the exclusive sandbox lock, waiting up to [`LOCK_WAIT`]. With
    /// `create` false a missing root means there is nothing to lock: `None`.
    fn lock(&self, create: bool) -> Result<Option<File>> {
        let path = self.root.join(LOCK_FILE);
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            if create {
                create_private_dir(&self.root, true)?;
            } else if !self.root.exists() {
                return Ok(None);
            }
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .with_context(|| format!("cannot open the sandbox lock {}", path.display()))?;
            match file.try_lock() {
                // `destroy` in another process may have removed the root while
                // we waited; a lock on the deleted file protects nothing.
                Ok(()) if is_same_file(&file, &path) => return Ok(Some(file)),
                Ok(()) => continue,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(unavailable(format!(
                        "another provision process has been starting or stopping the sandbox in {} for over {}s (lock {}); try again later",
                        self.root.display(),
                        LOCK_WAIT.as_secs(),
                        path.display()
                    )))
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()))
                }
            }
        }
    }

    /// Creates `run/`, clears a leftover staging dir and, as root, hands the
    /// tree to the server user and checks that user can reach it.
    fn prepare_layout(&self, run_as: &RunAs) -> Result<()> {
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
    fn initdb(&self, binaries: &Binaries, run_as: &RunAs) -> Result<()> {
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
    fn start_postmaster(&self, binaries: &Binaries, run_as: &RunAs) -> Result<()> {
        if self.live_postmaster()?.is_some() {
            // Alive but without our socket (e.g. the directory was moved):
            // restart it so the socket lands where `target()` looks.
            self.pg_ctl_stop(binaries, run_as)?;
        }
        self.remove_stale_lock_files()?;
        let options = self.server_options();
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
    fn server_options(&self) -> OsString {
        let mut options = OsString::from("-k ");
        options.push(shell_quote(self.socket_dir().as_os_str()));
        options.push(format!(
            " -c listen_addresses='' -p {PORT} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ));
        options
    }

    /// Stops the server if a postmaster is alive; the caller holds the lock.
    fn stop_locked(&self) -> Result<bool> {
        if self.live_postmaster()?.is_none() {
            return Ok(false);
        }
        let binaries = Binaries::find()?;
        let run_as = RunAs::detect(self.os_user.as_deref())?;
        self.pg_ctl_stop(&binaries, &run_as)?;
        Ok(true)
    }

    fn pg_ctl_stop(&self, binaries: &Binaries, run_as: &RunAs) -> Result<()> {
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

/// The directory holding both `initdb` and `pg_ctl`. Both come from one
/// directory so a cluster is never made by one version and run by another.
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

impl Binaries {
    fn find() -> Result<Binaries> {
        candidate_dirs()
            .into_iter()
            .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl")))
            .map(|dir| Binaries { initdb: dir.join("initdb"), pg_ctl: dir.join("pg_ctl") })
            .ok_or_else(|| unavailable(MISSING_BINARIES))
    }
}

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

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Who runs the PostgreSQL tools: ourselves, or, when we are root (which
/// initdb and postgres refuse), an unprivileged user.
enum RunAs {
    Me,
    User { name: String, uid: u32, runuser: Option<PathBuf> },
}

impl RunAs {
    fn detect(os_user: Option<&str>) -> Result<RunAs> {
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
    fn command(&self, program: &OsStr, args: &[&OsStr]) -> Command {
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
    fn run(&self, program: &Path, args: &[&OsStr], dir: &Path) -> Result<Output> {
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

fn chown_tree(root: &Path, user: &str) -> Result<()> {
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

/// Creates `dir` with mode 0700 (and, with `parents`, any missing parents
/// with the default mode), then enforces 0700 in case it already existed.
fn create_private_dir(dir: &Path, parents: bool) -> Result<()> {
    if parents {
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot make {} private", dir.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
}

fn is_same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `pid` is a live PostgreSQL process. On Linux the command line
/// tells a postmaster from an unrelated process that reused the pid, and a
/// zombie (an empty command line) from a live one.
fn is_postgres_process(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return fs::read(format!("/proc/{pid}/cmdline"))
            .map(|cmdline| cmdline.windows(8).any(|w| w == b"postgres"))
            .unwrap_or(false);
    }
    Command::new("kill").args(["-0", &pid.to_string()]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Single-quotes a word for `/bin/sh`.
fn shell_quote(word: &OsStr) -> OsString {
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

/// Percent-encodes everything but unreserved characters and `/`.
fn percent_encode(bytes: &[u8]) -> String {
    let mut encoded = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The last non-empty line of a tool's stderr, else its stdout.
fn last_line(output: &Output) -> Option<String> {
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
    fn shell_quote_escapes_single_quotes() {
        assert_eq!(shell_quote(OsStr::new("a'b c")), OsString::from("'a'\\''b c'"));
    }

    #[test]
    fn long_roots_are_refused() {
        let sandbox = Sandbox::new(format!("/tmp/{}", "x".repeat(100)), None);
        let error = sandbox.check_socket_path().unwrap_err().to_string();
        assert!(error.contains("107-byte limit"), "{error}");
    }
}
