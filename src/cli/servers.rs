//! The servers of a run when tenants.toml declares `[servers.*]`: each
//! resolved from its variable or service, narrowed by `--server`, surveyed
//! in parallel, and the tenants placed on them (see [`crate::ops::placement`]).

use anyhow::Result;

use crate::cli::context::Context;
use crate::error::bad_input;
use crate::model::config::{Config, ServerName, ServerSpec};
use crate::model::tenant::TenantCode;
use crate::ops::placement::{self, Placement, ServerView, Survey};
use crate::pg::connection::Target;

/// One declared server of this run.
pub struct Server {
    pub spec: ServerSpec,
    pub target: Target,
    /// Its survey, or why it could not be reached (`host: connection refused`).
    pub survey: Result<Survey, String>,
}

/// The run's servers and where the tenants are.
pub struct Fleet {
    pub servers: Vec<Server>,
    pub placement: Placement,
    /// `--server NAME`: the run works on that server only.
    pub chosen: Option<ServerName>,
}

impl Fleet {
    pub fn server(&self, name: &ServerName) -> Option<&Server> {
        self.servers.iter().find(|s| &s.spec.name == name)
    }

    /// The servers this run works on (all, or `--server`'s).
    pub fn working(&self) -> impl Iterator<Item = &Server> {
        self.servers.iter().filter(|s| self.chosen.as_ref().is_none_or(|c| c == &s.spec.name))
    }

    /// The servers this run works on that answered.
    pub fn reachable(&self) -> impl Iterator<Item = &Server> {
        self.working().filter(|s| s.survey.is_ok())
    }

    /// The servers this run works on that did not, with why.
    pub fn unreachable(&self) -> impl Iterator<Item = (&Server, &str)> {
        self.working().filter_map(|s| Some((s, s.survey.as_ref().err()?.as_str())))
    }
}

/// Every declared server, resolved now, so a missing variable is bad input
/// before anything runs. All are surveyed even with `--server`: a new
/// tenant is placed only once every server that may hold it has answered.
pub fn targets(config: &Config) -> Result<Vec<(ServerSpec, Target)>> {
    let env = |name: &str| std::env::var(name).ok();
    config.servers.iter().map(|spec| Ok((spec.clone(), spec.target(&env)?))).collect()
}

/// `--server` without `[servers.*]` is a mistake worth one clear line.
pub fn check_server_flag(ctx: &Context, config: &Config) -> Result<()> {
    match (&ctx.global.server, config.servers.is_empty()) {
        (Some(name), true) => Err(bad_input(format!(
            "--server {name}: tenants.toml declares no servers; add [servers.{name}] with url_env = \"VARIABLE\", \
             or leave --server out"
        ))),
        _ => Ok(()),
    }
}

/// Reads every server of this run in parallel and places the declared
/// tenants, plus `extra` (a `tenant add` of a code tenants.toml lacks, or
/// the `--server` a declared one without `server =` is added on).
pub async fn fleet(ctx: &Context, config: &Config, extra: &[(TenantCode, Option<ServerName>)]) -> Result<Fleet> {
    let chosen = match ctx.global.server.as_deref() {
        Some(name) => Some(config.server(name)?.name.clone()),
        None => None,
    };
    let targets = targets(config)?;
    let answers = futures_util::future::join_all(targets.iter().map(|(spec, target)| async move {
        ctx.printer.detail(format!("surveying server {} ({})", spec.name, target.describe()));
        let client = target.connect().await.map_err(|e| format!("{e:#}"))?;
        placement::survey(&client).await.map_err(|e| format!("{e:#}"))
    }))
    .await;
    let servers: Vec<Server> =
        targets.into_iter().zip(answers).map(|((spec, target), survey)| Server { spec, target, survey }).collect();
    // A declared tenant without `server =` goes where `extra` asks (`--server
    // NAME tenant add`), else by placement's rule; the registry still wins.
    let asked = |code: &TenantCode| extra.iter().find(|(c, _)| c == code).and_then(|(_, s)| s.clone());
    let mut tenants: Vec<(TenantCode, Option<ServerName>)> = config
        .tenants
        .iter()
        .map(|t| (t.code.clone(), config.placed.get(&t.code).cloned().or_else(|| asked(&t.code))))
        .collect();
    tenants.extend(extra.iter().filter(|(code, _)| config.tenant(code).is_none()).cloned());
    let views: Vec<ServerView<'_>> =
        servers.iter().map(|s| ServerView { name: &s.spec.name, survey: &s.survey }).collect();
    let placement = placement::place(&views, &tenants);
    Ok(Fleet { servers, placement, chosen })
}
