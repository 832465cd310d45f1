//! Where a blueprint's files come from: the packs shipped inside the binary,
//! or a `templates/<name>/` directory next to `tenants.toml`, which adds a
//! blueprint or overrides a shipped one of the same name. Nothing else reads
//! pack files, so a shipped pack and a directory behave the same.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use include_dir::{include_dir, Dir};

use crate::error::bad_input;

/// The packs of this source tree's `templates/`, compiled in so that
/// `provision up` works in a directory holding only `tenants.toml`.
static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The file every pack has.
pub const MANIFEST: &str = "blueprint.toml";

/// Where a loaded blueprint came from (`status` and `blueprint list` say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into this binary.
    Shipped,
    /// A directory, which takes precedence over a shipped pack of its name.
    Directory(PathBuf),
}

impl Origin {
    /// `shipped`, or the directory.
    pub fn describe(&self) -> String {
        match self {
            Origin::Shipped => "shipped".to_owned(),
            Origin::Directory(dir) => dir.display().to_string(),
        }
    }
}

/// One file of a pack: its path inside the pack (`/`-separated) and bytes.
#[derive(Debug, Clone)]
pub struct PackFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl PackFile {
    /// The file as text; a pack's SQL and TOML must be UTF-8.
    pub fn text(&self, pack: &str) -> Result<String> {
        String::from_utf8(self.bytes.clone()).map_err(|_| bad_input(format!("{pack}/{}: not UTF-8 text", self.path)))
    }
}

/// Every file of one pack, sorted by path.
#[derive(Debug, Clone)]
pub struct Pack {
    pub origin: Origin,
    /// How messages name the pack's location.
    pub location: PathBuf,
    pub files: Vec<PackFile>,
}

impl Pack {
    pub fn file(&self, path: &str) -> Option<&PackFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The files directly in `folder` (`""` for the top of the pack).
    pub fn files_in<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a PackFile> + 'a {
        self.files.iter().filter(move |f| {
            let rest = match folder.is_empty() {
                true => Some(f.path.as_str()),
                false => f.path.strip_prefix(folder).and_then(|r| r.strip_prefix('/')),
            };
            rest.is_some_and(|r| !r.contains('/'))
        })
    }
}

/// Finds pack `name`: `templates_dir/<name>` when it has a manifest, else
/// the shipped pack, else `None`.
pub fn find(templates_dir: &Path, name: &str) -> Result<Option<Pack>> {
    let dir = templates_dir.join(name);
    if dir.join(MANIFEST).is_file() {
        let mut files = Vec::new();
        read_dir(&dir, "", &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        return Ok(Some(Pack { origin: Origin::Directory(dir.clone()), location: dir, files }));
    }
    let Some(shipped) = SHIPPED.get_dir(name).filter(|d| d.get_file(d.path().join(MANIFEST)).is_some()) else {
        return Ok(None);
    };
    let mut files = Vec::new();
    collect_shipped(shipped, shipped.path(), &mut files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Some(Pack { origin: Origin::Shipped, location: PathBuf::from(format!("(shipped)/{name}")), files }))
}

/// Whether a pack of this name is shipped in the binary.
pub fn is_shipped(name: &str) -> bool {
    SHIPPED.get_dir(name).is_some_and(|d| d.get_file(d.path().join(MANIFEST)).is_some())
}

/// Every available pack name with where it comes from: directories first,
/// shipped packs that no directory overrides after, sorted by name.
pub fn available(templates_dir: &Path) -> Vec<(String, Origin)> {
    let mut names: Vec<(String, Origin)> = std::fs::read_dir(templates_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(MANIFEST).is_file())
        .filter_map(|e| Some((e.file_name().into_string().ok()?, Origin::Directory(e.path()))))
        .collect();
    for dir in SHIPPED.dirs().filter(|d| d.get_file(d.path().join(MANIFEST)).is_some()) {
        let name = dir.path().to_string_lossy().into_owned();
        if !names.iter().any(|(n, _)| *n == name) {
            names.push((name, Origin::Shipped));
        }
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names
}

fn read_dir(dir: &Path, prefix: &str, files: &mut Vec<PackFile>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if name.starts_with('.') {
            continue;
        }
        let relative = format!("{prefix}{name}");
        if path.is_dir() {
            read_dir(&path, &format!("{relative}/"), files)?;
        } else {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            files.push(PackFile { path: relative, bytes });
        }
    }
    Ok(())
}

fn collect_shipped(dir: &Dir<'static>, root: &Path, files: &mut Vec<PackFile>) {
    for file in dir.files() {
        let path = file.path().strip_prefix(root).unwrap_or(file.path());
        files.push(PackFile { path: path.to_string_lossy().replace('\\', "/"), bytes: file.contents().to_vec() });
    }
    for sub in dir.dirs() {
        collect_shipped(sub, root, files);
    }
}
