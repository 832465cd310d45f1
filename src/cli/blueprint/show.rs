//! `provision blueprint show <name>`: what one blueprint declares and creates,
//! read from its manifest and its templates rendered for a trial tenant.

use anyhow::Result;
use serde_json::{json, Value};

use crate::cli::args::BlueprintNameArgs;
use crate::cli::blueprint::{describe_origin, location, origin_kind, templates_dir};
use crate::cli::context::Context;
use crate::model::blueprint::{Blueprint, Identity};
use crate::model::tenant::TenantCode;

pub fn run(ctx: &Context, args: &BlueprintNameArgs) -> Result<()> {
    let dir = templates_dir(ctx)?;
    let bp = Blueprint::load(&dir, &args.name)?;
    let document = describe(&bp)?;
    ctx.printer.json(&document);
    print_text(ctx, &bp, &document);
    Ok(())
}

/// The whole description as one JSON document (the text is printed from it).
fn describe(bp: &Blueprint) -> Result<Value> {
    let versions = tenant_versions(bp)?;
    let tables: Vec<String> = versions.iter().flat_map(|(_, tables)| tables.clone()).collect();
    let m = &bp.manifest;
    let audit = m.audit.as_ref().map(|a| {
        let covered: Vec<&String> = tables.iter().filter(|t| !a.exclude.contains(t)).collect();
        json!({ "covered": covered, "exclude": a.exclude, "log_interval": a.interval.unit(), "log_premake": a.premake })
    });
    Ok(json!({
        "name": bp.name, "description": m.description, "origin": origin_kind(&bp.name, &bp.origin),
        "path": location(&bp.origin), "tenancy": m.tenancy.as_str(), "tables": tables,
        "tenant_versions": versions.iter().map(|(name, tables)| json!({ "name": name, "tables": tables })).collect::<Vec<_>>(),
        "shared_versions": bp.shared.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "shared_schemas": m.shared.schemas,
        "attributes": m.attributes.iter().map(|(name, a)| (name.clone(), json!({
            "description": a.description, "values": a.values, "default": a.default,
        }))).collect::<serde_json::Map<_, _>>(),
        "partitioned": m.partitioned.iter().map(|p| json!({
            "table": p.table, "column": p.column, "interval": p.interval.unit(), "premake": p.premake, "retention": p.retention,
        })).collect::<Vec<_>>(),
        "retention": m.retention,
        "audit": audit,
        "admin_template": m.admin_template,
        "sample": m.sample.as_ref().map(|s| json!({
            "description": s.description, "default_size": s.default_size, "unit": s.unit,
            "files": bp.sample_files().map(|f| f.path.clone()).collect::<Vec<_>>(),
        })),
    }))
}

/// Each tenant version with the tables it creates in the tenant schema,
/// from the templates rendered for a trial tenant.
fn tenant_versions(bp: &Blueprint) -> Result<Vec<(String, Vec<String>)>> {
    let code = TenantCode::parse("trial").expect("a valid code");
    let schema = code.schema_name();
    let migrations = bp.render(&Identity { code, tenant_id: uuid::Uuid::nil() })?;
    Ok(migrations.iter().map(|m| (m.to_string(), created_tables(m.sql().unwrap_or_default(), &schema))).collect())
}

/// The tables `CREATE [UNLOGGED] TABLE [IF NOT EXISTS] <schema>.<name>`
/// statements of `sql` create in `schema` (or unqualified), in order.
/// Comments are skipped; dynamic SQL is not seen.
pub fn created_tables(sql: &str, schema: &str) -> Vec<String> {
    let text: String = sql.lines().map(|l| l.split("--").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let words: Vec<&str> =
        text.split(|c: char| c.is_whitespace() || c == '(' || c == ';' || c == ',').filter(|w| !w.is_empty()).collect();
    let mut tables = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if !word.eq_ignore_ascii_case("create") {
            continue;
        }
        let mut rest = words[i + 1..].iter().copied().peekable();
        while rest.peek().is_some_and(|w| ["unlogged", "temp", "temporary"].contains(&w.to_ascii_lowercase().as_str()))
        {
            rest.next();
        }
        if !rest.next().is_some_and(|w| w.eq_ignore_ascii_case("table")) {
            continue;
        }
        let mut name = rest.next().unwrap_or_default();
        if name.eq_ignore_ascii_case("if") {
            name = rest.nth(2).unwrap_or_default();
        }
        let (owner, table) = name.rsplit_once('.').map_or(("", name), |(s, t)| (s, t));
        let (owner, table) = (owner.trim_matches('"'), table.trim_matches('"'));
        let plain = !table.is_empty() && table.chars().all(|c| c.is_alphanumeric() || c == '_');
        if plain && (owner.is_empty() || owner == schema) && !tables.iter().any(|t| t == table) {
            tables.push(table.to_owned());
        }
    }
    tables
}

fn print_text(ctx: &Context, bp: &Blueprint, doc: &Value) {
    let list = |v: &Value| v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "));
    let m = &bp.manifest;
    ctx.printer.line(format!("blueprint {} ({})", bp.name, describe_origin(&bp.origin)));
    if !m.description.is_empty() {
        ctx.printer.line(format!("  {}", m.description));
    }
    let tenancy = match &m.row {
        Some(row) => format!("row (a tenant is a row of {}.{}, its rows carry {})", row.schema, row.table, row.column),
        None => "schema (one schema per tenant)".to_owned(),
    };
    ctx.printer.line(format!("tenancy: {tenancy}"));
    ctx.printer.line(format!("tenant versions ({}):", bp.steps.len()));
    for version in doc["tenant_versions"].as_array().into_iter().flatten() {
        let tables = list(&version["tables"]).unwrap_or_default();
        ctx.printer.line(format!("  {:<32} {tables}", version["name"].as_str().unwrap_or_default()));
    }
    let shared = list(&doc["shared_versions"]).unwrap_or_default();
    ctx.printer.line(format!("shared versions: {}", if shared.is_empty() { "none" } else { &shared }));
    if !m.shared.schemas.is_empty() {
        ctx.printer.line(format!("shared schemas: {}", m.shared.schemas.join(", ")));
    }
    for (name, a) in &m.attributes {
        let values = if a.values.is_empty() { "any text".to_owned() } else { a.values.join(" | ") };
        let default = a.default.as_deref().map_or("required".to_owned(), |d| format!("default {d}"));
        ctx.printer.line(format!("attribute {name}: {values} ({default})"));
    }
    for p in &m.partitioned {
        ctx.printer.line(format!(
            "partitioned: {}.{} by {}, {} ahead",
            p.table,
            p.column,
            p.interval.unit(),
            p.premake
        ));
    }
    for r in &m.retention {
        let when = r.condition.as_deref().map_or(String::new(), |c| format!(" where {c}"));
        let verb = crate::ops::retention::action_name(r.action);
        ctx.printer.line(format!("retention {}: {verb} {} {} after {}{when}", r.rule_name(), r.table, r.age, r.column));
    }
    match &m.audit {
        Some(a) if a.exclude.is_empty() => ctx.printer.line("audit: every table"),
        Some(a) => ctx.printer.line(format!("audit: every table except {}", a.exclude.join(", "))),
        None => ctx.printer.line("audit: none"),
    }
    if let Some(s) = &m.sample {
        ctx.printer.line(format!(
            "sample: {} {} by default ({})",
            s.default_size,
            s.unit,
            crate::report::count(bp.sample_files().count(), "file")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::created_tables;

    #[test]
    fn finds_the_tables_a_version_creates_in_the_tenant_schema() {
        let sql = "-- CREATE TABLE \"s\".commented (x int);\nCREATE TABLE \"s\".a (id int);\n\
                   create unlogged table if not exists \"s\".\"b\"(id int);\nCREATE TABLE other.c ();\n\
                   CREATE TABLE d AS SELECT 1; CREATE INDEX ON \"s\".a (id); CREATE TABLE \"s\".a ();";
        assert_eq!(created_tables(sql, "s"), ["a", "b", "d"]);
    }
}
