//! `provision tenant render <code>`: the exact SQL `tenant add` would run, as
//! a script for `psql -X -1 -v ON_ERROR_STOP=1 -f -`. Needs no database.

use anyhow::Result;

use crate::blueprint::{Blueprint, Identity};
use crate::cli::TenantSpecArgs;
use crate::commands::tenant_spec;
use crate::context::Context;
use crate::migrate;
use crate::provisioner::history_table;
use crate::registry;

pub fn run(ctx: &Context, args: &TenantSpecArgs) -> Result<()> {
    let config = ctx.config()?;
    let spec = tenant_spec::resolve(args, &config)?;
    let blueprint = Blueprint::load(&config.templates_dir, &spec.blueprint)?;
    let migrations = blueprint.render(&Identity { code: spec.code.clone(), tenant_id: spec.id })?;
    let table = history_table(&spec.code);
    let mut script = format!(
        "-- provision tenant render {code}: blueprint {bp}, versions 1..{latest}\n\
         -- Run in one transaction: psql -X -1 -v ON_ERROR_STOP=1 -f <file>\n\
         -- Assumes the shared migrations are applied (provision migrate). provision itself\n\
         -- also takes advisory locks and times the history rows with the server clock.\n\n{insert}\n\nCREATE SCHEMA {schema};\n\n{create}\n",
        code = spec.code,
        bp = blueprint.name,
        latest = blueprint.latest_version(),
        insert = registry::insert_sql(&spec),
        schema = spec.code.schema_ident(),
        create = migrate::history_create_sql(&table),
    );
    for migration in &migrations {
        script.push_str(&format!(
            "\n-- {migration}\n{}\n;\n{}\n",
            migration.sql().unwrap_or_default(),
            migrate::history_insert_sql(migration, &table)
        ));
    }
    ctx.printer.data(script);
    Ok(())
}
