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
use crate::tenant::quote_literal;
use crate::{admin, partitions};

pub fn run(ctx: &Context, args: &TenantSpecArgs) -> Result<()> {
    let config = ctx.config()?;
    let spec = tenant_spec::resolve(args, &config)?;
    let blueprint = Blueprint::load(&config.templates_dir, &spec.blueprint)?;
    let identity = Identity { code: spec.code.clone(), tenant_id: spec.id };
    let migrations = blueprint.render(&identity)?;
    let table = history_table(&spec.code);
    let mut script = format!(
        "-- provision tenant render {code}: blueprint {bp}, versions 1..{latest}\n\
         -- Run in one transaction: psql -X -1 -v ON_ERROR_STOP=1 -f <file>\n\
         -- Assumes the shared migrations are applied (provision migrate). provision itself\n\
         -- also takes advisory locks and times the history rows with the server clock.\n\
         -- The administrator gets no usable password here (tenant add can set one).\n\n{insert}\n\nCREATE SCHEMA {schema};\n\n{create}\n",
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
    if let Some(partitions) = partitions::window_script(&spec.code.schema_name(), &blueprint.manifest.partitioned) {
        script
            .push_str(&format!("\n-- partitions: DEFAULT plus the current period through premake ahead\n{partitions}"));
    }
    if let Some(admin) = blueprint.render_admin(&identity)? {
        script.push_str(&format!(
            "\n-- the administrator ($1 e-mail, $2 password: NULL = no usable password)\n\
             PREPARE provision_admin(text, text) AS\n{}\n;\nEXECUTE provision_admin({}, NULL);\nDEALLOCATE provision_admin;\n",
            admin.trim_end(),
            quote_literal(&admin::email(&spec.code))
        ));
    }
    ctx.printer.data(script);
    Ok(())
}
