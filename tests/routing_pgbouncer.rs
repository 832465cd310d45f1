//! `provision routing pgbouncer` in front of a real PgBouncer (Debian's
//! `pgbouncer`, transaction pooling): an application login reaches its
//! tenant's rows through the alias, and after the tenant's registry entry
//! moves to another server, regenerating the file and a RELOAD send new
//! connections there. `tenant move --pgbouncer` does that itself: an
//! application writing through PgBouncer all along the move gets no error,
//! and a move killed while the alias is paused is resumed by its re-run.
//! Also: an unreachable server writes nothing.

mod support;
mod tenant_move_common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use support::access::PASSWORD;
use support::servers::{Fleet, FleetServer};
use support::{runtime, Workspace};
use tenant_move_common::{contents, killed_at, move_run, serial, tenant_on_a};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";
/// PgBouncer listens on a Unix socket in its own directory, so no port is shared.
const PORT: u16 = 6432;

const TENANTS: &str = "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n";

#[test]
fn an_app_login_reaches_its_tenant_through_the_alias_and_follows_it_to_another_server_after_a_reload() {
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    // Tenants are created per server with --database-url until `up` fans out.
    let plain = Workspace::new(TENANTS);
    let servers = Workspace::new(&format!("{}\n{TENANTS}", fleet.servers_toml()));
    add_tenant(&plain, a, "lic");
    add_tenant(&plain, b, "hdfc");
    let login = format!("login_{}", a.db);
    for server in [a, b] {
        server.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    }
    grant(&plain, a, "lic", &login);
    insert_user(a, "lic", "on-a@lic.example");

    let bouncer = PgBouncer::start(&login);
    let out = fleet
        .provision(&servers)
        .args(["routing", "pgbouncer", "--out"])
        .arg(bouncer.routing_file())
        .stderr(&format!(
            "wrote 2 aliases to {} (servers a, b); RELOAD PgBouncer to route new connections by it\n",
            bouncer.routing_file().display()
        ))
        .success();
    assert_eq!(out.stdout, "");
    assert_eq!(std::fs::read_to_string(bouncer.routing_file()).unwrap(), expected_section(&[("hdfc", b), ("lic", a)]));
    bouncer.reload();
    assert_eq!(bouncer.read_as(&login, "lic", &tenant_id(a, "lic")), (a.db.clone(), vec!["on-a@lic.example".into()]));
    assert_a_plain_set_leaks_to_the_next_client(&bouncer, &login);

    // The tenant's registry entry relocates: removed from a, created on b.
    remove_tenant(&plain, a, "lic");
    add_tenant(&plain, b, "lic");
    grant(&plain, b, "lic", &login);
    insert_user(b, "lic", "on-b@lic.example");
    regenerate_and_reload(&fleet, &servers, &bouncer);
    assert_eq!(std::fs::read_to_string(bouncer.routing_file()).unwrap(), expected_section(&[("hdfc", b), ("lic", b)]));
    assert_eq!(bouncer.read_as(&login, "lic", &tenant_id(b, "lic")), (b.db.clone(), vec!["on-b@lic.example".into()]));
}

#[test]
fn a_move_with_the_cutover_sends_a_writing_client_to_the_new_server_without_an_error() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "cut1");
    let login = login_on_both(&fleet, &ws, "cut1");
    let bouncer = PgBouncer::start(&login);
    regenerate_and_reload(&fleet, &ws, &bouncer);
    let id = tenant_id(a, "cut1");
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    // One client connected through PgBouncer before the move, inserting until it is over and 20 more times.
    let writer = {
        let (stop, ok, failed, config, id) =
            (stop.clone(), ok.clone(), failed.clone(), bouncer.config(&login, "cut1"), id.clone());
        std::thread::spawn(move || {
            runtime().block_on(async {
                let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                let (mut n, mut after) = (0u64, 0);
                while after < 20 {
                    n += 1;
                    match tenant_move_common::app_insert(&client, &id, &format!("cut1-{n}")).await {
                        Ok(()) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            eprintln!("insert {n}: {e:?}");
                            failed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                    after += u32::from(stop.load(Ordering::SeqCst));
                }
            })
        })
    };
    while ok.load(Ordering::SeqCst) < 50 {
        std::thread::yield_now();
    }
    let doc = move_run(&fleet, &ws, "cut1", &["--json", "--routing-out"])
        .arg(bouncer.routing_file())
        .env("PROVISION_PGBOUNCER_URL", bouncer.console_url())
        .success()
        .json();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    eprintln!(
        "through PgBouncer: {ok} inserts, {failed} failed; writes frozen {} ms, clients held {} ms",
        doc["freeze_ms"], doc["paused_ms"]
    );
    tenant_move_common::assert_documented(&doc);
    assert_eq!(doc["outcome"], "moved", "{doc}");
    assert!(doc["paused_ms"].as_u64().is_some(), "{doc}");
    assert_eq!(doc["logins_missing"], serde_json::json!([]), "the login exists on b: the move granted it there");
    assert_eq!(failed, 0, "no insert failed through PgBouncer");
    let written = "SELECT count(*)::text || ' ' || count(DISTINCT event_type)::text FROM cut1_schema.user_events \
                   WHERE event_type LIKE 'cut1-%'";
    assert_eq!(b.scalar(written), format!("{ok} {ok}"), "every insert is on the new server, once");
    let granted = format!(
        "SELECT count(*)::text FROM pg_auth_members WHERE member = '{login}'::regrole AND roleid = 'cut1_app'::regrole"
    );
    assert_eq!(b.scalar(&granted), "1", "the login is granted the tenant on b");
    assert_eq!(std::fs::read_to_string(bouncer.routing_file()).unwrap(), expected_section(&[("cut1", b)]));
    assert_eq!(bouncer.paused("cut1"), "0", "the alias is resumed");
    assert_eq!(bouncer.read_as(&login, "cut1", &id).0, b.db, "a new client reaches server b");
    assert_eq!(a.scalar("SELECT status::text FROM shared.tenants WHERE tenant_code = 'cut1'"), "moved");
}

#[test]
fn a_move_killed_while_its_alias_is_paused_is_resumed_and_routed_by_the_re_run() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "cut2");
    let login = login_on_both(&fleet, &ws, "cut2");
    let bouncer = PgBouncer::start(&login);
    regenerate_and_reload(&fleet, &ws, &bouncer);
    let before = contents(a, "cut2");
    let cutover = |run: support::Run| {
        run.args(["--routing-out"]).arg(bouncer.routing_file()).env("PROVISION_PGBOUNCER_URL", bouncer.console_url())
    };
    let out = cutover(move_run(&fleet, &ws, "cut2", &[]))
        .env(provision::failpoint::VARIABLE, "cutover.while_paused")
        .output();
    assert!(out.stderr.contains("failpoint cutover.while_paused: aborting"), "{}", out.stderr);
    assert_eq!(bouncer.paused("cut2"), "1", "the killed run left the alias paused");
    assert_eq!(std::fs::read_to_string(bouncer.routing_file()).unwrap(), expected_section(&[("cut2", a)]));
    let doc = cutover(move_run(&fleet, &ws, "cut2", &["--json"])).success().json();
    assert_eq!(doc["resumed_from"], "switched", "{doc}");
    assert_eq!(bouncer.paused("cut2"), "0", "the re-run resumed the alias");
    assert_eq!(std::fs::read_to_string(bouncer.routing_file()).unwrap(), expected_section(&[("cut2", b)]));
    assert_eq!(contents(b, "cut2"), before);
    assert_eq!(bouncer.read_as(&login, "cut2", &tenant_id(b, "cut2")).0, b.db);
    // Killed before the switch: the alias stays on a, and --abort lifts the pause.
    let ws3 = tenant_on_a(&fleet, "cut3");
    login_grant(&fleet, &ws3, "cut3", &login);
    regenerate_and_reload(&fleet, &ws3, &bouncer);
    killed_at(&fleet, &ws3, "cut3", "tenant_move.after_catch_up");
    bouncer.admin_query("PAUSE cut3").unwrap();
    cutover(fleet.provision(&ws3).args(["tenant", "move", "cut3", "--to", "b", "--abort"]))
        .stderr("resumed alias cut3 on PgBouncer (an interrupted move had paused it)\n")
        .success();
    assert_eq!(bouncer.paused("cut3"), "0");
    assert_eq!(bouncer.read_as(&login, "cut3", &tenant_id(a, "cut3")).0, a.db);
}

#[test]
fn an_unreachable_server_fails_with_exit_3_naming_it_and_writes_nothing() {
    let fleet = Fleet::shared(2);
    let toml = format!("{}\n[servers.c]\nurl_env = \"C_DATABASE_URL\"\n", fleet.servers_toml());
    let ws = Workspace::new(&toml);
    let out = ws.path().join("tenants.ini");
    std::fs::write(&out, "the previous routing\n").unwrap();
    fleet
        .provision(&ws)
        .env("C_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/provision?connect_timeout=5")
        .args(["routing", "pgbouncer", "--out"])
        .arg(&out)
        .stderr_regex(r"error: cannot read server c \([^\n]*\): nothing written, [^\n]*\n")
        .status(3);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the previous routing\n", "the old file stays whole");
    let left: Vec<String> =
        std::fs::read_dir(ws.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|name| !name.ends_with(".tmp")), "no temporary file left: {left:?}");
}

#[test]
fn without_servers_the_one_database_holds_every_tenant_on_stdout_and_in_json() {
    let fleet = Fleet::shared(1);
    let a = fleet.server("a");
    let ws = Workspace::new("[tenants.rt1]\nname = \"RT1\"\n");
    add_tenant(&ws, a, "rt1");
    let run = || fleet.provision(&ws).env("DATABASE_URL", &a.url);
    let text = run().args(["routing", "pgbouncer"]).stderr("").success().stdout;
    let (host, port) = host_port(a);
    assert!(
        text.starts_with("; Generated by `provision routing pgbouncer` from the one database of this run"),
        "{text}"
    );
    assert!(text.ends_with(&format!("[databases]\nrt1 = host={host} port={port} dbname={}\n", a.db)), "{text}");
    let json = run().args(["--json", "routing", "pgbouncer"]).success().json();
    assert_eq!(
        json,
        serde_json::json!({"aliases": [{"tenant": "rt1", "server": null, "host": host, "port": port, "dbname": a.db}],
                           "out": null})
    );
    run().args(["--server", "a", "routing", "pgbouncer"]).stderr_regex("error: --server a: [^\n]*\n").status(2);
    // A host list (libpq's failover) routes to its first host, and says so.
    let list = format!("host={host},/nonexistent port={port},{port} user=postgres dbname={}", a.db);
    fleet
        .provision(&ws)
        .env("DATABASE_URL", &list)
        .args(["routing", "pgbouncer"])
        .stdout(&text)
        .stderr(&format!(
            "warning: the database lists 2 hosts; its tenants' aliases use the first ({host}:{port}), since \
             PgBouncer takes a host list round robin rather than as a failover list\n"
        ))
        .success();
}

/// Why the README insists on `set_config(…, true)`: behind transaction
/// pooling (one server connection here) a plain SET outlives its client,
/// and the next client of that connection runs with it; a setting made for
/// the transaction only ends with it.
fn assert_a_plain_set_leaks_to_the_next_client(bouncer: &PgBouncer, login: &str) {
    let leaked = "11111111-1111-1111-1111-111111111111";
    bouncer.simple_as(login, "lic", &format!("SET app.tenant_id = '{leaked}'"));
    let next = bouncer.simple_as(login, "lic", "SELECT current_setting('app.tenant_id', true)");
    assert_eq!(next, [leaked], "another client's session setting reached this one");
    bouncer.simple_as(login, "lic", "RESET app.tenant_id");
    bouncer.simple_as(login, "lic", &format!("BEGIN; SELECT set_config('app.tenant_id', '{leaked}', true); COMMIT"));
    let next = bouncer.simple_as(login, "lic", "SELECT coalesce(current_setting('app.tenant_id', true), '')");
    assert_eq!(next, [""], "a per-transaction setting ends with its transaction");
}

/// Regenerates the routing file from every server and RELOADs PgBouncer
/// through its admin console: the procedure the README gives after a move.
fn regenerate_and_reload(fleet: &Fleet, ws: &Workspace, bouncer: &PgBouncer) {
    fleet.provision(ws).args(["routing", "pgbouncer", "--out"]).arg(bouncer.routing_file()).success();
    bouncer.reload();
}

/// A LOGIN role with the test password on both servers, granted `code` on a.
fn login_on_both(fleet: &Fleet, ws: &Workspace, code: &str) -> String {
    let login = format!("login_{}_{code}", fleet.server("a").db);
    for server in &fleet.servers {
        server.execute(&format!("CREATE ROLE {login} LOGIN PASSWORD '{PASSWORD}'"));
    }
    login_grant(fleet, ws, code, &login);
    login
}

fn login_grant(fleet: &Fleet, ws: &Workspace, code: &str, login: &str) {
    fleet.provision(ws).args(["--server", "a", "tenant", "grant", code, login]).success();
}

fn add_tenant(ws: &Workspace, server: &FleetServer, code: &str) {
    support::Run::new().in_workspace(ws).env("DATABASE_URL", &server.url).args(["tenant", "add", code]).success();
}

fn remove_tenant(ws: &Workspace, server: &FleetServer, code: &str) {
    support::Run::new()
        .in_workspace(ws)
        .env("DATABASE_URL", &server.url)
        .args(["tenant", "remove", code, "--yes", "--no-backup"])
        .success();
}

fn grant(ws: &Workspace, server: &FleetServer, code: &str, login: &str) {
    support::Run::new()
        .in_workspace(ws)
        .env("DATABASE_URL", &server.url)
        .args(["tenant", "grant", code, login])
        .success();
}

fn tenant_id(server: &FleetServer, code: &str) -> String {
    server.scalar(&format!("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = '{code}'"))
}

/// A user row written on the server directly (as its superuser), with the tenant's id.
fn insert_user(server: &FleetServer, code: &str, email: &str) {
    let id = tenant_id(server, code);
    server.execute(&format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{id}', true); \
         INSERT INTO {code}_schema.users (email, password_hash, role) VALUES ('{email}', '!', 'guest'); COMMIT;"
    ));
}

fn host_port(server: &FleetServer) -> (String, u16) {
    provision::resolve(Some(&server.url), &|_| None).unwrap().expect("a target").host_port()
}

/// The section the command must write for `aliases` (code order).
fn expected_section(aliases: &[(&str, &FleetServer)]) -> String {
    let mut text = "; Generated by `provision routing pgbouncer` from servers a, b.\n\
        ; Do not edit: after a tenant moves, regenerate this file and RELOAD PgBouncer.\n\
        ; No user or password here: PgBouncer authenticates clients with its auth_file or auth_query.\n\
        [databases]\n"
        .to_owned();
    for (code, server) in aliases {
        let (host, port) = host_port(server);
        text.push_str(&format!("{code} = host={host} port={port} dbname={}\n", server.db));
    }
    text
}

/// A real PgBouncer in a directory of its own: transaction pooling (one
/// server connection per alias and login, so which client follows which is
/// known), md5
/// logins from an auth_file, the routing file `%include`d, and the test's
/// login as its admin (for RELOAD). Stopped when dropped.
struct PgBouncer {
    dir: tempfile::TempDir,
    child: Child,
    admin: String,
}

impl PgBouncer {
    fn start(login: &str) -> PgBouncer {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new().prefix("provision-pgbouncer-").tempdir_in("/tmp").unwrap();
        // PgBouncer runs unprivileged and makes its socket here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let path = dir.path();
        std::fs::write(path.join("users.txt"), format!("\"{login}\" \"{PASSWORD}\"\n")).unwrap();
        std::fs::write(path.join("tenants.ini"), "[databases]\n").unwrap();
        let ini = format!(
            "[pgbouncer]\nlisten_port = {PORT}\nunix_socket_dir = {dir}\nauth_type = md5\nauth_file = {dir}/users.txt\n\
             admin_users = {login}\npool_mode = transaction\ndefault_pool_size = 1\n%include {dir}/tenants.ini\n",
            dir = path.display()
        );
        std::fs::write(path.join("pgbouncer.ini"), ini).unwrap();
        let log = std::fs::File::create(path.join("pgbouncer.log")).unwrap();
        let child = unprivileged(PGBOUNCER)
            .arg(path.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start pgbouncer (apt-get install pgbouncer)");
        let bouncer = PgBouncer { dir, child, admin: login.to_owned() };
        bouncer.wait_until_listening();
        bouncer
    }

    fn routing_file(&self) -> PathBuf {
        self.dir.path().join("tenants.ini")
    }

    fn config(&self, user: &str, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config.host_path(self.dir.path()).port(PORT).user(user).password(PASSWORD).dbname(dbname);
        config
    }

    /// Its socket answers (PgBouncer takes a moment to start); a bounded wait, not an assertion.
    fn wait_until_listening(&self) {
        let socket = self.dir.path().join(format!(".s.PGSQL.{PORT}"));
        for _ in 0..200 {
            if socket.exists() && self.admin_query("SHOW VERSION").is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("pgbouncer did not start:\n{}", self.log());
    }

    fn admin_query(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        runtime().block_on(async {
            let (client, connection) = self.config(&self.admin, "pgbouncer").connect(tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client.simple_query(sql).await.map(drop)
        })
    }

    /// The admin console as `tenant move --pgbouncer` takes it.
    fn console_url(&self) -> String {
        format!("postgresql://{}:{PASSWORD}@/pgbouncer?host={}&port={PORT}", self.admin, self.dir.path().display())
    }

    /// SHOW DATABASES' `paused` column for `alias` ("1" while paused).
    fn paused(&self, alias: &str) -> String {
        runtime().block_on(async {
            let (client, connection) =
                self.config(&self.admin, "pgbouncer").connect(tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let rows = client.simple_query("SHOW DATABASES").await.unwrap();
            let row = rows.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) if row.get("name") == Some(alias) => Some(row),
                _ => None,
            });
            row.and_then(|r| r.get("paused")).unwrap_or_else(|| panic!("no alias {alias}")).to_owned()
        })
    }

    /// RELOAD through the admin console: it returns once the files are read again.
    fn reload(&self) {
        self.admin_query("RELOAD").unwrap_or_else(|e| panic!("RELOAD: {e:?}\n{}", self.log()));
    }

    /// Connects as `login` to the alias `alias` and, in one transaction with
    /// the tenant set per transaction (as behind any transaction pooler),
    /// reads which database answered and the users the test inserted.
    fn read_as(&self, login: &str, alias: &str, tenant_id: &str) -> (String, Vec<String>) {
        runtime().block_on(async {
            let (mut client, connection) = self
                .config(login, alias)
                .connect(tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connect through pgbouncer: {e:?}\n{}", self.log()));
            tokio::spawn(connection);
            let tx = client.transaction().await.unwrap();
            tx.query_one("SELECT set_config('app.tenant_id', $1, true)", &[&tenant_id]).await.unwrap();
            let database: String = tx.query_one("SELECT current_database()::text", &[]).await.unwrap().get(0);
            let rows = tx
                .query(&format!("SELECT email FROM {alias}_schema.users WHERE email LIKE 'on-%' ORDER BY 1"), &[])
                .await
                .unwrap_or_else(|e| panic!("read {alias}_schema.users: {e:?}"));
            tx.commit().await.unwrap();
            (database, rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// One client: connects as `login` to `alias`, runs `sql` (simple
    /// protocol), disconnects; the first column of the last statement's rows.
    fn simple_as(&self, login: &str, alias: &str, sql: &str) -> Vec<String> {
        runtime().block_on(async {
            let (client, connection) = self.config(login, alias).connect(tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            let rows = messages.iter().filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or_default().to_owned()),
                _ => None,
            });
            rows.collect()
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PgBouncer refuses to run as root: as root it runs as `postgres` (the
/// sandbox's user) through setpriv, which execs it, so the child is PgBouncer itself.
fn unprivileged(program: &str) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    match root {
        false => Command::new(program),
        true => {
            let mut command = Command::new("setpriv");
            command.args(["--reuid=postgres", "--regid=postgres", "--init-groups", program]);
            command
        }
    }
}
