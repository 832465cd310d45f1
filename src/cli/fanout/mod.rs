//! Commands across `[servers.*]`: every fleet command runs on all servers
//! in parallel and ends with one summary; a command about one tenant runs
//! on the server that holds it.
//!
//! Each server's part is the command itself, run with a [`Scope`]: its
//! context connects to that server only, sees the declared tenants placed
//! there (see [`crate::ops::placement`]), and prints through a printer
//! that tags each line `[server]` and keeps its JSON document for the run's
//! one document. `--jobs` is therefore per server.
//!
//! Failures are per server: a server that cannot be reached never stops
//! the others, whose work is committed and reported; the run then exits 3
//! naming it. A tenant's failure exits 1 naming the server and the tenant.

mod gate;
mod outcome;
mod shape;

use std::sync::{Arc, Mutex};

use anyhow::Result;
use clap::Parser;

use crate::cli::args::{Cli, Command};
use crate::cli::context::{Context, Scope};
use crate::cli::printer::PrinterScope;
use crate::cli::servers;
use crate::error::{bad_input, unavailable};
use crate::model::config::ServerName;
use crate::model::tenant::TenantCode;
use outcome::Part;

pub use shape::{shape, Shape};

/// Runs `command` across the declared servers, or returns it untouched
/// when this run is not one across servers (no `[servers.*]`, already one
/// server's part, or a command that knows nothing of servers).
pub async fn run(ctx: &Context, command: Command) -> Result<Option<Command>> {
    let shape = shape(&command);
    let one_server = !crate::model::config::declares_servers(ctx.config_path().0);
    if ctx.scope.is_some() || shape == Shape::Local || (one_server && ctx.global.server.is_none()) {
        return Ok(Some(command));
    }
    if shape == Shape::Single && ctx.global.server.is_none() {
        return Ok(Some(command));
    }
    let config = ctx.config()?;
    servers::check_server_flag(ctx, &config)?;
    if config.servers.is_empty() {
        return Ok(Some(command));
    }
    if ctx.global.database_url.is_some() {
        ctx.printer.warn(
            "--database-url / DATABASE_URL is ignored: tenants.toml declares [servers], whose url_env variables say \
             where each server is (use --server NAME to work on one)",
        );
    }
    match shape {
        Shape::Fleet(codes) => fleet(ctx, &config, &codes).await.map(|()| None),
        Shape::Tenant(code) => tenant(ctx, &config, &code).await.map(|()| None),
        Shape::Single => match ctx.global.server.as_deref() {
            None => Ok(Some(command)),
            Some(_) => single(ctx, &config).await.map(|()| None),
        },
        Shape::Local => Ok(Some(command)),
    }
}

/// A fleet command on every (chosen) server, one summary.
async fn fleet(ctx: &Context, config: &crate::model::config::Config, codes: &[String]) -> Result<()> {
    let asked = parse_codes(codes)?;
    let extra: Vec<(TenantCode, Option<ServerName>)> = asked.iter().map(|c| (c.clone(), None)).collect();
    let fleet = servers::fleet(ctx, config, &extra).await?;
    outcome::warn_about_placement(ctx, &fleet);
    let gate_passed = gate::before_fleet(ctx, config, &fleet).await?;
    let parts: Vec<&servers::Server> = fleet
        .reachable()
        .filter(|s| asked.is_empty() || asked.iter().any(|c| fleet.placement.server_of(c) == Some(&s.spec.name)))
        .collect();
    let results = futures_util::future::join_all(parts.iter().map(|server| {
        let scope = Scope {
            server: server.spec.name.clone(),
            target: server.target.clone(),
            tenants: fleet.placement.tenants_on(&server.spec.name),
            gate_passed,
        };
        part(ctx, scope, true)
    }))
    .await;
    // Parts come back in server order: held tables print one server after the other.
    for held in results.iter().filter_map(|part| part.held.as_ref()) {
        ctx.printer.data(held);
    }
    outcome::finish(ctx, &fleet, results)
}

/// A command about one tenant, on the server that holds it (or, for
/// `tenant add`, the one it is placed on).
async fn tenant(ctx: &Context, config: &crate::model::config::Config, code: &str) -> Result<()> {
    let code = TenantCode::parse(code).map_err(|e| bad_input(e.to_string()))?;
    let chosen = match ctx.global.server.as_deref() {
        Some(name) => Some(config.server(name)?.name.clone()),
        None => None,
    };
    let fleet = servers::fleet(ctx, config, &[(code.clone(), chosen.clone())]).await?;
    outcome::warn_about_placement(ctx, &fleet);
    let Some((name, reason)) = fleet.placement.on.get(&code) else {
        let servers = fleet.placement.unplaced.get(&code).cloned().unwrap_or_default();
        return Err(unavailable(outcome::unplaced_message(&code, &servers)));
    };
    if let Some(chosen) = chosen.as_ref().filter(|c| *c != name) {
        return Err(bad_input(format!(
            "tenant {code} is on server {name}, not {chosen}; leave --server out, or move it with \
             `provision tenant move {code} --to {chosen}`"
        )));
    }
    let server = fleet.server(name).expect("placed on a declared server");
    if let Err(why) = &server.survey {
        return Err(unavailable(format!("server {name} holds tenant {code} and cannot be reached: {why}")));
    }
    outcome::say_placement(ctx, &code, name, reason);
    let scope =
        Scope { server: name.clone(), target: server.target.clone(), tenants: [code].into(), gate_passed: false };
    let Part { document, result, .. } = part(ctx, scope, false).await;
    outcome::print_single(ctx, name, reason, document);
    result
}

/// `db …` / `reset` with `--server`: on that server, as without servers.
async fn single(ctx: &Context, config: &crate::model::config::Config) -> Result<()> {
    let fleet = servers::fleet(ctx, config, &[]).await?;
    let server = fleet.working().next().expect("--server names a declared server");
    let scope = Scope {
        server: server.spec.name.clone(),
        target: server.target.clone(),
        tenants: fleet.placement.tenants_on(&server.spec.name),
        gate_passed: false,
    };
    let Part { document, result, .. } = part(ctx, scope, false).await;
    if let Some(document) = document {
        ctx.printer.document(&document);
    }
    result
}

/// One server's part: the command, parsed again from this process's
/// arguments (each part needs its own), under `scope`.
async fn part(ctx: &Context, scope: Scope, tagged: bool) -> Part {
    let server = scope.server.to_string();
    let buffer = (tagged && ctx.printer.lines_are_data()).then(|| Mutex::new(String::new()));
    let printer = Arc::new(PrinterScope { server, tagged, buffer, document: Mutex::new(None) });
    let context = ctx.for_server(scope, printer.clone());
    let command = match Cli::try_parse() {
        Ok(cli) => cli.command,
        Err(e) => {
            let server = context.scope.expect("a part has a scope").server;
            return Part { server, document: None, held: None, result: Err(bad_input(e.to_string())) };
        }
    };
    let result = Box::pin(crate::cli::run(&context, command)).await;
    let document = printer.document.lock().expect("not poisoned").take();
    let held = printer.buffer.as_ref().map(|b| std::mem::take(&mut *b.lock().expect("not poisoned")));
    Part { server: context.scope.expect("a part has a scope").server, document, held, result }
}

fn parse_codes(codes: &[String]) -> Result<Vec<TenantCode>> {
    codes.iter().map(|c| TenantCode::parse(c).map_err(|e| bad_input(e.to_string()))).collect()
}

/// Servers named in a message, in order.
fn names(servers: &[ServerName]) -> String {
    servers.iter().map(ServerName::as_str).collect::<Vec<_>>().join(", ")
}
