//! What a target shows of itself: redacted URLs and descriptions, and the
//! one-line errors a failed connection becomes.

use super::*;

// --- redaction ------------------------------------------------------------------

#[test]
fn passwords_never_show() {
    for url in [
        "postgres://bob:hunter2@db.example.com:6432/app?sslmode=verify-full",
        "host=db.example.com port=6432 user=bob password=hunter2 dbname=app sslmode=verify-full",
    ] {
        let t = target(Some(url), &[]);
        let describe = t.describe();
        let redacted = t.redacted_url();
        let debug = format!("{t:?}");
        let pretty = format!("{t:#?}");
        for text in [&describe, &redacted, &debug, &pretty] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert_eq!(describe, "database \"app\" as user \"bob\" on db.example.com:6432");
        assert_eq!(redacted, "postgresql://bob:***@db.example.com:6432/app?sslmode=verify-full");
        assert!(debug.contains("***"), "{debug}");
    }
    let t = target(None, &[("PGHOST", "db"), ("PGUSER", "bob"), ("PGPASSWORD", "hunter2")]);
    assert!(!format!("{t:?}{}{}", t.describe(), t.redacted_url()).contains("hunter2"));
    assert_eq!(redact("postgres://bob:hunter2@db/app password=hunter2"), "postgres://bob:***@db/app password=***");
}

#[test]
fn redacted_urls() {
    let t = Target::socket(Path::new("/tmp/sand box"), 5433, "postgres", "app");
    assert_eq!(t.redacted_url(), "postgresql://postgres@/app?host=/tmp/sand%20box&port=5433");
    assert_eq!(t.describe(), "database \"app\" as user \"postgres\" on socket /tmp/sand box/.s.PGSQL.5433");
    assert!(t.is_sandbox());
    assert_eq!(t.with_dbname("other").dbname(), "other");

    let t = target(Some("postgres://b%40b@[::1]:5433,h2/d%2Fb?application_name=my%20app&sslrootcert=/ca.pem"), &[]);
    assert_eq!(
        t.redacted_url(),
        "postgresql://b%40b@[::1]:5433,h2:5432/d%2Fb?sslrootcert=/ca.pem&application_name=my%20app"
    );
    // The redacted URL parses back to the same target.
    let again = target(Some(&t.redacted_url()), &[]);
    assert_eq!(again.endpoints, t.endpoints);
    assert_eq!((again.user(), again.dbname()), (t.user(), t.dbname()));
}

// --- connect errors ---------------------------------------------------------

#[tokio::test]
async fn refused_connections_are_unavailable_and_one_line() {
    let t = target(Some("postgres://bob:hunter2@127.0.0.1:1/app?sslmode=disable"), &[]);
    let err = t.connect().await.expect_err("nothing listens on port 1");
    let msg = err.to_string();
    assert_eq!(exit_code_of(&err), ExitCode::Unavailable);
    assert!(msg.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1 (database \"app\", user \"bob\"): "), "{msg}");
    assert!(msg.contains("is the server running"), "{msg}");
    assert!(!msg.contains("hunter2") && !msg.contains('\n'), "{msg}");

    // TLS modes fail the same way before any handshake.
    let t = target(Some("postgres://bob@127.0.0.1:1/app?sslmode=verify-full"), &[]);
    let err = t.connect().await.expect_err("nothing listens on port 1");
    assert_eq!(exit_code_of(&err), ExitCode::Unavailable);
}

#[tokio::test]
async fn missing_socket_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let t = Target::socket(dir.path(), 5432, "bob", "app");
    let err = t.connect().await.expect_err("no server there");
    let msg = err.to_string();
    assert_eq!(exit_code_of(&err), ExitCode::Unavailable);
    assert!(msg.contains("no such socket file") && msg.contains("is the server running"), "{msg}");
    assert!(msg.contains(&format!("socket {}/.s.PGSQL.5432", dir.path().display())), "{msg}");
    // sslmode=require does not apply to Unix sockets.
    let url = format!("postgres://bob@/app?host={}&sslmode=require", dir.path().display());
    let err = target(Some(&url), &[]).connect().await.expect_err("no server there");
    assert!(err.to_string().contains("no such socket file"), "{err}");
}

#[tokio::test]
async fn unusable_root_certificates_are_bad_input() {
    let t = target(Some("postgres://bob@127.0.0.1:1/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), &[]);
    let err = t.connect().await.expect_err("no such file");
    assert_eq!(exit_code_of(&err), ExitCode::BadInput);
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}
