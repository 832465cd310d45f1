//! `provision blueprint list | show | init`: the packs a tenant can be
//! stamped from, what one of them declares, and a new one to start from.
//! None of them needs a database.

pub mod init;
pub mod list;
pub mod show;

use std::path::{Path, PathBuf};

use crate::cli::context::{display_path, Context};
use crate::model::blueprint::{is_shipped, Origin};
use crate::model::config;
use anyhow::Result;

/// The templates directory of tenants.toml. Only its `templates` key is read,
/// so a tenants.toml that names a blueprint not written yet does not stop
/// `blueprint init` from writing it.
pub fn templates_dir(ctx: &Context) -> Result<PathBuf> {
    let (path, explicit) = match &ctx.global.config {
        Some(path) => (path.as_path(), true),
        None => (Path::new("tenants.toml"), false),
    };
    config::templates_dir(path, explicit)
}

/// `shipped`, `overridden` (a directory shadowing a shipped pack) or `directory`.
pub fn origin_kind(name: &str, origin: &Origin) -> &'static str {
    match (origin, is_shipped(name)) {
        (Origin::Shipped, _) => "shipped",
        (Origin::Directory(_), true) => "overridden",
        (Origin::Directory(_), false) => "directory",
    }
}

/// The pack's directory, when it has one.
pub fn location(origin: &Origin) -> Option<String> {
    match origin {
        Origin::Shipped => None,
        Origin::Directory(_) => Some(describe_origin(origin)),
    }
}

/// `shipped`, or the directory as the operator would type it.
pub fn describe_origin(origin: &Origin) -> String {
    match origin {
        Origin::Shipped => "shipped".to_owned(),
        Origin::Directory(dir) => shown(dir),
    }
}

/// A path as the operator would type it: relative to the current directory,
/// without a leading `./`.
pub fn shown(path: &Path) -> String {
    display_path(path.strip_prefix(".").unwrap_or(path)).display().to_string()
}
