use std::path::{Path, PathBuf};

use anyhow::Result;

use super::resolve::{resolve_in, resolve_with_origin};
use super::target::{Endpoint, Host, PasswordSource};
use super::*;
use crate::error::{exit_code_of, ExitCode};

mod output;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// Resolves with no default socket directory (so the default host is `localhost`).
fn tcp(url: Option<&str>, origin: Origin, pairs: &[(&str, &str)]) -> Result<Option<Target>> {
    resolve_in(url, origin, &env_of(pairs), &|| None)
}

fn target(url: Option<&str>, pairs: &[(&str, &str)]) -> Target {
    tcp(url, Origin::Flag, pairs).unwrap().expect("a target")
}

fn error(url: Option<&str>, origin: Origin, pairs: &[(&str, &str)]) -> (String, ExitCode) {
    let err = tcp(url, origin, pairs).expect_err("an error");
    (err.to_string(), exit_code_of(&err))
}

fn tcp_host(t: &Target) -> (&str, u16) {
    match &t.endpoints[0].host {
        Some(Host::Tcp(h)) => (h.as_str(), t.endpoints[0].port),
        other => panic!("expected a TCP host, got {other:?}"),
    }
}

// --- precedence -------------------------------------------------------------

#[test]
fn nothing_set_means_sandbox() {
    assert!(tcp(None, Origin::Libpq, &[]).unwrap().is_none());
    assert!(resolve(None, &env_of(&[("HOME", "/nonexistent"), ("USER", "bob")])).unwrap().is_none());
    // Empty values and variables that do not name a server do not count.
    let env =
        [("PGHOST", ""), ("PGPASSFILE", "/x"), ("PGAPPNAME", "x"), ("PGCONNECT_TIMEOUT", "3"), ("DATABASE_URL", "")];
    assert!(resolve(None, &env_of(&env)).unwrap().is_none());
}

#[test]
fn each_trigger_variable_selects_libpq() {
    for var in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSSLMODE", "PGHOSTADDR"] {
        let value = match var {
            "PGPORT" => "5433",
            "PGSSLMODE" => "require",
            "PGHOSTADDR" => "127.0.0.1",
            _ => "x",
        };
        let t = tcp(None, Origin::Libpq, &[(var, value), ("USER", "u")]).unwrap().expect(var);
        assert_eq!(t.origin(), Origin::Libpq, "{var}");
    }
}

#[test]
fn flag_beats_database_url_beats_libpq() {
    let env = env_of(&[("DATABASE_URL", "postgres://envhost/envdb"), ("PGHOST", "pghost"), ("PGDATABASE", "pgdb")]);
    let t = resolve(Some("postgres://flaghost/flagdb"), &env).unwrap().unwrap();
    assert_eq!(t.origin(), Origin::Flag);
    assert_eq!(tcp_host(&t).0, "flaghost");
    assert_eq!(t.dbname(), "flagdb");

    let t = resolve(None, &env).unwrap().unwrap();
    assert_eq!(t.origin(), Origin::DatabaseUrl);
    assert_eq!(tcp_host(&t).0, "envhost");
    assert_eq!(t.dbname(), "envdb");

    // clap's `env = "DATABASE_URL"` hands the variable's value over as the flag.
    let t = resolve(Some("postgres://envhost/envdb"), &env).unwrap().unwrap();
    assert_eq!(t.origin(), Origin::DatabaseUrl);

    let t = resolve_with_origin(Some("postgres://envhost/envdb"), Origin::Flag, &env).unwrap().unwrap();
    assert_eq!(t.origin(), Origin::Flag);

    let t = resolve(None, &env_of(&[("PGHOST", "pghost"), ("PGDATABASE", "pgdb"), ("USER", "u")])).unwrap().unwrap();
    assert_eq!(t.origin(), Origin::Libpq);
    assert_eq!(tcp_host(&t).0, "pghost");
    assert_eq!(t.dbname(), "pgdb");
}

#[test]
fn empty_urls() {
    let (msg, code) = error(Some("  "), Origin::Flag, &[]);
    assert!(msg.contains("--database-url is empty"), "{msg}");
    assert_eq!(code, ExitCode::BadInput);
    // An empty DATABASE_URL is unset.
    assert!(tcp(Some(""), Origin::DatabaseUrl, &[]).unwrap().is_none());
    assert!(resolve(Some(""), &env_of(&[("DATABASE_URL", "")])).unwrap().is_none());
}

#[test]
fn url_values_win_and_libpq_variables_fill_the_rest() {
    let env = [("PGHOST", "pghost"), ("PGUSER", "pguser"), ("PGPASSWORD", "pgpw"), ("PGPORT", "6000")];
    let t = target(Some("postgres://urluser@urlhost/app"), &env);
    assert_eq!(tcp_host(&t), ("urlhost", 6000));
    assert_eq!(t.user(), "urluser");
    let password = t.password.as_ref().unwrap();
    assert_eq!((password.value.as_str(), &password.source), ("pgpw", &PasswordSource::Env));

    let t = target(Some("postgres://u:urlpw@urlhost:5544/app"), &env);
    assert_eq!(tcp_host(&t), ("urlhost", 5544));
    assert_eq!(t.password.as_ref().unwrap().source, PasswordSource::Url);
}

// --- libpq defaults ---------------------------------------------------------

#[test]
fn libpq_defaults() {
    let env = env_of(&[("PGUSER", "bob")]);
    let t = resolve_in(None, Origin::Libpq, &env, &|| Some(PathBuf::from("/var/run/postgresql"))).unwrap().unwrap();
    assert_eq!(
        t.endpoints,
        vec![Endpoint { host: Some(Host::Unix("/var/run/postgresql".into())), hostaddr: None, port: 5432 }]
    );
    assert_eq!(t.user(), "bob");
    assert_eq!(t.dbname(), "bob");
    assert_eq!(t.ssl_mode(), SslMode::Prefer);
    assert_eq!(t.describe(), "database \"bob\" as user \"bob\" on socket /var/run/postgresql/.s.PGSQL.5432");

    let t = target(None, &[("PGDATABASE", "app"), ("USER", "alice")]);
    assert_eq!(tcp_host(&t), ("localhost", 5432));
    assert_eq!(t.user(), "alice");
    assert_eq!(t.dbname(), "app");
    assert_eq!(t.describe(), "database \"app\" as user \"alice\" on localhost:5432");

    let t = target(None, &[("PGHOST", "/tmp/pg"), ("PGPORT", "5555"), ("LOGNAME", "lg")]);
    assert_eq!(t.describe(), "database \"lg\" as user \"lg\" on socket /tmp/pg/.s.PGSQL.5555");
}

#[test]
fn multiple_hosts_and_hostaddr() {
    let t = target(Some("postgres://u@a:5433,[::1],c/app"), &[]);
    assert_eq!(t.describe(), "database \"app\" as user \"u\" on a:5433, [::1]:5432, c:5432");
    let t = target(Some("host=a,b port=1,2 hostaddr=10.0.0.1,10.0.0.2 user=u"), &[]);
    assert_eq!(t.describe(), "database \"u\" as user \"u\" on a (10.0.0.1):1, b (10.0.0.2):2");
    let t = target(Some("hostaddr=10.0.0.9 port=7 user=u"), &[]);
    assert_eq!(t.describe(), "database \"u\" as user \"u\" on 10.0.0.9:7");
    let (msg, code) = error(Some("host=a,b port=1,2,3 user=u"), Origin::Flag, &[]);
    assert!(msg.contains("3 ports for 2 hosts"), "{msg}");
    assert_eq!(code, ExitCode::BadInput);
}

// --- URL and key=value forms ----------------------------------------------

#[test]
fn url_and_key_value_forms() {
    let t = target(Some("postgresql://bob:pw@db.example.com:6432/app?application_name=x&connect_timeout=5"), &[]);
    assert_eq!(tcp_host(&t), ("db.example.com", 6432));
    assert_eq!((t.user(), t.dbname()), ("bob", "app"));
    assert_eq!(t.options.get_application_name(), Some("x"));
    assert_eq!(t.options.get_connect_timeout(), Some(&std::time::Duration::from_secs(5)));

    let t = target(Some("host=db.example.com port=6432 user=bob password='p w' dbname=app"), &[]);
    assert_eq!(tcp_host(&t), ("db.example.com", 6432));
    assert_eq!((t.user(), t.dbname()), ("bob", "app"));
    assert_eq!(t.password.as_ref().unwrap().value, "p w");

    let t = target(Some("postgres:///app?host=%2Ftmp&user=u"), &[]);
    assert_eq!(t.endpoints[0].host, Some(Host::Unix("/tmp".into())));
}

#[test]
fn application_name_defaults_to_provision() {
    let t = target(Some("postgres://u@h/d"), &[]);
    assert_eq!(t.config_for(&t.endpoints[0], None).get_application_name(), Some("provision"));
    let t = target(Some("postgres://u@h/d?fallback_application_name=fb"), &[]);
    assert_eq!(t.config_for(&t.endpoints[0], None).get_application_name(), Some("fb"));
    let t = target(Some("postgres://u@h/d?application_name=mine"), &[("PGAPPNAME", "env")]);
    assert_eq!(t.config_for(&t.endpoints[0], None).get_application_name(), Some("mine"));
}

#[test]
fn bad_urls_are_bad_input_and_never_echo_the_url() {
    let cases = [
        "postgres://bob:hunter2@db:notaport/app",
        "postgres://bob:hun@ter2@db/app",
        "postgres://bob:hunter2@db/app?sslmode=hunter2",
        "postgres://bob:hunter2@db/app?hunter2",
        "postgres://bob:hunter2@db/app?bogus_option=1",
        "postgres://bob:hunter2@db/app?connect_timeout=hunter2",
        "host=db password=hunter2 dbname",
        "hunter2",
        "mysql://bob:hunter2@db/app",
    ];
    for (url, origin, name) in
        cases.iter().flat_map(|u| [(*u, Origin::Flag, "--database-url"), (*u, Origin::DatabaseUrl, "DATABASE_URL")])
    {
        let (msg, code) = error(Some(url), origin, &[]);
        assert_eq!(code, ExitCode::BadInput, "{url}: {msg}");
        assert!(msg.starts_with(&format!("{name} is not a valid PostgreSQL URL: ")), "{url}: {msg}");
        assert!(!msg.contains("hunter2") && !msg.contains("ter2"), "{url}: {msg}");
    }
    let (msg, _) = error(Some("postgres://h/d?bogus_option=1"), Origin::Flag, &[]);
    assert!(msg.contains("unknown option \"bogus_option\""), "{msg}");
    let (msg, _) = error(Some("postgres://h/d?sslcrl=/x"), Origin::Flag, &[]);
    assert!(msg.contains("\"sslcrl\" is not supported"), "{msg}");
}

#[test]
fn bad_libpq_variables_name_the_variable() {
    let (msg, code) = error(None, Origin::Libpq, &[("PGPORT", "lots"), ("USER", "u")]);
    assert_eq!(code, ExitCode::BadInput);
    assert!(msg.starts_with("PGPORT is not valid"), "{msg}");
    let (msg, _) = error(None, Origin::Libpq, &[("PGSSLMODE", "verify_full"), ("USER", "u")]);
    assert!(msg.starts_with("PGSSLMODE is not valid") && msg.contains("\"verify_full\""), "{msg}");
    let (msg, _) = error(None, Origin::Libpq, &[("PGHOST", "h"), ("PGCONNECT_TIMEOUT", "soon"), ("USER", "u")]);
    assert!(msg.starts_with("PGCONNECT_TIMEOUT is not valid"), "{msg}");
}

// --- sslmode ------------------------------------------------------------------

#[test]
fn sslmode_from_url_key_value_and_pgsslmode() {
    for (mode, expected) in [
        ("disable", SslMode::Disable),
        ("allow", SslMode::Allow),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ] {
        let t = target(Some(&format!("postgres://u@db/app?sslmode={mode}")), &[]);
        assert_eq!(t.ssl_mode(), expected, "URL {mode}");
        let t = target(Some(&format!("host=db user=u sslmode={mode}")), &[]);
        assert_eq!(t.ssl_mode(), expected, "key=value {mode}");
        let t = target(None, &[("PGHOST", "db"), ("PGUSER", "u"), ("PGSSLMODE", mode)]);
        assert_eq!(t.ssl_mode(), expected, "PGSSLMODE {mode}");
    }
    // The URL wins over PGSSLMODE; PGSSLMODE fills in for a URL without one.
    let t = target(Some("postgres://u@db/app?sslmode=require"), &[("PGSSLMODE", "verify-full")]);
    assert_eq!(t.ssl_mode(), SslMode::Require);
    let t = target(Some("postgres://u@db/app"), &[("PGSSLMODE", "verify-full")]);
    assert_eq!(t.ssl_mode(), SslMode::VerifyFull);
    let t = target(Some("postgres://u@db/app?ssl=true"), &[]);
    assert_eq!(t.ssl_mode(), SslMode::Require);
}

#[test]
fn wire_modes_for_tokio_postgres() {
    use tokio_postgres::config::SslMode as Wire;
    let t = target(Some("postgres://u@db/app?sslmode=verify-full"), &[]);
    assert_eq!(t.tls.wire_mode(), Wire::Require);
    let t = target(Some("postgres://u@db/app?sslmode=verify-ca"), &[]);
    assert_eq!(t.tls.wire_mode(), Wire::Require);
    let t = target(Some("postgres://u@db/app"), &[]);
    assert_eq!(t.tls.wire_mode(), Wire::Prefer);
}

#[test]
fn sslrootcert() {
    let t = target(Some("postgres://u@db/app?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem"), &[]);
    assert_eq!(t.tls.root_cert, Some(tls::RootCert::File("/etc/ssl/ca.pem".into())));
    assert_eq!(t.ssl_mode(), SslMode::VerifyFull);
    // libpq: require with a root certificate verifies the chain.
    let t = target(Some("host=db user=u sslmode=require sslrootcert=/ca.pem"), &[]);
    assert_eq!(t.ssl_mode(), SslMode::VerifyCa);
    let t = target(None, &[("PGHOST", "db"), ("USER", "u"), ("PGSSLROOTCERT", "/ca.pem"), ("PGSSLMODE", "verify-ca")]);
    assert_eq!(t.tls.root_cert, Some(tls::RootCert::File("/ca.pem".into())));
    // sslrootcert=system means verify-full.
    let t = target(Some("postgres://u@db/app?sslrootcert=system"), &[]);
    assert_eq!(t.ssl_mode(), SslMode::VerifyFull);
    let (msg, code) = error(Some("postgres://u@db/app?sslrootcert=system&sslmode=require"), Origin::Flag, &[]);
    assert_eq!(code, ExitCode::BadInput);
    assert!(msg.contains("sslrootcert=system"), "{msg}");
    // ~/.postgresql/root.crt is used when present.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::write(home.path().join(".postgresql/root.crt"), "x").unwrap();
    let home_s = home.path().display().to_string();
    let t = target(Some("postgres://u@db/app?sslmode=require"), &[("HOME", &home_s)]);
    assert_eq!(t.ssl_mode(), SslMode::VerifyCa);
}

// --- pgpass -------------------------------------------------------------------

#[cfg(unix)]
fn passfile(dir: &Path, text: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("pgpass");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.display().to_string()
}

#[cfg(unix)]
#[test]
fn pgpass_supplies_missing_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let file = passfile(
        dir.path(),
        "db:5432:app:bob:app-pw\ndb:5432:*:bob:any-db-pw\nlocalhost:*:*:bob:local-pw\n*:*:*:*:last\n",
        0o600,
    );
    let t = target(Some("postgres://bob@db/app"), &[("PGPASSFILE", &file)]);
    assert!(t.warnings().is_empty());
    let pw = t.password_for(&t.endpoints[0]).unwrap();
    assert_eq!(pw.value, "app-pw");
    assert_eq!(pw.source, PasswordSource::PgPass(PathBuf::from(&file)));
    // Looked up again for another database.
    let other = t.with_dbname("other");
    assert_eq!(other.password_for(&other.endpoints[0]).unwrap().value, "any-db-pw");
    // A Unix socket matches "localhost".
    let t = target(None, &[("PGHOST", "/run/pg"), ("PGUSER", "bob"), ("PGPASSFILE", &file)]);
    assert_eq!(t.password_for(&t.endpoints[0]).unwrap().value, "local-pw");
    // passfile= in the URL, and ~/.pgpass.
    let t = target(Some(&format!("postgres://carol@x/y?passfile={file}")), &[]);
    assert_eq!(t.password_for(&t.endpoints[0]).unwrap().value, "last");
    let home = tempfile::tempdir().unwrap();
    passfile(home.path(), "*:*:*:*:from-home\n", 0o600);
    std::fs::rename(home.path().join("pgpass"), home.path().join(".pgpass")).unwrap();
    let home_s = home.path().display().to_string();
    let t = target(Some("postgres://carol@x/y"), &[("HOME", &home_s)]);
    assert_eq!(t.password_for(&t.endpoints[0]).unwrap().value, "from-home");
}

#[cfg(unix)]
#[test]
fn pgpass_is_not_used_when_a_password_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = passfile(dir.path(), "*:*:*:*:from-file\n", 0o600);
    let t = target(Some("postgres://bob:from-url@db/app"), &[("PGPASSFILE", &file)]);
    assert_eq!(t.password_for(&t.endpoints[0]).unwrap().value, "from-url");
    let t = target(None, &[("PGHOST", "db"), ("PGUSER", "u"), ("PGPASSWORD", "from-env"), ("PGPASSFILE", &file)]);
    assert_eq!(t.password_for(&t.endpoints[0]).unwrap().value, "from-env");
    assert!(t.pgpass.is_none());
}

#[cfg(unix)]
#[test]
fn pgpass_with_group_or_world_access_is_ignored_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = passfile(dir.path(), "*:*:*:*:topsecret\n", 0o644);
    let t = target(Some("postgres://bob@db/app"), &[("PGPASSFILE", &file)]);
    assert!(t.password_for(&t.endpoints[0]).is_none());
    assert_eq!(t.warnings().len(), 1);
    let warning = &t.warnings()[0];
    assert!(warning.contains(&file) && warning.contains("group or world access"), "{warning}");
    assert!(!warning.contains("topsecret") && !warning.contains('\n'));
}
