//! The libpq password file (`PGPASSFILE`, `passfile=` or `~/.pgpass`).
//!
//! Lines are `hostname:port:database:username:password`; a field that is
//! exactly `*` matches anything; `\:` and `\\` escape; lines starting with
//! `#` are comments; the first matching line wins. Like libpq, a file that
//! is not a plain file or that the group or others may access is ignored
//! with a one-line warning (naming the file, never its contents).

use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
enum Field {
    Any,
    Exact(String),
}

impl Field {
    fn matches(&self, value: &str) -> bool {
        match self {
            Field::Any => true,
            Field::Exact(text) => text == value,
        }
    }
}

#[derive(Clone)]
struct Entry {
    host: Field,
    port: Field,
    database: Field,
    user: Field,
    password: String,
}

/// A parsed password file. Its `Debug` shows only the path and line count.
#[derive(Clone)]
pub(crate) struct PgPass {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl std::fmt::Debug for PgPass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPass").field("path", &self.path).field("entries", &self.entries.len()).finish()
    }
}

/// What loading a password file gave.
pub(crate) enum Loaded {
    /// No such file (or unreadable): silently nothing, as in libpq.
    Missing,
    /// The file was ignored; the text says why (one line, no secrets).
    Ignored(String),
    Found(PgPass),
}

/// Reads and checks the file at `path`.
pub(crate) fn load(path: &Path) -> Loaded {
    let Ok(meta) = std::fs::metadata(path) else {
        return Loaded::Missing;
    };
    if !meta.is_file() {
        return Loaded::Ignored(format!(
            "WARNING: password file \"{}\" is not a plain file; ignoring it",
            path.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Loaded::Ignored(format!(
                "WARNING: password file \"{}\" has group or world access; permissions should be u=rw (0600) or less; ignoring it",
                path.display()
            ));
        }
    }
    match std::fs::read(path) {
        Ok(bytes) => Loaded::Found(PgPass { path: path.to_owned(), entries: parse(&String::from_utf8_lossy(&bytes)) }),
        Err(_) => Loaded::Missing,
    }
}

impl PgPass {
    #[cfg(test)]
    pub(crate) fn from_text(path: &Path, text: &str) -> PgPass {
        PgPass { path: path.to_owned(), entries: parse(text) }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The password of the first line matching all four fields.
    #[cfg(test)]
    pub(crate) fn lookup(&self, host: &str, port: &str, database: &str, user: &str) -> Option<&str> {
        self.lookup_any(&[host], port, database, user)
    }

    /// The password of the first line matching all four fields, trying each spelling of the host in turn
    /// (a Unix socket matches both `localhost` and its directory).
    pub(crate) fn lookup_any(&self, hosts: &[&str], port: &str, database: &str, user: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| {
                hosts.iter().any(|h| e.host.matches(h))
                    && e.port.matches(port)
                    && e.database.matches(database)
                    && e.user.matches(user)
            })
            .map(|e| e.password.as_str())
    }
}

fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    // Split on unescaped ':' into at most five fields, removing escapes and
    // remembering whether a field was exactly an unescaped '*'.
    let mut fields: Vec<(String, bool)> = Vec::with_capacity(5);
    let mut current = String::new();
    let mut escaped_any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => {
                    current.push(next);
                    escaped_any = true;
                }
                None => current.push('\\'),
            },
            ':' if fields.len() < 4 => {
                fields.push((std::mem::take(&mut current), escaped_any));
                escaped_any = false;
            }
            // libpq stops the password at an unescaped ':'.
            ':' => break,
            c => current.push(c),
        }
    }
    fields.push((current, escaped_any));
    if fields.len() < 5 {
        return None;
    }
    let field = |(text, escaped): &(String, bool)| {
        if text == "*" && !escaped {
            Field::Any
        } else {
            Field::Exact(text.clone())
        }
    };
    Some(Entry {
        host: field(&fields[0]),
        port: field(&fields[1]),
        database: field(&fields[2]),
        user: field(&fields[3]),
        password: fields[4].0.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pgpass(text: &str) -> PgPass {
        PgPass::from_text(Path::new("/x/.pgpass"), text)
    }

    #[test]
    fn first_match_wins_and_wildcards() {
        let p = pgpass(
            "# comment\n\
             db1:5432:app:bob:first\n\
             db1:5432:app:bob:second\n\
             *:5432:*:bob:any-host\n\
             *:*:*:*:fallback\n",
        );
        assert_eq!(p.lookup("db1", "5432", "app", "bob"), Some("first"));
        assert_eq!(p.lookup("db2", "5432", "other", "bob"), Some("any-host"));
        assert_eq!(p.lookup("db2", "6432", "app", "alice"), Some("fallback"));
    }

    #[test]
    fn escapes() {
        let p = pgpass("my\\:host:5432:d\\\\b:bob:pa\\:ss\\\\word:trailing\n\\*:*:*:*:literal-star\n");
        assert_eq!(p.lookup("my:host", "5432", "d\\b", "bob"), Some("pa:ss\\word"));
        // An escaped '*' is a literal star, not a wildcard.
        assert_eq!(p.lookup("other", "1", "d", "u"), None);
        assert_eq!(p.lookup("*", "1", "d", "u"), Some("literal-star"));
    }

    #[test]
    fn short_lines_and_crlf_are_handled() {
        let p = pgpass("db:5432:app:bob\nlocalhost:5432:app:bob:pw\r\n");
        assert_eq!(p.lookup("db", "5432", "app", "bob"), None);
        assert_eq!(p.lookup("localhost", "5432", "app", "bob"), Some("pw"));
        assert_eq!(p.lookup_any(&["/run/pg", "localhost"], "5432", "app", "bob"), Some("pw"));
        let p = pgpass("db:5432:app:bob:\n");
        assert_eq!(p.lookup("db", "5432", "app", "bob"), Some(""));
    }

    #[cfg(unix)]
    #[test]
    fn group_or_world_readable_files_are_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:topsecret\n").unwrap();

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        match load(&path) {
            Loaded::Found(p) => assert_eq!(p.lookup("h", "1", "d", "u"), Some("topsecret")),
            _ => panic!("0600 file should be used"),
        }
        for mode in [0o640, 0o604, 0o644, 0o620] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            match load(&path) {
                Loaded::Ignored(warning) => {
                    assert!(warning.contains("group or world access"), "{warning}");
                    assert!(warning.contains(&path.display().to_string()));
                    assert!(!warning.contains("topsecret"));
                    assert!(!warning.contains('\n'));
                }
                _ => panic!("mode {mode:o} should be ignored"),
            }
        }
        assert!(matches!(load(&dir.path().join("missing")), Loaded::Missing));
        assert!(matches!(load(dir.path()), Loaded::Ignored(_)));
    }

    #[test]
    fn debug_hides_passwords() {
        let p = pgpass("*:*:*:*:topsecret\n");
        assert!(!format!("{p:?}").contains("topsecret"));
    }
}
