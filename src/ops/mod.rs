//! The use cases: provisioning, upgrades, fleets, backups, partitions,
//! verification and template databases. They return typed reports and tell
//! about progress through [`crate::report::Reporter`]; they never print and
//! never import clap, console or indicatif.

pub mod admin;
pub mod backup;
pub mod completion;
pub mod db_create;
pub mod fleet;
pub mod fleet_gate;
pub mod gate;
pub mod health;
pub mod keys;
pub mod partitions;
pub mod placement;
pub mod provisioner;
pub mod reset;
pub mod retention;
pub mod rollover;
pub mod routing;
pub mod row_tenant;
pub mod sample;
pub mod seed;
pub mod seed_key;
pub mod shared_parts;
pub mod status;
pub mod steps;
pub mod template_db;
pub mod template_diff;
pub mod tenant;
pub mod tenant_move;
pub mod up;
pub mod upgrade;
pub mod verify;

use std::time::Duration;

use crate::report::Reporter;

/// What every use case needs from its caller: where to tell about progress
/// and how long any lock may be waited for.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub reporter: &'a dyn Reporter,
    pub lock_timeout: Duration,
}
