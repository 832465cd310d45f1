//! Test harness: one throwaway PostgreSQL per test binary, one database per
//! test, and a fluent runner for the real `provision` binary.
//!
//! With `TEST_DATABASE_URL` set, databases are created on that server instead
//! of a private cluster. Either way no test depends on a server someone
//! started by hand, and tests never share a database.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use provision::Sandbox;
use provision::Target;
use tokio_postgres::Client;

pub mod access;
pub mod branches;
pub mod keys;
pub mod ledger;
mod run;
pub mod servers;
#[allow(unused_imports)] // each test binary uses its own part
pub use run::{diff, Outcome, Run};

/// The repository root (templates/, tenants.toml).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// provision's own variables that change what a run reads, how it waits or how it logs.
const PROVISION_VARS: &[&str] =
    &["PROVISION_CONFIG", "PROVISION_SANDBOX_USER", "PROVISION_LOCK_TIMEOUT", "PROVISION_LOG", "PROVISION_SERVER"];

/// Variables that would make the binary connect somewhere else or read
/// another configuration: the connection module's own list (its one
/// owner), plus provision's.
pub const CONNECTION_VARS: &[&str] = &CONNECTION_VARS_ARRAY;

const CONNECTION_VARS_ARRAY: [&str; provision::ENV_VARS.len() + PROVISION_VARS.len()] =
    concat(provision::ENV_VARS, PROVISION_VARS);

/// `a` then `b`, at compile time (N = both lengths).
const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - a.len()];
        i += 1;
    }
    out
}

/// The server all tests of this binary share.
pub struct Server {
    /// Connection string of the maintenance database (`postgres`).
    admin_url: String,
    admin: Target,
    /// The private cluster's server log (none on a TEST_DATABASE_URL server).
    pub log_file: Option<PathBuf>,
    /// Keeps the private cluster's directory alive for the process.
    _dir: Option<tempfile::TempDir>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);
/// Whether the private cluster preloads pgaudit (when installed); see [`without_pgaudit`].
static PRELOAD_PGAUDIT: AtomicBool = AtomicBool::new(true);

/// For a test binary about provision on a server without pgaudit: its
/// private cluster starts without pgaudit preloaded even where it is
/// installed. Every test of that binary calls it before its first `TestDb`.
pub fn without_pgaudit() {
    PRELOAD_PGAUDIT.store(false, Ordering::SeqCst);
}

pub fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let admin = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
            Server { admin_url: url, admin, log_file: None, _dir: None }
        }
        _ => start_private_cluster(),
    })
}

fn start_private_cluster() -> Server {
    let dir = reachable_tempdir("provision-test-");
    let mut sandbox = Sandbox::new(dir.path().join("pg"), None);
    if !PRELOAD_PGAUDIT.load(Ordering::SeqCst) {
        sandbox = sandbox.without_read_audit();
    }
    runtime().block_on(sandbox.start()).expect("start the test cluster");
    stop_when_this_process_exits(&sandbox);
    let admin = sandbox.admin_target();
    let admin_url = sandbox.url().replace("/provision?", "/postgres?");
    Server { admin_url, admin, log_file: Some(sandbox.log_file()), _dir: Some(dir) }
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
/// from `provision::tenant_key`, its one owner; the caller ends the transaction.
pub async fn begin_holding_tenant_lock(holder: &Client, code: &str) {
    let key = provision::tenant_key(&provision::TenantCode::parse(code).expect("a tenant code"));
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
            let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
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

    /// First column of every row of `sql`, run in another database (`name`)
    /// of the test server: the ones `db create` makes.
    pub fn strings_in(&self, name: &str, sql: &str) -> Vec<String> {
        let url = with_database(&self.url, name);
        runtime().block_on(async {
            let target = provision::resolve(Some(&url), &|_| None).unwrap().expect("a target");
            let client = target.connect().await.unwrap_or_else(|e| panic!("connect to {name}: {e:#}"));
            let rows = client.query(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            rows.iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()).collect()
        })
    }

    /// The shipped tenants (lic, hdfc, icici) plus `more`, in a
    /// tenants.toml only this database's test has (`db create` names its
    /// template after the file's text).
    pub fn own_shipped_workspace(&self, more: &str) -> Workspace {
        let shipped = std::fs::read_to_string(repo().join("tenants.toml")).unwrap();
        Workspace::new(&format!("{shipped}\n# test database {}\n{more}", self.name))
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
        let rest = with_default_blueprint(rest);
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

/// `[defaults] blueprint = "agent_mitra"` unless the text's `[defaults]`
/// names one: the repository ships several packs, so none is "the only one"
/// these tests were written for. Added at the end of `[defaults]` (or of the
/// text), so the line numbers errors name stay those of the text.
fn with_default_blueprint(mut lines: Vec<&str>) -> Vec<&str> {
    const DEFAULT: &str = "blueprint = \"agent_mitra\"";
    let start = lines.iter().position(|l| l.trim() == "[defaults]");
    let Some(start) = start else {
        lines.extend(["[defaults]", DEFAULT]);
        return lines;
    };
    let end =
        lines[start + 1..].iter().position(|l| l.trim_start().starts_with('[')).map_or(lines.len(), |n| start + 1 + n);
    if !lines[start..end].iter().any(|l| l.trim_start().starts_with("blueprint")) {
        lines.insert(end, DEFAULT);
    }
    lines
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
