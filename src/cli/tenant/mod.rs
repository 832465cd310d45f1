//! `provision tenant …`: one file per subcommand.

pub(crate) mod activate;
pub(crate) mod add;
pub(crate) mod backup;
pub(crate) mod grant;
pub(crate) mod list;
pub(crate) mod move_tenant;
pub(crate) mod remove;
pub(crate) mod render;
pub(crate) mod repair;
pub(crate) mod spec;
pub(crate) mod upgrade;
