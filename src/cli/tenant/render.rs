//! `provision tenant render <code>`: the exact SQL `tenant add` would run, as
//! a script for `psql -X -1 -v ON_ERROR_STOP=1 -f -`. Needs no database.
//! The steps mirror `provisioner::build` one for one. With `--json`, the
//! script is the `sql` of a JSON document.

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantSpecArgs;
use crate::cli::context::Context;
use crate::cli::tenant::spec;
use crate::model::blueprint::{Blueprint, Identity, RowSpec};
use crate::model::config::{PartitionOverrides, TenantSpec};
use crate::ops::provisioner::history_table;
use crate::pg::owned_ddl::Lasting;
use crate::pg::quote::{quote_ident, quote_literal};
use crate::{ops::admin, store::audit, store::migrate, store::partitions, store::registry, store::roles};

pub fn run(ctx: &Context, args: &TenantSpecArgs) -> Result<()> {
    let config = ctx.config()?;
    let spec = spec::resolve(args, &config)?;
    let blueprint = Blueprint::load(&config.templates_dir, &spec.blueprint)?;
    if let Some(row) = &blueprint.manifest.row {
        let script = row_script(&spec, &blueprint, row)?;
        match ctx.printer.is_json() {
            true => {
                ctx.printer.json(&json!({ "tenant": spec.code.as_str(), "blueprint": blueprint.name, "sql": script }))
            }
            false => ctx.printer.data(script),
        }
        return Ok(());
    }
    let mut script = header(&spec, &blueprint)?;
    script.push_str(&versions(&spec, &blueprint)?);
    let overrides = spec.partitions.or(&config.default_partitions);
    script.push_str(&finish(&spec, &blueprint, &overrides));
    script.push_str(&administrator(&spec, &blueprint)?);
    // With --json the script is a string in the run's one JSON document.
    match ctx.printer.is_json() {
        true => ctx.printer.json(&json!({ "tenant": spec.code.as_str(), "blueprint": blueprint.name, "sql": script })),
        false => ctx.printer.data(script),
    }
    Ok(())
}

fn header(spec: &TenantSpec, blueprint: &Blueprint) -> Result<String> {
    let code = &spec.code;
    let roles = roles::roles_sql(code)?;
    Ok(format!(
        "-- provision tenant render {code}: blueprint {bp}, versions 1..{latest}\n\
         -- Run in one transaction: psql -X -1 -v ON_ERROR_STOP=1 -f <file>\n\
         -- Assumes the shared migrations are applied (provision migrate) and a superuser.\n\
         -- provision itself also takes advisory locks and times the history rows with\n\
         -- the server clock. The administrator gets no usable password here.\n\n\
         {insert}\n\n{roles}\nCREATE SCHEMA {schema} AUTHORIZATION {owner};\n",
        bp = blueprint.name,
        latest = blueprint.latest_version(),
        insert = registry::insert_sql(spec, false),
        schema = code.schema_ident(),
        owner = quote_ident(&code.owner_role()),
    ))
}

/// A row tenant's script: its registry rows, its roles and its row of the
/// tenant table, by the same statement `tenant add` prepares.
fn row_script(spec: &TenantSpec, blueprint: &Blueprint, row: &RowSpec) -> Result<String> {
    let code = &spec.code;
    let (insert, values) = crate::ops::row_tenant::insert_statement(row, spec)?;
    Ok(format!(
        "-- provision tenant render {code}: blueprint {bp} (row tenancy: a row of {schema}.{table})\n\
         -- Run in one transaction: psql -X -1 -v ON_ERROR_STOP=1 -f <file>\n\
         -- Assumes `provision up` made the blueprint's tables, and a superuser.\n\n\
         {registry}\n\n{roles}\n{anchor};\n\n\
         PREPARE provision_row_tenant(json) AS\n{insert};\n\
         EXECUTE provision_row_tenant({values});\n\
         DEALLOCATE provision_row_tenant;\n",
        bp = blueprint.name,
        schema = row.schema,
        table = row.table,
        registry = registry::insert_sql(spec, true),
        roles = roles::roles_sql(code)?,
        anchor = crate::ops::row_tenant::anchor_sql(code)?.trim_end(),
        insert = insert.trim_end(),
        values = quote_literal(&values.to_string()),
    ))
}

/// Every version, run as the owner, each followed by its history row.
fn versions(spec: &TenantSpec, blueprint: &Blueprint) -> Result<String> {
    let table = history_table(&spec.code);
    let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
    let migrations = blueprint.render(&identity)?;
    let mut script = format!(
        "\n{};\n{}\n",
        roles::act_as_owner_sql(&identity, Lasting::Transaction),
        migrate::history_create_sql(&table)
    );
    for migration in &migrations {
        script.push_str(&format!(
            "\n-- {migration}\n{}\n;\n{}\n",
            crate::pg::statements::for_new_schema(migration.sql().unwrap_or_default()),
            migrate::history_insert_sql(migration, &table)
        ));
    }
    script.push_str(&format!("{};\n", roles::stop_acting_sql(Lasting::Transaction)));
    Ok(script)
}

/// Partitions, audit triggers and partition security, decided by the same
/// catalog queries `tenant add` runs, through psql's `\gexec`.
fn finish(spec: &TenantSpec, blueprint: &Blueprint, overrides: &PartitionOverrides) -> String {
    let schema = spec.code.schema_name();
    let specs = blueprint.partitions_of(&spec.code, overrides);
    let mut script = String::new();
    if let Some(window) = partitions::window_script(&schema, &specs) {
        script.push_str(&format!("\n-- partitions: DEFAULT plus the current period through premake ahead\n{window}"));
    }
    if let Some(triggers) = audit::triggers_script(&spec.code, blueprint) {
        script.push_str(&format!("\n-- audit triggers on every audited table\n{triggers}"));
    }
    let security = partitions::security_script(&partitions::schemas_of(&schema, &specs));
    script.push_str(&format!("\n-- row-level security on every partition\n{security}"));
    script
}

fn administrator(spec: &TenantSpec, blueprint: &Blueprint) -> Result<String> {
    let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
    let Some(sql) = blueprint.render_admin(&identity)? else { return Ok(String::new()) };
    Ok(format!(
        "\n-- the administrator ($1 e-mail, $2 password: NULL = no usable password)\n\
         {act};\n\
         PREPARE provision_admin(text, text) AS\n{sql}\n;\nEXECUTE provision_admin({email}, NULL);\n\
         DEALLOCATE provision_admin;\n{stop};\n",
        act = roles::act_as_owner_sql(&identity, Lasting::Transaction),
        stop = roles::stop_acting_sql(Lasting::Transaction),
        sql = sql.trim_end(),
        email = quote_literal(&admin::email(&spec.code)),
    ))
}
