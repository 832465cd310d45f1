//! `provision db create|drop|list`: fully provisioned databases for CI,
//! cloned from a template (see [`crate::ops::db_create`] and
//! [`crate::ops::template_db`]). One file per command.

mod create;
mod drop;
mod list;

pub(super) use create::run as create;
pub(super) use drop::run as drop;
pub(super) use list::run as list;
