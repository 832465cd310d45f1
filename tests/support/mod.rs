//! Test harness: one throwaway PostgreSQL per test binary, one database per
//! test, and a fluent runner for the real `provision` binary.
//!
//! With `TEST_DATABASE_URL` set, databases are created on that server instead
//! of a private cluster. Either way no test depends on a server someone
//! started by hand, and tests never share a database.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

use provision::pg::connection::Target;
use provision::pg::sandbox::Sandbox;
use tokio_postgres::Client;

/// The repository root (templates/, tenants.toml).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// provision's own variables that change what a run reads or how it waits.
const PROVISION_VARS: &[&str] = &["PROVISION_CONFIG", "PROVISION_SANDBOX_USER", "PROVISION_LOCK_TIMEOUT"];

/// Variables that would make the binary connect somewhere else or read
/// another configuration: the connection module's own list (its one
/// owner), plus provision's.
pub static CONNECTION_VARS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| provision::pg::connection::ENV_VARS.iter().chain(PROVISION_VARS).copied().collect());

/// The server all tests of this binary share.
pub struct Server {
    /// Connection string of the maintenance database (`postgres`).
    admin_url: String,
    admin: Target,
    /// Keeps the private cluster's directory alive for the process.
    _dir: Option<tempfile::TempDir>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

pub fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let admin = provision::pg::connection::resolve(Some(&url), &|_| None).unwrap().expect("a target");
            Server { admin_url: url, admin, _dir: None }
        }
        _ => start_private_cluster(),
    })
}

fn start_private_cluster() -> Server {
    let dir = reachable_tempdir("provision-test-");
    let sandbox = Sandbox::new(dir.path().join("pg"), None);
    runtime().block_on(sandbox.start()).expect("start the test cluster");
    stop_when_this_process_exits(&sandbox);
    let admin = sandbox.admin_target();
    let admin_url = sandbox.url().replace("/provision?", "/postgres?");
    Server { admin_url, admin, _dir: Some(dir) }
}

/// Test binaries never run static destructors, so a watchdog shell stops the
/// cluster once this process is gone (also after a panic or abort).
fn stop_when_this_process_exits(sandbox: &Sandbox) {
    let pid = std::process::id();
    let data = sandbox.data_dir();
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         pid=$(head -1 '{data}/postmaster.pid' 2>/dev/null) && kill -INT \"$pid\" 2>/dev/null; sleep 2; rm -rf '{root}'",
        data = data.display(),
        root = sandbox.root().parent().unwrap().display()
    );
    // Deliberately not waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    let _watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the cluster watchdog");
}

/// A temp dir the sandbox's unprivileged OS user can enter (tempfile makes
/// them 0700, and as root the server runs as `postgres`).
fn reachable_tempdir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Opens a transaction on `holder` that holds tenant `code`'s advisory lock,
/// as another provision process building that tenant would. The key comes
/// from `provision::store::lock`, its one owner; the caller ends the transaction.
pub async fn begin_holding_tenant_lock(holder: &Client, code: &str) {
    let key =
        provision::store::lock::tenant_key(&provision::model::tenant::TenantCode::parse(code).expect("a tenant code"));
    holder.batch_execute("BEGIN").await.expect("begin");
    holder.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))::text", &[&key]).await.expect("lock");
}

/// A database of its own for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
    target: Target,
}

impl TestDb {
    pub fn new() -> TestDb {
        let server = server();
        let name = format!("t_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::SeqCst));
        runtime().block_on(async {
            let admin = server.admin.connect().await.expect("connect to the test server");
            admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create the test database");
        });
        TestDb { url: with_database(&server.admin_url, &name), target: server.admin.with_dbname(&name), name }
    }

    /// Runs `f` with a fresh connection to this database.
    pub fn with<T>(&self, f: impl AsyncFnOnce(&Client) -> T) -> T {
        runtime().block_on(async {
            let client = self.target.connect().await.expect("connect to the test database");
            f(&client).await
        })
    }

    /// Runs `f` connected as another (login) role, through the real URL
    /// machinery, so tests exercise what an application login would get.
    pub fn as_login<T>(&self, login: &str, password: &str, f: impl AsyncFnOnce(&Client) -> T) -> T {
        let url = with_user(&self.url, login, password);
        runtime().block_on(async {
            let target = provision::pg::connection::resolve(Some(&url), &|_| None).unwrap().expect("a target");
            let client = target.connect().await.expect("connect as the login role");
            f(&client).await
        })
    }

    /// First column of every row, as text.
    pub fn strings(&self, sql: &str) -> Vec<String> {
        self.with(async |c| {
            let rows = c.query(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            rows.iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()).collect()
        })
    }

    pub fn scalar(&self, sql: &str) -> String {
        self.strings(sql).into_iter().next().unwrap_or_default()
    }

    pub fn execute(&self, sql: &str) {
        self.with(async |c| c.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}")));
    }

    /// Everything a schema-changing command could touch, normalised to text,
    /// so "nothing changed" is asserted on the catalog itself.
    pub fn catalog(&self) -> Vec<String> {
        self.strings(include_str!("../sql/catalog_snapshot.sql"))
    }

    /// The catalog of one schema with the schema name replaced by `S`, so two
    /// tenants (or two databases) can be compared.
    pub fn schema_catalog(&self, schema: &str) -> Vec<String> {
        let sql = include_str!("../sql/catalog_snapshot.sql");
        let rows = self.strings(&format!(
            "SELECT x FROM ({}) s(x) WHERE x LIKE '{schema}.%'",
            sql.trim_end().trim_end_matches(';')
        ));
        rows.into_iter().map(|r| r.replace(schema, "S")).collect()
    }

    /// A runner for the binary pointed at this database.
    pub fn provision(&self) -> Run {
        Run::new().env("DATABASE_URL", &self.url)
    }
}

/// Replaces the user and password of a URL (`postgresql://user@…`) or adds them.
pub fn with_user(url: &str, user: &str, password: &str) -> String {
    if !url.contains("://") {
        return format!("{url} user={user} password={password}");
    }
    let start = url.find("://").unwrap() + 3;
    let rest = &url[start..];
    let host = match rest.find('@') {
        Some(at) if rest[..at].find('/').is_none() => &rest[at + 1..],
        _ => rest,
    };
    format!("{}{user}:{password}@{host}", &url[..start])
}

/// Replaces the database of a URL (`postgresql://u@h/db?x` or key=value form).
pub fn with_database(url: &str, db: &str) -> String {
    if !url.contains("://") {
        return format!("{url} dbname={db}");
    }
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").unwrap() + 3;
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(query) = query {
        out = format!("{out}?{query}");
    }
    out
}

/// A workspace: a temp directory with a tenants.toml that points at the
/// repository's templates (or a copy the test may break).
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(tenants_toml: &str) -> Workspace {
        let dir = reachable_tempdir("provision-ws-");
        let ws = Workspace { dir };
        ws.write_config(tenants_toml);
        ws
    }

    /// The shipped tenants.toml (lic, hdfc, icici).
    pub fn shipped() -> Workspace {
        Workspace::new(&std::fs::read_to_string(repo().join("tenants.toml")).unwrap())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("tenants.toml")
    }

    /// Writes tenants.toml, pointing `templates` at the repository's.
    pub fn write_config(&self, text: &str) {
        let rest: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("templates")).collect();
        let templates = repo().join("templates").display().to_string();
        std::fs::write(self.config_path(), format!("templates = {templates:?}\n{}\n", rest.join("\n"))).unwrap();
    }

    /// Copies the repository's templates here so a test can add or break one.
    pub fn own_templates(&self) -> PathBuf {
        let target = self.path().join("templates");
        copy_dir(&repo().join("templates"), &target);
        let config = std::fs::read_to_string(self.config_path()).unwrap();
        let rest: Vec<&str> = config.lines().filter(|l| !l.trim_start().starts_with("templates")).collect();
        std::fs::write(self.config_path(), format!("templates = \"templates\"\n{}\n", rest.join("\n"))).unwrap();
        target
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A fluent runner for the real binary (after just's tests/test.rs): set
/// the arguments, environment and any expected output, then `.status(n)` or
/// `.success()` runs it and checks everything given, with a diff on failure.
///
/// ```ignore
/// db.provision().args(["tenant", "add", "BAD"]).stderr("error: …\n").status(2);
/// ```
#[must_use = "a Run does nothing until .status(n), .success() or .output()"]
pub struct Run {
    command: Command,
    stdin: Option<Vec<u8>>,
    stdout: Option<Expected>,
    stderr: Option<Expected>,
}

/// What one output stream must be.
enum Expected {
    Exact(String),
    /// Matches the whole stream (`^(?s)…$`).
    Regex(regex::Regex),
}

impl Run {
    pub fn new() -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_provision"));
        for var in CONNECTION_VARS.iter() {
            command.env_remove(var);
        }
        command.env("NO_COLOR", "1");
        Run { command, stdin: None, stdout: None, stderr: None }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Run {
        self.command.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Run {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Run {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.command.env_remove(key);
        self
    }

    pub fn in_workspace(mut self, ws: &Workspace) -> Run {
        self.command.current_dir(ws.path());
        self
    }

    pub fn stdin(mut self, input: &str) -> Run {
        self.stdin = Some(input.as_bytes().to_vec());
        self
    }

    /// Stdout must be exactly `text`.
    pub fn stdout(mut self, text: &str) -> Run {
        self.stdout = Some(Expected::Exact(text.to_owned()));
        self
    }

    /// Stderr must be exactly `text`.
    pub fn stderr(mut self, text: &str) -> Run {
        self.stderr = Some(Expected::Exact(text.to_owned()));
        self
    }

    /// All of stdout must match `pattern` (`.` matches newlines too).
    #[track_caller]
    pub fn stdout_regex(mut self, pattern: &str) -> Run {
        self.stdout = Some(Expected::regex(pattern));
        self
    }

    /// All of stderr must match `pattern` (`.` matches newlines too).
    #[track_caller]
    pub fn stderr_regex(mut self, pattern: &str) -> Run {
        self.stderr = Some(Expected::regex(pattern));
        self
    }

    /// Starts the process without waiting (for concurrency tests).
    pub fn spawn(mut self) -> std::process::Child {
        assert!(self.stdout.is_none() && self.stderr.is_none(), "expected output is checked by .status(n) only");
        self.command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        self.command.spawn().expect("spawn provision")
    }

    /// Runs and returns what happened, checking nothing.
    #[track_caller]
    pub fn output(mut self) -> Outcome {
        assert!(self.stdout.is_none() && self.stderr.is_none(), "expected output is checked by .status(n) only");
        self.run()
    }

    fn run(&mut self) -> Outcome {
        use std::io::Write;
        self.command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn provision");
        let input = self.stdin.take().unwrap_or_default();
        child.stdin.take().unwrap().write_all(&input).ok();
        Outcome::from(child.wait_with_output().unwrap())
    }

    /// Runs, then checks the exit code and every expected output; on a
    /// mismatch, panics at the caller's line with the command, a diff of
    /// each stream that differs and the streams themselves.
    #[track_caller]
    pub fn status(mut self, code: i32) -> Outcome {
        let described = format!("{:?}", self.command);
        let out = self.run();
        let mut problems = Vec::new();
        if out.code != code {
            problems.push(format!("exit code {} (expected {code})", out.code));
        }
        for (name, expected, actual) in [("stdout", &self.stdout, &out.stdout), ("stderr", &self.stderr, &out.stderr)] {
            if let Some(problem) = expected.as_ref().and_then(|e| e.mismatch(name, actual)) {
                problems.push(problem);
            }
        }
        if !problems.is_empty() {
            panic!("{described}\n{}\n--- stdout\n{}\n--- stderr\n{}", problems.join("\n"), out.stdout, out.stderr);
        }
        out
    }

    #[track_caller]
    pub fn success(self) -> Outcome {
        self.status(0)
    }
}

impl Expected {
    #[track_caller]
    fn regex(pattern: &str) -> Expected {
        let whole = format!("^(?s:{pattern})$");
        Expected::Regex(regex::Regex::new(&whole).unwrap_or_else(|e| panic!("bad regex {pattern:?}: {e}")))
    }

    /// What is wrong with `actual`, if anything.
    fn mismatch(&self, name: &str, actual: &str) -> Option<String> {
        match self {
            Expected::Exact(text) if text != actual => {
                Some(format!("{name} differs (- expected, + actual):\n{}", diff(text, actual)))
            }
            Expected::Regex(re) if !re.is_match(actual) => Some(format!("{name} does not match {}", re.as_str())),
            _ => None,
        }
    }
}

/// A line diff (longest common subsequence; outputs are short).
pub fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) =
        (expected.split_inclusive('\n').collect(), actual.split_inclusive('\n').collect());
    let mut common = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] { common[i + 1][j + 1] + 1 } else { common[i + 1][j].max(common[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    let mut line = |mark: char, text: &str| {
        out.push(mark);
        out.push_str(&text.replace('\n', "⏎\n"));
        if !text.ends_with('\n') {
            out.push_str("∅\n"); // no final newline
        }
    };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line(' ', a[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || common[i + 1][j] >= common[i][j + 1]) {
            line('-', a[i]);
            i += 1;
        } else {
            line('+', b[j]);
            j += 1;
        }
    }
    out
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(out: Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn stdout_has(self, text: &str) -> Outcome {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn stderr_has(self, text: &str) -> Outcome {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }

    /// The error is one line (plus nothing else on stderr).
    pub fn one_line_error(self) -> Outcome {
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected a one-line error, got:\n{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{}", self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}
