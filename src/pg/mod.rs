//! PostgreSQL itself: connection resolution, the embedded sandbox, finding
//! PostgreSQL's programs (`tools`), acting as an object's owner, and
//! splitting SQL into statements, PgBouncer's admin console. Knows nothing of
//! tenants or blueprints.

pub mod connection;
pub mod owned_ddl;
pub mod pgbouncer;
pub mod quote;
pub mod sandbox;
pub mod script;
pub mod statements;
pub mod text;
pub mod tools;
