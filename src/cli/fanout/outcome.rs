//! What a run across servers says: where a tenant goes, what placement
//! found wrong, and the one summary, document and exit code of all parts.

use anyhow::Result;
use serde_json::{json, Value};

use crate::cli::context::Context;
use crate::cli::servers::Fleet;
use crate::error::{bad_input, exit_code_of, failed, unavailable, ExitCode};
use crate::model::config::ServerName;
use crate::model::tenant::TenantCode;
use crate::ops::placement::Reason;

use super::names;

/// Warnings for what placement found: a tenant on another server than
/// tenants.toml says, or registered on two servers.
pub fn warn_about_placement(ctx: &Context, fleet: &Fleet) {
    for m in &fleet.placement.misplaced {
        ctx.printer.warn_tenant(
            &m.tenant,
            format!(
                "tenant {} is declared for server {} but found on {}; it stays on {} (move it with \
                 `provision tenant move {} --to {}`, or change tenants.toml)",
                m.tenant, m.declared, m.found, m.found, m.tenant, m.declared
            ),
        );
    }
    for (code, servers) in &fleet.placement.duplicated {
        ctx.printer.warn_tenant(
            code.as_str(),
            format!("tenant {code} is registered on servers {}; each copy is served by its own server", names(servers)),
        );
    }
}

/// Why a tenant found nowhere was not placed.
pub fn unplaced_message(code: &TenantCode, servers: &[ServerName]) -> String {
    format!(
        "tenant {code} is on no reachable server and cannot be placed while {} {} unreachable (it may hold it); \
         bring it back or run with --server to work elsewhere",
        names(servers),
        if servers.len() == 1 { "is" } else { "are" }
    )
}

/// Where a new tenant goes, and by which rule (shown by `tenant add --dry-run`).
pub fn say_placement(ctx: &Context, code: &TenantCode, server: &ServerName, reason: &Reason) {
    match reason {
        Reason::Registered => ctx.printer.detail(format!("tenant {code} is on server {server}")),
        Reason::Declared => ctx.printer.line(format!("tenant {code} goes to server {server} (tenants.toml says so)")),
        Reason::FewestRelations { relations } => {
            let counts: Vec<String> = relations.iter().map(|(s, n)| format!("{s} {n}")).collect();
            ctx.printer
                .line(format!("tenant {code} goes to server {server}: the fewest relations ({})", counts.join(", ")));
        }
    }
}

/// A one-tenant command's document, with the server it ran on.
pub fn print_single(ctx: &Context, server: &ServerName, reason: &Reason, document: Option<Value>) {
    if let Some(mut document) = document {
        if let Some(object) = document.as_object_mut() {
            object.insert("server".into(), Value::from(server.as_str()));
            object.insert("placement".into(), serde_json::to_value(reason).expect("serializable"));
        }
        ctx.printer.document(&document);
    }
}

/// What one server's part left.
pub struct Part {
    pub server: ServerName,
    /// Its JSON document, if it made one.
    pub document: Option<Value>,
    /// Its stdout, when held to be printed in server order.
    pub held: Option<String>,
    pub result: Result<()>,
}

/// The end of a fleet run: one document, one summary line, one exit code.
pub fn finish(ctx: &Context, fleet: &Fleet, parts: Vec<Part>) -> Result<()> {
    let mut entries = Vec::new();
    let mut problems: Vec<(ExitCode, String)> = Vec::new();
    for (server, why) in fleet.unreachable() {
        let name = server.spec.name.to_string();
        entries.push(json!({ "server": name, "outcome": "unreachable", "error": why }));
        problems.push((ExitCode::Unavailable, format!("server {name} unreachable: {why}")));
    }
    for Part { server, document, result, .. } in parts {
        let (outcome, error) = match &result {
            Ok(()) => ("ok", None),
            Err(e) => {
                let code = exit_code_of(e);
                let message = crate::pg::connection::redact(&format!("{e:#}"));
                problems.push((code, format!("server {server}: {message}")));
                (code.kind(), Some(message))
            }
        };
        let mut entry = json!({ "server": server.as_str(), "outcome": outcome, "document": document });
        if let Some(error) = error {
            entry["error"] = Value::from(error);
        }
        entries.push(entry);
    }
    for (code, servers) in &fleet.placement.unplaced {
        problems.push((ExitCode::Unavailable, unplaced_message(code, servers)));
    }
    entries.sort_by(|a, b| a["server"].as_str().cmp(&b["server"].as_str()));
    ctx.printer.json(&json!({
        "servers": entries,
        "misplaced": fleet.placement.misplaced,
        "unplaced": fleet.placement.unplaced.keys().map(TenantCode::as_str).collect::<Vec<_>>(),
    }));
    let said: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {}", e["server"].as_str().unwrap_or_default(), e["outcome"].as_str().unwrap_or_default()))
        .collect();
    ctx.printer.summary(format!("{}: {}", crate::cli::printer::count(entries.len(), "server"), said.join(", ")));
    verdict(problems)
}

/// The worst problem decides the exit code (unreachable, then bad input,
/// then failed); the message names every server's.
fn verdict(problems: Vec<(ExitCode, String)>) -> Result<()> {
    let message = problems.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("; ");
    let has = |code: ExitCode| problems.iter().any(|(c, _)| *c == code);
    if problems.is_empty() {
        Ok(())
    } else if has(ExitCode::Unavailable) {
        Err(unavailable(message))
    } else if has(ExitCode::BadInput) {
        Err(bad_input(message))
    } else {
        Err(failed(message))
    }
}
