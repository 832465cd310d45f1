//! `provision db create|drop|list`: fully provisioned databases for CI,
//! cloned from a template or renamed from its pool of spares (see
//! [`crate::ops::db_create`] and [`crate::ops::template_db`]), and the
//! hidden `db refill` that keeps the pool. One file per command.

mod create;
mod drop;
mod list;
mod refill;

pub(super) use create::run as create;
pub(super) use drop::run as drop;
pub(super) use list::run as list;
pub(super) use refill::run as refill;
