//! The backup file itself, section by section: the header and checks, the
//! tenant's roles and registry rows, pg_dump's output, the audit log, and
//! the privileges pg_dump leaves out.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::inventory::Inventory;
use crate::pg::connection::Target;
use crate::pg::quote::{quote_ident, quote_literal};
use crate::pg::script;
use crate::pg::tools::Found;
use crate::store::registry::Registered;
use crate::store::roles;

/// Rows per INSERT statement for the audit log's data.
const ROWS_PER_INSERT: &str = "1000";

pub(super) struct Plan<'a> {
    pub(super) tenant: &'a Registered,
    pub(super) target: &'a Target,
    pub(super) tool: &'a Found,
    pub(super) snapshot: String,
    pub(super) lock_timeout: Duration,
    pub(super) inventory: Inventory,
    /// `<code>_schema`, and `<code>_archive` if it exists.
    pub(super) schemas: Vec<String>,
    pub(super) registry: Vec<String>,
    pub(super) explicit_acls: Vec<String>,
    pub(super) default_privileges: Vec<String>,
    pub(super) memberships: Vec<String>,
}

impl Plan<'_> {
    /// Returns pg_dump's warnings and the still-locked file, which the
    /// caller keeps open until the file is renamed into place.
    pub(super) async fn write_file(&self, partial: &Path) -> Result<(Vec<String>, File)> {
        let code = &self.tenant.code;
        let mut file = super::open_partial(partial)?;
        let mut warnings = Vec::new();

        file.write_all(self.header()?.as_bytes())?;
        file.write_all(self.roles_and_registry()?.as_bytes())?;

        let schemas = &self.schemas;
        let mut args = self.common_args();
        // row_security = on in the output: with off, restoring fails at
        // REFRESH MATERIALIZED VIEW, which runs as the owner, held to the
        // policies by FORCE ROW LEVEL SECURITY. Dumping as superuser or
        // BYPASSRLS (checked above) still reads every row.
        args.extend(["--no-publications", "--no-subscriptions", "--enable-row-security"].map(str::to_owned));
        args.extend(schemas.iter().map(|s| format!("--schema={}", quote_ident(s))));
        section(&mut file, &format!("3. pg_dump of schema {}", schemas.join(" and schema ")))?;
        warnings.extend(self.run_pg_dump(&args, &file).await?);

        section(&mut file, &format!("4. the audit log audit.{}", code.audit_log_name()))?;
        file.write_all(self.audit_log_sql()?.as_bytes())?;
        if self.inventory.audit_log && !self.inventory.partitions.is_empty() {
            let mut args = self.common_args();
            args.extend(
                ["--data-only", "--column-inserts", "--on-conflict-do-nothing", "--load-via-partition-root"]
                    .map(str::to_owned),
            );
            args.push(format!("--rows-per-insert={ROWS_PER_INSERT}"));
            args.extend(
                self.inventory.partitions.iter().map(|(name, _)| format!("--table=\"audit\".{}", quote_ident(name))),
            );
            warnings.extend(self.run_pg_dump(&args, &file).await?);
        }

        section(&mut file, "5. privileges pg_dump leaves out, and the role memberships of the tenant's roles")?;
        let mut tail = String::new();
        for statement in self.explicit_acls.iter().chain(&self.default_privileges).chain(&self.memberships) {
            tail.push_str(statement);
            tail.push('\n');
        }
        tail.push_str("\nRESET app.tenant_id;\nRESET session_replication_role;\n\n-- End of the backup of tenant ");
        tail.push_str(code.as_str());
        tail.push_str(".\n");
        file.write_all(tail.as_bytes())?;
        file.sync_all()?;
        Ok((warnings, file))
    }

    fn header(&self) -> Result<String> {
        let tenant = self.tenant;
        let code = &tenant.code;
        let now = time::OffsetDateTime::now_utc();
        let taken = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let (literal_code, schema, id) =
            (quote_literal(code.as_str()), quote_literal(&code.schema_name()), quote_literal(&tenant.id.to_string()));
        let values = [("code", literal_code.as_str()), ("schema", schema.as_str()), ("tenant_id", id.as_str())];
        let preamble = script::render(include_str!("../sql/backup_preamble.sql"), &values)?;
        Ok(format!(
            "-- Backup of tenant {code} ({id}, blueprint {blueprint}, {status}), taken {taken}\n\
             -- from {source}\n\
             -- by provision {version} with pg_dump {pg_dump}.\n\
             --\n\
             -- Restore it as a superuser into a database that has the shared migrations\n\
             -- (`provision migrate`) and no tenant {code}, in one transaction:\n\
             --   psql -X -1 -v ON_ERROR_STOP=1 -d <database> -f <this file>\n\
             -- The audit log audit.{log} is kept by `tenant remove`: its rows are\n\
             -- restored only where they are missing.\n\
             --\n\
             -- It holds every row of the tenant: keep it as safe as the database.\n\
             \n\
             \\set ON_ERROR_STOP on\n\
             SET standard_conforming_strings = on;\n\
             {banner}\
             {preamble}",
            banner = banner("1. checks, and the settings of the restore"),
            id = tenant.id,
            blueprint = tenant.blueprint,
            status = if tenant.status.is_empty() { "no status" } else { &tenant.status },
            source = self.target.describe(),
            version = env!("CARGO_PKG_VERSION"),
            pg_dump = self.tool.version,
            log = code.audit_log_name(),
        ))
    }

    /// Section 2: the roles (as `tenant add` creates them) and the registry rows.
    fn roles_and_registry(&self) -> Result<String> {
        let code = &self.tenant.code;
        let (owner, app, ro) =
            (quote_literal(&code.owner_role()), quote_literal(&code.app_role()), quote_literal(&code.ro_role()));
        let values = [("owner", owner.as_str()), ("app", app.as_str()), ("ro", ro.as_str())];
        let mut sql = String::new();
        sql.push_str(&banner("2. the tenant's roles and its registry rows"));
        // tenant_roles.sql ends with a query listing powerful roles for
        // `tenant add` to refuse; in a script the guard below raises instead.
        let roles = roles::roles_sql(code)?;
        let roles = match roles.find("\n$roles$;") {
            Some(end) => &roles[..end + "\n$roles$;".len()],
            None => &roles,
        };
        sql.push_str(roles);
        sql.push_str("\n\n");
        sql.push_str(&script::render(include_str!("../sql/backup_role_guard.sql"), &values)?);
        sql.push('\n');
        for statement in &self.registry {
            sql.push_str(statement);
            sql.push('\n');
        }
        Ok(sql)
    }

    /// Section 4: the audit log and its partitions where this database lacks them.
    fn audit_log_sql(&self) -> Result<String> {
        let array = |values: Vec<&str>| {
            if values.is_empty() {
                "ARRAY[]::text[]".to_owned()
            } else {
                format!("ARRAY[{}]", values.into_iter().map(quote_literal).collect::<Vec<_>>().join(", "))
            }
        };
        let names = array(self.inventory.partitions.iter().map(|(n, _)| n.as_str()).collect());
        let bounds = array(self.inventory.partitions.iter().map(|(_, b)| b.as_str()).collect());
        let code = quote_literal(self.tenant.code.as_str());
        let values = [("code", code.as_str()), ("names", names.as_str()), ("bounds", bounds.as_str())];
        Ok(format!("{}\n", script::render(include_str!("../sql/backup_audit_log.sql"), &values)?))
    }
}

fn banner(title: &str) -> String {
    format!("\n--\n-- {title}\n--\n\n")
}

fn section(file: &mut File, title: &str) -> Result<()> {
    file.write_all(banner(title).as_bytes())?;
    Ok(())
}
