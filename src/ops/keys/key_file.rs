//! Key files: where `provision keys` gets key material. A key is the
//! content of a file the operator names (never an argument, so it never
//! shows in `ps` or shell history), trimmed; it leaves this process only as
//! a bind parameter, and its `Debug` shows the file, never the key.

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::bad_input;
use crate::report::Reporter;

/// Shortest key accepted: keys are random files, not passwords.
pub const MIN_KEY_CHARS: usize = 32;

/// A key read from a file. Holds the secret; shows only where it came from.
pub struct Key {
    secret: String,
    path: PathBuf,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(from {})", self.path.display())
    }
}

impl Key {
    /// Reads the key in `path` (`flag` names where it was given, for the
    /// message). Missing, unreadable, non-text or short files are bad input
    /// (exit 2); a file others may read is used, with a warning.
    pub fn read(path: &Path, flag: &str, reporter: &dyn Reporter) -> Result<Key> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => bad_input(format!("{flag} {shown}: no such file; pass the file that holds the key")),
            _ => bad_input(format!("{flag} {shown}: cannot read the key file ({e}); check its path and permissions")),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            bad_input(format!("{flag} {shown}: the key file is not text; a key file holds the key as text"))
        })?;
        let secret = text.trim().to_owned();
        if secret.chars().count() < MIN_KEY_CHARS {
            return Err(bad_input(format!(
                "{flag} {shown}: the key is {} characters long, fewer than {MIN_KEY_CHARS}; \
                 make a key with `openssl rand -base64 48 > {shown}`",
                secret.chars().count()
            )));
        }
        warn_if_shared(path, flag, reporter);
        Ok(Key { secret, path: path.to_path_buf() })
    }

    /// The key itself, only for a bind parameter.
    pub(super) fn expose(&self) -> &str {
        &self.secret
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, flag: &str, reporter: &dyn Reporter) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else { return };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        reporter.warn(&format!(
            "{flag} {}: the key file is readable by others (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path, _flag: &str, _reporter: &dyn Reporter) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Silent;

    #[test]
    fn a_key_is_trimmed_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let secret = "s3cret-s3cret-s3cret-s3cret-s3cret-42";
        std::fs::write(&path, format!("  {secret}\n")).unwrap();
        let key = Key::read(&path, "--from-key-file", &Silent).unwrap();
        assert_eq!(key.expose(), secret);
        assert!(!format!("{key:?}").contains(secret));
    }

    #[test]
    fn short_and_missing_keys_are_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short");
        std::fs::write(&path, "tooshort\n").unwrap();
        let short = Key::read(&path, "--to-key-file", &Silent).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&short), crate::error::ExitCode::BadInput);
        assert!(short.to_string().contains("8 characters"), "{short}");
        assert!(!short.to_string().contains("tooshort"), "{short}");
        let missing = Key::read(&dir.path().join("none"), "--to-key-file", &Silent).unwrap_err();
        assert!(missing.to_string().contains("no such file"), "{missing}");
    }
}
