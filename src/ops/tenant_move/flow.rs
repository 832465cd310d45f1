//! The order of a move's steps, resuming after the last recorded one, and
//! `--abort`. What each step does lives in its own module.

use anyhow::Result;
use tokio_postgres::Client;

use super::freeze::{self, Copy};
use super::relations::Relations;
use super::state::{self, Recorded, Step};
use super::{checks, cleanup, offline, replicate, target, Location, MoveReporter, Moved, Outcome, Request, Side};
use crate::error::{bad_input, failed, unavailable};
use crate::failpoint;
use crate::model::blueprint::Blueprint;
use crate::model::tenant::TenantCode;
use crate::store::registry::{self, Registered};

/// Moves `request.code` to `request.to` (one of `servers`), or resumes the
/// move an interrupted run recorded.
pub async fn run(reporter: &dyn MoveReporter, request: &Request<'_>, servers: &[Side]) -> Result<Moved> {
    let code = request.code;
    let to = side(servers, request.to)?;
    let (from, recorded) = match super::locate(code, request.to, servers).await? {
        Location::AlreadyThere => return Ok(moved(Outcome::AlreadyMoved, "", request.to)),
        Location::Source(i, recorded) => (&servers[i], recorded),
    };
    let (mut src, mut dst) = (from.target.connect().await?, to.target.connect().await?);
    let result = steps(reporter, request, servers, (from, to), recorded, (&mut src, &mut dst)).await;
    result.map_err(|e| match (src.is_closed(), dst.is_closed()) {
        // The cause says the connection was lost; this says to which server.
        (true, _) => e.context(format!("tenant {code}: lost server {}", from.name)),
        (false, true) => e.context(format!("tenant {code}: lost server {}", to.name)),
        (false, false) => e,
    })
}

/// The move itself, on open connections to both servers.
async fn steps(
    reporter: &dyn MoveReporter,
    request: &Request<'_>,
    servers: &[Side],
    (from, to): (&Side, &Side),
    recorded: Option<Recorded>,
    (src, dst): (&mut Client, &mut Client),
) -> Result<Moved> {
    let code = request.code;
    checks::servers(&*src, &*dst, (from, to), request.offline || recorded.as_ref().is_some_and(|r| r.offline)).await?;
    let in_use = crate::ops::shared_parts::in_use(&*src, request.config).await?;
    let known = crate::ops::shared_parts::parts(&in_use);
    crate::store::shared::apply_core(&mut *src, request.settings.lock_timeout, reporter, &known).await?;
    hold_tenant(&*src, code, from).await?;
    let tenant = movable(&*src, code, recorded.as_ref(), request).await?;
    let offline = recorded.as_ref().map_or(request.offline, |r| r.offline);
    let mut done = moved(Outcome::Moved, &from.name, &to.name);
    done.resumed_from = recorded.as_ref().map(|r| r.step);
    let step = first_step((&*src, &*dst), to, code, recorded.as_ref(), offline).await?;
    let relations = Relations::read(&*src, code).await?;
    if step < Step::Provisioned {
        let resumed = recorded.is_some();
        provision_step(reporter, (&*src, &mut *dst), to, (&tenant, &relations), request, resumed, &mut done).await?;
    }
    done.missing_logins = cleanup::carry_logins(&*src, &*dst, code).await?;
    if step < Step::Switched {
        if !offline {
            // A failure here leaves the move recorded for a re-run to resume.
            replicate_steps(reporter, (&mut *src, &mut *dst), (from, to), step, &relations, &mut done).await?;
        }
        let paused = match &request.cutover {
            Some(cutover) => {
                reporter.step(&format!("pausing alias {code} on PgBouncer"));
                Some(cutover.pause(code, request.max_freeze).await?)
            }
            None => None,
        };
        let frozen = match offline {
            false => live(reporter, (&mut *src, &mut *dst), from, &relations, request).await,
            true => dumped(reporter, (&mut *src, &mut *dst), (from, to), &relations, request).await,
        };
        let frozen = match frozen {
            Ok(frozen) => frozen,
            Err(e) => {
                let e = after_failed_freeze((&mut *src, &mut *dst), code, (from, to), e).await;
                if let Some(Err(lifting)) = match paused {
                    Some(paused) => Some(paused.resume().await),
                    None => None,
                } {
                    return Err(failed(format!("{e:#}; {lifting:#}")));
                }
                return Err(e);
            }
        };
        (done.rows, done.freeze_ms, done.slowest) = (frozen.rows, Some(frozen.freeze_ms), frozen.slowest);
        done.steps.push(Step::Switched);
        if let Some(paused) = paused {
            failpoint::hit("cutover.while_paused");
            reporter.step(&format!("routing alias {code} to server {} and resuming it", to.name));
            done.paused_ms = Some(paused.reroute(servers).await?);
        }
        failpoint::hit("tenant_move.after_switch");
    } else {
        // Killed between the source's and the target's commit, or after.
        freeze::activate(&*dst, code).await?;
        if let Some(cutover) = &request.cutover {
            reporter.step(&format!("routing alias {code} to server {} on PgBouncer", to.name));
            cutover.reroute_only(servers, code).await?;
        }
    }
    if step < Step::Cleaned {
        replicate::drop_all(&*src, Some(&*dst), code).await?;
        record(&*src, code, Step::Cleaned, &mut done).await?;
        failpoint::hit("tenant_move.after_cleanup");
    }
    finish(reporter, &mut *src, from, code, request, &mut done).await?;
    Ok(done)
}

/// The step a move starts from: the recorded one, or, after the checks a
/// new move makes, a new record.
async fn first_step(
    (src, dst): (&Client, &Client),
    to: &Side,
    code: &TenantCode,
    recorded: Option<&Recorded>,
    offline: bool,
) -> Result<Step> {
    if let Some(recorded) = recorded {
        return Ok(recorded.step);
    }
    if !offline {
        checks::replica_identity(src, code).await?;
    }
    target::check_free(dst, code, &to.name).await?;
    state::begin(src, code, &to.name, offline).await?;
    Ok(Step::Started)
}

/// Step 1; an interrupted provisioning (`resumed`) is redone from scratch.
async fn provision_step(
    reporter: &dyn MoveReporter,
    (src, dst): (&Client, &mut Client),
    to: &Side,
    (tenant, relations): (&Registered, &Relations),
    request: &Request<'_>,
    resumed: bool,
    done: &mut Moved,
) -> Result<()> {
    let code = request.code;
    if resumed {
        clean_target(src, dst, code).await?;
    }
    reporter.step(&format!("provisioning tenant {code} on server {}", to.name));
    let blueprint = Blueprint::load(&request.config.templates_dir, &tenant.blueprint)?;
    let spec = target::spec_of(src, tenant, request.config).await?;
    let pair = (dst, &to.target);
    target::provision(reporter, pair, request.config, (&spec, &blueprint), request.settings, relations).await?;
    record(src, code, Step::Provisioned, done).await?;
    failpoint::hit("tenant_move.after_provision");
    Ok(())
}

/// Steps 2–3 of a live move, from `step` on.
async fn replicate_steps(
    reporter: &dyn MoveReporter,
    (src, dst): (&mut Client, &mut Client),
    (from, to): (&Side, &Side),
    step: Step,
    relations: &Relations,
    done: &mut Moved,
) -> Result<()> {
    let code = &relations.code;
    if step < Step::Published {
        reporter.step(&format!("publishing tenant {code} on server {}", from.name));
        replicate::publish(src, code).await?;
        record(src, code, Step::Published, done).await?;
        failpoint::hit("tenant_move.after_publication");
    }
    if step < Step::Subscribed {
        reporter.step(&format!("subscribing server {} to it", to.name));
        replicate::subscribe(src, dst, &from.target, code).await?;
        record(src, code, Step::Subscribed, done).await?;
        failpoint::hit("tenant_move.after_subscription");
    }
    if step == Step::Subscribed && !replicate::copy_finished(dst, code).await? {
        reporter.step(&format!("copying tenant {code} again: an interrupted run left the copy unfinished"));
        replicate::restart_copy((src, dst), &from.target, code, relations).await?;
    }
    reporter.step(&format!("copying tenant {code} to server {}", to.name));
    replicate::catch_up(reporter, (src, dst), code, to, relations).await?;
    if step < Step::CaughtUp {
        record(src, code, Step::CaughtUp, done).await?;
    }
    failpoint::hit("tenant_move.after_catch_up");
    Ok(())
}

/// Steps 4–5 of a live move: the freeze, the comparison and the switch.
async fn live(
    reporter: &dyn MoveReporter,
    (src, dst): (&mut Client, &mut Client),
    from: &Side,
    relations: &Relations,
    request: &Request<'_>,
) -> Result<freeze::Frozen> {
    let code = request.code;
    reporter.step(&format!("freezing writes of tenant {code} on server {} and switching", from.name));
    let slot = replicate::object_name(code);
    let flusher = from.target.connect().await?;
    let copy = Copy::Live { slot: &slot, flusher: &flusher };
    freeze::freeze_and_switch((src, dst), code, relations, copy, Some(request.max_freeze)).await
}

/// Steps 2–5 of an offline move: the copy happens inside the freeze.
async fn dumped(
    reporter: &dyn MoveReporter,
    (src, dst): (&mut Client, &mut Client),
    (from, to): (&Side, &Side),
    relations: &Relations,
    request: &Request<'_>,
) -> Result<freeze::Frozen> {
    let code = request.code;
    let pg_dump = request.pg_dump.ok_or_else(|| failed("an offline move needs pg_dump"))?;
    let server_major = checks::facts(src).await?.major;
    let dump = offline::Dump { pg_dump, from: &from.target, to: &to.target, relations, server_major };
    reporter.step(&format!("freezing writes of tenant {code} on server {} and copying it with pg_dump", from.name));
    freeze::freeze_and_switch((src, dst), code, relations, Copy::Dump(&dump), None).await
}

/// A freeze that failed before the switch is rolled back: the move is
/// aborted (the source stays authoritative). One that failed after the
/// source committed the switch is for a re-run to finish.
async fn after_failed_freeze(
    (src, dst): (&mut Client, &mut Client),
    code: &TenantCode,
    (from, to): (&Side, &Side),
    error: anyhow::Error,
) -> anyhow::Error {
    match state::read(&*src, code).await {
        Err(unknown) => {
            return error.context(format!(
                "tenant {code}: whether the switch happened could not be read ({unknown:#}); re-run the same command, \
                 which finishes the move or resumes it"
            ))
        }
        Ok(recorded) if recorded.as_ref().is_none_or(|r| r.step >= Step::Switched) => {
            return error.context(format!("tenant {code} was switched; re-run the same command to finish the move"))
        }
        Ok(_) => {}
    }
    match abort_both(src, dst, code).await {
        Ok(()) => failed(format!(
            "{error:#}; the move was rolled back and aborted: tenant {code} stays on server {}, writable",
            from.name
        )),
        Err(cleanup) => failed(format!(
            "{error:#}; tenant {code} stays on server {}, writable, but cleaning up failed ({cleanup:#}): run \
             `provision tenant move {code} --to {} --abort`",
            from.name, to.name
        )),
    }
}

/// Step 6, or only the record of the end with `--keep-source`.
async fn finish(
    reporter: &dyn MoveReporter,
    src: &mut Client,
    from: &Side,
    code: &TenantCode,
    request: &Request<'_>,
    done: &mut Moved,
) -> Result<()> {
    if request.keep_source {
        done.kept_source = true;
        return state::finish(&*src, code).await;
    }
    let pg_dump = request.pg_dump.ok_or_else(|| failed("dropping the source copy needs pg_dump for its backup"))?;
    reporter.step(&format!("backing up and dropping the source copy on server {}", from.name));
    let lock_timeout = request.settings.lock_timeout;
    let dropped =
        cleanup::drop_source(reporter, lock_timeout, (src, &from.target), code, (pg_dump, &request.backup_out)).await?;
    done.backup = dropped.backup;
    done.steps.push(Step::Done);
    Ok(())
}

/// `tenant move --abort`: removes what an unfinished move made, as long as
/// it has not switched (the source is authoritative throughout).
pub async fn abort(code: &TenantCode, to: &str, servers: &[Side]) -> Result<Moved> {
    let to_side = side(servers, to)?;
    let (from, recorded) = match super::locate(code, to, servers).await? {
        Location::Source(i, Some(recorded)) => (&servers[i], recorded),
        _ => {
            return Err(bad_input(format!(
                "tenant {code}: no unfinished move to server {to} is recorded; nothing to abort"
            )))
        }
    };
    if recorded.step >= Step::Switched {
        return Err(failed(format!(
            "the move of tenant {code} to server {to} is past its switch (server {to} serves it); re-run \
             `provision tenant move {code} --to {to}` to finish it instead"
        )));
    }
    let (mut src, mut dst) = (from.target.connect().await?, to_side.target.connect().await?);
    hold_tenant(&src, code, from).await?;
    abort_both(&mut src, &mut dst, code).await?;
    let mut done = moved(Outcome::Aborted, &from.name, to);
    done.resumed_from = Some(recorded.step);
    Ok(done)
}

/// Drops subscription, publication, slots and the target copy; forgets the move.
async fn abort_both(src: &mut Client, dst: &mut Client, code: &TenantCode) -> Result<()> {
    clean_target(src, dst, code).await?;
    state::forget(&*src, code).await
}

/// Replication objects and the target copy (only a copy a move made:
/// registered `moving`, or still `active` from an interrupted provisioning).
async fn clean_target(src: &Client, dst: &mut Client, code: &TenantCode) -> Result<()> {
    replicate::drop_all(src, Some(&*dst), code).await?;
    let status = state::status(&*dst, code).await?;
    if matches!(status.as_deref(), Some("moving") | Some("active") | None) {
        target::drop_copy(dst, code).await?;
    }
    Ok(())
}

/// Records `step` on the source (its failpoint follows at the caller).
async fn record(src: &Client, code: &TenantCode, step: Step, done: &mut Moved) -> Result<()> {
    state::set(src, code, step).await?;
    done.steps.push(step);
    Ok(())
}

/// The tenant as the source registers it, if a move of it may proceed.
async fn movable(
    src: &Client,
    code: &TenantCode,
    recorded: Option<&Recorded>,
    request: &Request<'_>,
) -> Result<Registered> {
    let tenant =
        registry::snapshot(src, Some(code)).await?.into_iter().next().ok_or_else(|| registry::not_registered(code))?;
    if tenant.row {
        return Err(bad_input(format!("tenant {code} is a row tenant; `tenant move` moves schema tenants only")));
    }
    if recorded.is_none() && !tenant.is_active() {
        return Err(failed(format!(
            "tenant {code} is {} on its server; only an active tenant is moved",
            tenant.status
        )));
    }
    let blueprint = Blueprint::load(&request.config.templates_dir, &tenant.blueprint)?;
    let newest = blueprint.steps.iter().map(|s| s.version).max().unwrap_or(0);
    if recorded.is_none() && tenant.version() != newest {
        return Err(failed(format!(
            "tenant {code} is at version {} of blueprint {} but the templates are at {newest}; run `provision tenant \
             upgrade {code}` first, so the target is provisioned at the same version",
            tenant.version(),
            tenant.blueprint
        )));
    }
    Ok(tenant)
}

/// Takes the tenant's lock on the source for the rest of the session: one
/// move of a tenant at a time, and no upgrade or rollover of it on the
/// source while it moves (they wait, as for any other work on the tenant).
async fn hold_tenant(src: &Client, code: &TenantCode, from: &Side) -> Result<()> {
    use crate::store::lock::{self, Mode};
    match lock::session_try(src, &lock::tenant_key(code), Mode::Exclusive).await? {
        true => Ok(()),
        false => Err(unavailable(format!(
            "tenant {code} is busy on server {}: another provision process (a move, an upgrade, a rollover) holds its \
             lock; retry when it is done",
            from.name
        ))),
    }
}

fn side<'a>(servers: &'a [Side], name: &str) -> Result<&'a Side> {
    servers.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
        bad_input(format!("--to {name}: tenants.toml declares no such server (servers: {})", names.join(", ")))
    })
}

fn moved(outcome: Outcome, from: &str, to: &str) -> Moved {
    Moved {
        outcome,
        from: from.to_owned(),
        to: to.to_owned(),
        rows: 0,
        freeze_ms: None,
        steps: Vec::new(),
        resumed_from: None,
        backup: None,
        missing_logins: Vec::new(),
        kept_source: false,
        slowest: None,
        paused_ms: None,
    }
}
