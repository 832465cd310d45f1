//! The sandbox lock: one `provision` process at a time starts, stops or
//! destroys a sandbox, so two never both run `initdb` or `pg_ctl`.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::Sandbox;
use crate::error::unavailable;

const LOCK_FILE: &str = "sandbox.lock";
/// How long to wait for another process starting or stopping the sandbox.
const LOCK_WAIT: Duration = Duration::from_secs(120);

impl Sandbox {
    /// Takes the exclusive sandbox lock, waiting up to [`LOCK_WAIT`]. With
    /// `create` false a missing root means there is nothing to lock: `None`.
    pub(super) fn lock(&self, create: bool) -> Result<Option<File>> {
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
}

/// Creates `dir` with mode 0700 (and, with `parents`, any missing parents
/// with the default mode), then enforces 0700 in case it already existed.
pub(super) fn create_private_dir(dir: &Path, parents: bool) -> Result<()> {
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
