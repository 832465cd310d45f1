//! What every command gets: the printer, the configuration and a way to reach
//! the database (the embedded sandbox when nothing else is given: created
//! only by the commands allowed to, see [`Context::embedded_target`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;

use crate::cli::args::{AdminArgs, Global};
use crate::cli::printer::{Printer, PrinterScope, Verbosity};
use crate::error::{bad_input, unavailable};
use crate::model::config::{Config, ServerName};
use crate::model::tenant::TenantCode;
use crate::ops::admin::{AdminPassword, AdminReport};
use crate::ops::provisioner::Settings;
use crate::pg::connection::{self, Target};
use crate::pg::sandbox::Sandbox;

pub struct Context {
    pub printer: Printer,
    pub global: Global,
    /// Whether this command may initialise `./.provision` (`up`, `db create`,
    /// `sandbox start`); every other command only uses an existing one, so a
    /// cron job whose environment did not load fails instead of starting a
    /// server of its own.
    pub may_create_sandbox: bool,
    /// The server this run talks to, for an error that outlives the connection.
    server: Mutex<Option<String>>,
    /// Which sandbox this run uses, and the target's warnings, were said: a
    /// command with several connections (`up --jobs N`) says each once.
    announced_sandbox: AtomicBool,
    warned_target: AtomicBool,
    /// One server's part of a run across `[servers.*]` (see [`crate::cli::fanout`]).
    pub scope: Option<Scope>,
}

/// What one server's part of a fan-out works on.
#[derive(Debug, Clone)]
pub struct Scope {
    pub server: ServerName,
    pub target: Target,
    /// The declared tenants placed on this server: the others are another server's.
    pub tenants: BTreeSet<TenantCode>,
    /// The template safety gate already passed for the whole run.
    pub gate_passed: bool,
}

/// Why a command that may not create the sandbox found no database.
pub const NO_DATABASE: &str = "no database given: set DATABASE_URL or the PG* variables, or run `provision up` \
                               to create the embedded sandbox";

impl Context {
    pub fn new(global: Global) -> Context {
        let verbosity = if global.quiet {
            Verbosity::Quiet
        } else if global.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Context {
            printer: Printer::new(global.json, verbosity).with_log_format(global.log_format),
            global,
            may_create_sandbox: false,
            server: Mutex::new(None),
            announced_sandbox: AtomicBool::new(false),
            warned_target: AtomicBool::new(false),
            scope: None,
        }
    }

    /// This run's context for one server's part of a fan-out: the same
    /// flags, a printer tagging its lines, and `scope` as its world.
    pub fn for_server(&self, scope: Scope, printer: Arc<PrinterScope>) -> Context {
        let mut context = Context::new(self.global.clone());
        context.may_create_sandbox = false;
        context.printer = self.printer.scoped(printer);
        context.scope = Some(scope);
        context
    }

    /// The server this run last reached (`database "x" as user "u" on host`),
    /// if any: a lost connection's error names it.
    pub fn server(&self) -> Option<String> {
        self.server.lock().ok().and_then(|s| s.clone())
    }

    fn remember_server(&self, target: &Target) {
        if let Ok(mut server) = self.server.lock() {
            *server = Some(target.describe());
        }
    }

    /// `tenants.toml`: `--config`/`PROVISION_CONFIG`, else `./tenants.toml`
    /// (whose absence just means "no tenants declared").
    /// Every declared tenant's blueprint is checked here, for every command.
    pub fn config(&self) -> Result<Config> {
        let (path, explicit) = self.config_path();
        let mut config = Config::load(path, explicit)?;
        config.check_blueprints().map_err(|e| bad_input(format!("{}: {e:#}", path.display())))?;
        if let Some(scope) = &self.scope {
            config.tenants.retain(|t| scope.tenants.contains(&t.code));
        }
        Ok(config)
    }

    /// Where tenants.toml is, and whether it was given explicitly.
    pub fn config_path(&self) -> (&Path, bool) {
        match &self.global.config {
            Some(path) => (path.as_path(), true),
            None => (Path::new("tenants.toml"), false),
        }
    }

    pub fn lock_timeout(&self) -> Duration {
        Duration::from_secs(self.global.lock_timeout)
    }

    /// Settings for tenant work against `target`.
    pub fn settings(&self, admin: &AdminArgs, target: &Target, config: &Config) -> Settings {
        Settings {
            lock_timeout: self.lock_timeout(),
            upgrade: Default::default(),
            admin_password: AdminPassword::choose(admin.admin_password.clone(), target.is_sandbox()),
            partitions: config.partition_settings(),
            structure_only: false,
        }
    }

    /// Tells the operator about a new tenant's administrator: a generated
    /// password exactly once (stdout), or that there is no usable one.
    /// One warning for every administrator without a usable password (a
    /// fleet of a thousand new tenants gets one line, not a thousand).
    pub fn report_unusable_admins(&self, emails: &[String]) {
        let who = match emails {
            [] => return,
            [one] => format!("{one} has"),
            [first, .., last] => format!("{} administrators ({first} … {last}) have", emails.len()),
        };
        self.printer.warn(format!(
            "{who} no usable password: pass --admin-password (or PROVISION_ADMIN_PASSWORD) when creating \
             a tenant, or set users.password_hash with crypt(..., gen_salt('bf', 12))"
        ));
    }

    pub fn report_admin(&self, admin: &AdminReport) {
        match (&admin.generated_password, admin.usable_password) {
            (Some(password), _) => {
                self.printer.once(format!("  {} password: {password}  (generated; shown only now)", admin.email))
            }
            (None, false) => self.report_unusable_admins(std::slice::from_ref(&admin.email)),
            (None, true) => self.printer.detail(format!("  {} uses the given password", admin.email)),
        }
    }

    /// The embedded sandbox of the current directory.
    pub fn sandbox(&self) -> Result<Sandbox> {
        let dir = std::env::current_dir()?;
        Ok(Sandbox::in_dir(&dir, self.global.sandbox_user.clone()))
    }

    /// The configured target, or `None` for the embedded default.
    pub fn explicit_target(&self) -> Result<Option<Target>> {
        if let Some(scope) = &self.scope {
            self.remember_server(&scope.target);
            return Ok(Some(scope.target.clone()));
        }
        let target = connection::resolve(self.global.database_url.as_deref(), &|name| std::env::var(name).ok())?;
        if let Some(target) = &target {
            self.remember_server(target);
        }
        Ok(target)
    }

    /// The embedded sandbox's target, started if it is not running. Only a
    /// command that may create it initialises a missing `./.provision`;
    /// any other exits 3 ([`NO_DATABASE`]) and starts nothing.
    pub async fn embedded_target(&self) -> Result<Target> {
        let sandbox = self.sandbox()?;
        if !self.may_create_sandbox && !sandbox.root().is_dir() {
            return Err(unavailable(NO_DATABASE));
        }
        let started = sandbox.start().await?;
        let root = sandbox.root().display();
        if first_time(&self.announced_sandbox) {
            self.printer.note(format!("using the embedded PostgreSQL in {root} ({started})"));
        }
        let target = sandbox.target();
        self.remember_server(&target);
        Ok(target)
    }

    /// The configured server, starting the embedded sandbox when nothing else is
    /// configured, without connecting to the target database (which `reset`
    /// drops and `db` does not use).
    pub async fn server_target(&self) -> Result<Target> {
        let target = match self.explicit_target()? {
            Some(target) => target,
            None => self.embedded_target().await?,
        };
        for warning in target.warnings() {
            self.printer.warn(warning);
        }
        Ok(target)
    }

    /// Connects to the maintenance database `postgres` of `target`'s server,
    /// with every lock wait (advisory or not) bounded by `--lock-timeout`.
    pub async fn connect_maintenance(&self, target: &Target) -> Result<Client> {
        let admin = target.with_dbname(crate::ops::template_db::MAINTENANCE_DB);
        self.printer.detail(format!("connecting to {}", admin.describe()));
        let client = admin.connect().await?;
        client.batch_execute(&format!("SET lock_timeout = '{}ms'", self.lock_timeout().as_millis())).await?;
        Ok(client)
    }

    /// What the engine needs from this run: the printer as its reporter and
    /// the lock timeout.
    pub fn env(&self) -> crate::ops::Env<'_> {
        crate::ops::Env { reporter: &self.printer, lock_timeout: self.lock_timeout() }
    }

    /// Connects to the configured database, or to the embedded sandbox.
    pub async fn connect(&self) -> Result<(Client, Target)> {
        let target = match self.explicit_target()? {
            Some(target) => target,
            None => self.embedded_target().await?,
        };
        if first_time(&self.warned_target) {
            for warning in target.warnings() {
                self.printer.warn(warning);
            }
        }
        self.printer.detail(format!("connecting to {}", target.describe()));
        self.remember_server(&target);
        let client = target.connect().await?;
        Ok((client, target))
    }
}

/// True for the first caller only: what `flag` guards is said once per run.
fn first_time(flag: &AtomicBool) -> bool {
    !flag.swap(true, Ordering::Relaxed)
}

/// Where a relative path in output should be shown from.
pub fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}
