//! `provision blueprint list`: every blueprint available here, shipped in the
//! binary or in the templates directory, with its tenancy and versions.

use anyhow::Result;
use serde_json::json;

use crate::cli::blueprint::{describe_origin, location, origin_kind, shown, templates_dir};
use crate::cli::context::Context;
use crate::model::blueprint::{available, Blueprint};

pub fn run(ctx: &Context) -> Result<()> {
    let dir = templates_dir(ctx)?;
    let mut rows = Vec::new();
    for (name, origin) in available(&dir) {
        let row = match Blueprint::load(&dir, &name) {
            Ok(bp) => json!({
                "name": name, "origin": origin_kind(&name, &origin), "path": location(&origin),
                "description": bp.manifest.description, "tenancy": bp.manifest.tenancy.as_str(),
                "tenant_version": bp.latest_version(),
                "shared_versions": bp.shared.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
            // A broken pack is listed with its error: the list is how one finds it.
            Err(e) => json!({
                "name": name, "origin": origin_kind(&name, &origin), "path": location(&origin),
                "error": format!("{e:#}"),
            }),
        };
        let from = match origin_kind(&name, &origin) {
            "overridden" => format!("{} (overrides shipped)", describe_origin(&origin)),
            _ => describe_origin(&origin),
        };
        rows.push((row, from));
    }
    ctx.printer.json(&json!({
        "templates_dir": shown(&dir),
        "blueprints": rows.iter().map(|(row, _)| row).collect::<Vec<_>>(),
    }));
    // Columns as wide as their longest value, so an overriding directory's
    // long origin does not push its description out of line.
    let width = rows.iter().map(|(_, from)| from.chars().count()).chain([4]).max().unwrap_or(4);
    ctx.printer.line(format!(
        "{:<20} {:<8} {:>7} {:>6}  {:<width$} DESCRIPTION",
        "NAME", "TENANCY", "VERSION", "SHARED", "FROM"
    ));
    for (row, from) in &rows {
        let name = row["name"].as_str().unwrap_or_default();
        if let Some(error) = row["error"].as_str() {
            ctx.printer.line(format!("{name:<20} {from}: error: {error}"));
            continue;
        }
        ctx.printer.line(format!(
            "{name:<20} {:<8} {:>7} {:>6}  {from:<width$} {}",
            row["tenancy"].as_str().unwrap_or_default(),
            row["tenant_version"].as_i64().unwrap_or_default(),
            row["shared_versions"].as_array().map_or(0, Vec::len),
            row["description"].as_str().unwrap_or_default(),
        ));
    }
    if rows.is_empty() {
        ctx.printer.line("no blueprints: `provision blueprint init <name>` writes one");
    }
    Ok(())
}
