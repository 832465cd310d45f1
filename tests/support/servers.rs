//! Several PostgreSQL servers for the tests of placement across servers,
//! fan-out and tenant moves: throwaway clusters started like the one of
//! `server()` (wal_level = logical, as the embedded sandbox has it), and one
//! database per test on each.
//!
//! Shared clusters ([`Fleet::shared`]) serve every test of a binary; a test
//! that stops a server takes private ones ([`Fleet::private`]) so no other
//! test loses its server.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use provision::{Sandbox, Target};
use tokio_postgres::Client;

use super::{reachable_tempdir, runtime, stop_when_this_process_exits, with_database, Run, Workspace};

/// One running cluster.
pub struct Cluster {
    sandbox: Sandbox,
    admin: Target,
    admin_url: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = reachable_tempdir("provision-fleet-");
        let sandbox = Sandbox::new(dir.path().join("pg"), None);
        runtime().block_on(sandbox.start()).expect("start a fleet cluster");
        stop_when_this_process_exits(&sandbox);
        let admin = sandbox.admin_target();
        let admin_url = sandbox.url().replace("/provision?", "/postgres?");
        Cluster { sandbox, admin, admin_url, _dir: dir }
    }

    /// Stops the server (fast shutdown), as an outage would.
    pub fn stop(&self) {
        self.sandbox.stop().expect("stop the cluster");
    }

    /// Starts it again after [`Cluster::stop`].
    pub fn start_again(&self) {
        runtime().block_on(self.sandbox.start()).expect("start the cluster again");
    }

    pub fn log_file(&self) -> PathBuf {
        self.sandbox.log_file()
    }
}

static SHARED: OnceLock<Vec<Cluster>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);
/// The most servers a test asks for (the shared clusters are started once, at this count).
const MAX_SHARED: usize = 3;

/// One test's database on each of several servers, named `a`, `b`, `c`…
pub struct Fleet {
    pub servers: Vec<FleetServer>,
    /// Private clusters (kept alive with the fleet); empty for a shared fleet.
    private: Vec<Cluster>,
}

/// One server of a [`Fleet`]: its name in tenants.toml and this test's database on it.
pub struct FleetServer {
    pub name: String,
    pub db: String,
    pub url: String,
    target: Target,
}

impl Fleet {
    /// `n` servers (at most 3) shared with the binary's other tests, a fresh database on each.
    pub fn shared(n: usize) -> Fleet {
        assert!(n <= MAX_SHARED, "at most {MAX_SHARED} shared servers");
        let clusters = SHARED.get_or_init(|| (0..MAX_SHARED).map(|_| Cluster::start()).collect());
        Fleet {
            servers: clusters.iter().take(n).enumerate().map(|(i, c)| database_on(c, i)).collect(),
            private: vec![],
        }
    }

    /// `n` servers of this test's own, which it may stop.
    pub fn private(n: usize) -> Fleet {
        let private: Vec<Cluster> = (0..n).map(|_| Cluster::start()).collect();
        let servers = private.iter().enumerate().map(|(i, c)| database_on(c, i)).collect();
        Fleet { servers, private }
    }

    /// The private cluster behind server `i` (a private fleet only).
    pub fn cluster(&self, i: usize) -> &Cluster {
        &self.private[i]
    }

    pub fn server(&self, name: &str) -> &FleetServer {
        self.servers.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no server {name}"))
    }

    /// The `[servers.*]` section for tenants.toml: each reads `<NAME>_DATABASE_URL`.
    pub fn servers_toml(&self) -> String {
        self.servers
            .iter()
            .map(|s| format!("[servers.{}]\nurl_env = \"{}\"\n", s.name, s.variable()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A run of the real binary in `ws` with every server's variable set.
    pub fn provision(&self, ws: &Workspace) -> Run {
        let mut run = Run::new().in_workspace(ws);
        for server in &self.servers {
            run = run.env(&server.variable(), &server.url);
        }
        run
    }
}

impl FleetServer {
    /// The variable tenants.toml names for this server.
    pub fn variable(&self) -> String {
        format!("{}_DATABASE_URL", self.name.to_uppercase())
    }

    /// Runs `f` on a fresh connection to this test's database on the server.
    pub fn with<T>(&self, f: impl AsyncFnOnce(&Client) -> T) -> T {
        runtime().block_on(async {
            let client = self.target.connect().await.expect("connect to a fleet database");
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

    /// The tenant codes this server's registry holds, by code.
    pub fn registered(&self) -> Vec<String> {
        match self.scalar("SELECT to_regclass('shared.tenants')::text").as_str() {
            "" => Vec::new(),
            _ => self.strings("SELECT tenant_code::text FROM shared.tenants ORDER BY 1"),
        }
    }
}

fn database_on(cluster: &Cluster, index: usize) -> FleetServer {
    let name = ["a", "b", "c", "d", "e"][index].to_owned();
    let db = format!("f_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::SeqCst));
    runtime().block_on(async {
        let admin = cluster.admin.connect().await.expect("connect to a fleet server");
        admin.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create the test database");
    });
    FleetServer { url: with_database(&cluster.admin_url, &db), target: cluster.admin.with_dbname(&db), name, db }
}

impl Fleet {
    /// `n` servers that are `n` databases of ONE shared cluster (roles,
    /// slots and subscriptions are that cluster's), named `a`, `b`…
    pub fn one_cluster(n: usize) -> Fleet {
        let clusters = SHARED.get_or_init(|| (0..MAX_SHARED).map(|_| Cluster::start()).collect());
        Fleet { servers: (0..n).map(|i| database_on(&clusters[0], i)).collect(), private: vec![] }
    }

    /// Servers `a` and `b` that are two names of ONE database on a shared
    /// cluster; b's URL is spelled differently (an application name), so
    /// only the server itself can tell they are the same.
    pub fn same_database() -> Fleet {
        let mut fleet = Fleet::shared(1);
        let a = &fleet.servers[0];
        let separator = if a.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{separator}application_name=alias_b", a.url);
        let b = FleetServer { name: "b".to_owned(), db: a.db.clone(), url, target: a.target.clone() };
        fleet.servers.push(b);
        fleet
    }
}
