//! `provision routing pgbouncer [--out FILE]`: PgBouncer's `[databases]`
//! section from every server's registry (see [`crate::ops::routing`]).
//!
//! All or nothing: a server that cannot be read fails the run before
//! anything is written, because a routing file without that server's
//! tenants would send their applications nowhere after the next RELOAD.

use anyhow::Result;
use serde_json::json;

use crate::cli::args::RoutingPgbouncerArgs;
use crate::cli::context::{display_path, Context};
use crate::cli::servers;
use crate::error::{bad_input, unavailable};
use crate::model::config::Config;
use crate::ops::placement::{self, Survey};
use crate::ops::routing::{self, Routing, Source};
use crate::pg::connection::Target;

pub async fn pgbouncer(ctx: &Context, args: &RoutingPgbouncerArgs) -> Result<()> {
    let config = ctx.config()?;
    servers::check_server_flag(ctx, &config)?;
    if let Some(name) = &ctx.global.server {
        return Err(bad_input(format!(
            "--server {name}: the routing file must name every server's tenants; leave --server out"
        )));
    }
    let routing = match config.servers.is_empty() {
        true => one_database(ctx).await?,
        false => every_server(ctx, &config).await?,
    };
    let text = routing::pgbouncer(&routing)?;
    if let Some(out) = &args.out {
        routing::write_atomically(out, &text)?;
    }
    let shown = args.out.as_deref().map(display_path);
    ctx.printer.json(&json!({ "aliases": routing.aliases, "out": shown }));
    match &shown {
        Some(path) => ctx.printer.note(format!(
            "wrote {} to {} ({}); RELOAD PgBouncer to route new connections by it",
            plural(routing.aliases.len()),
            path.display(),
            from(&routing)
        )),
        None if !ctx.printer.is_json() => ctx.printer.data(&text),
        None => {}
    }
    Ok(())
}

/// Without `[servers]`: the run's one database holds every tenant.
async fn one_database(ctx: &Context) -> Result<Routing> {
    let (client, target) = ctx.connect().await?;
    let survey = placement::survey(&client).await?;
    warn_host_list(ctx, None, &target);
    routing::route(&[Source { server: None, target: &target, tenants: &survey.tenants }])
}

/// With `[servers]`: every server's registry, or exit 3 naming the ones that did not answer.
async fn every_server(ctx: &Context, config: &Config) -> Result<Routing> {
    let fleet = servers::fleet(ctx, config, &[]).await?;
    let down: Vec<String> = fleet.unreachable().map(|(s, why)| format!("server {} ({why})", s.spec.name)).collect();
    if !down.is_empty() {
        return Err(unavailable(format!(
            "cannot read {}: nothing written, since a routing file without its tenants would drop them; \
             check that it runs and what its url_env or service gives, then run again",
            down.join(", ")
        )));
    }
    let registries: Vec<(&str, &Target, &Survey)> =
        fleet.reachable().filter_map(|s| Some((s.spec.name.as_str(), &s.target, s.survey.as_ref().ok()?))).collect();
    let sources: Vec<Source<'_>> = registries
        .iter()
        .map(|(name, target, survey)| Source { server: Some(name), target, tenants: &survey.tenants })
        .collect();
    for source in &sources {
        warn_host_list(ctx, source.server, source.target);
    }
    routing::route(&sources)
}

/// A server given as a host list (libpq's failover) is routed to its first
/// host only: PgBouncer would take the list round robin, writes included.
fn warn_host_list(ctx: &Context, server: Option<&str>, target: &Target) {
    if target.host_count() > 1 {
        let (host, port) = target.host_port();
        let which = server.map_or("the database".to_owned(), |name| format!("server {name}"));
        ctx.printer.warn(format!(
            "{which} lists {} hosts; its tenants' aliases use the first ({host}:{port}), since PgBouncer takes a \
             host list round robin rather than as a failover list",
            target.host_count()
        ));
    }
}

fn plural(n: usize) -> String {
    match n {
        1 => "1 alias".to_owned(),
        n => format!("{n} aliases"),
    }
}

fn from(routing: &Routing) -> String {
    match routing.servers.as_slice() {
        [] => "one database".to_owned(),
        names => format!("servers {}", names.join(", ")),
    }
}
