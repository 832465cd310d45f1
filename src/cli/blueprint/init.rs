//! `provision blueprint init <name>`: a new pack, like `cargo new`, whose
//! first table is isolated before its author writes a line: row-level
//! security forced, the tenant policy, grants to the tenant roles and the
//! audit trigger (through `[audit]`), so `provision verify` of a tenant made
//! from it is clean. The files are the core's own text in `scaffold/`, not a
//! shipped pack, and name nothing of any product.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::json;

use crate::cli::args::BlueprintInitArgs;
use crate::cli::blueprint::{shown, templates_dir};
use crate::cli::context::Context;
use crate::cli::printer::{good, strong};
use crate::error::bad_input;
use crate::model::blueprint::is_shipped;
use crate::model::config::check_blueprint_name;

/// The scaffold: (path in the pack, text). `blueprint.toml` gets its `name`
/// and `description` lines in front of this text.
const FILES: &[(&str, &str)] = &[
    ("blueprint.toml", include_str!("scaffold/blueprint.toml")),
    ("tenant/V1__first_table.sql.tera", include_str!("scaffold/V1__first_table.sql.tera")),
    ("README.md", include_str!("scaffold/README.md")),
];

/// Folders the scaffold makes empty, for the author to fill.
const FOLDERS: &[&str] = &["shared", "sample"];

pub fn run(ctx: &Context, args: &BlueprintInitArgs) -> Result<()> {
    let name = &args.name;
    check_blueprint_name(name).map_err(bad_input)?;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => templates_dir(ctx)?,
    };
    let target = dir.join(name);
    if target.symlink_metadata().is_ok() {
        return Err(bad_input(format!(
            "{} already exists; nothing was written (pick another name, or edit that blueprint)",
            shown(&target)
        )));
    }
    if is_shipped(name) {
        return Err(bad_input(format!(
            "blueprint {name:?} is shipped with provision; pick another name (to override it, copy its files \
             to {} — `provision blueprint show {name}` lists them)",
            shown(&target)
        )));
    }
    write_pack(&dir, name)?;
    report(ctx, name, &target);
    Ok(())
}

/// Writes the pack into a hidden sibling first and renames it into place,
/// so a failure leaves no half-written blueprint behind.
fn write_pack(dir: &Path, name: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let staging = dir.join(format!(".{name}.init-{}", std::process::id()));
    let result = write_files(&staging, name).and_then(|()| {
        std::fs::rename(&staging, dir.join(name)).with_context(|| format!("cannot create {}", dir.join(name).display()))
    });
    if result.is_err() {
        std::fs::remove_dir_all(&staging).ok();
    }
    result
}

fn write_files(root: &Path, name: &str) -> Result<()> {
    for folder in ["tenant"].iter().chain(FOLDERS) {
        std::fs::create_dir_all(root.join(folder)).with_context(|| format!("cannot create {}", root.display()))?;
    }
    for (path, text) in FILES {
        let text = match *path {
            "blueprint.toml" => format!(
                "# Blueprint {name}: the manifest provision reads.\nname = \"{name}\"\n\
                 description = \"{name}: describe what its tenants hold\"\n\n{text}"
            ),
            _ => (*text).to_owned(),
        };
        let file = root.join(path);
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(())
}

fn report(ctx: &Context, name: &str, target: &Path) {
    let at = shown(target);
    let files: Vec<String> = FILES.iter().map(|(path, _)| format!("{at}/{path}")).collect();
    ctx.printer.json(&json!({ "created": name, "path": at, "files": files }));
    ctx.printer.line(format!("{} blueprint {} in {at}", good("created"), strong(name)));
    ctx.printer.line(format!(
        "next:\n  edit {}/tenant/V1__first_table.sql.tera (rename items, add columns; later changes go in V2__<label>.sql.tera)\n  \
         provision blueprint show {name}\n  \
         provision tenant add <code> --name \"<display name>\" --blueprint {name}\n  \
         provision verify --tenant <code>",
        at
    ));
}
