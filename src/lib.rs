//! provision: builds and keeps multi-tenant PostgreSQL databases.
//!
//! The binary (`src/main.rs`) only parses arguments and reports errors; the
//! engine lives here in layers whose dependencies run one way:
//! `cli` → `ops` → `model`/`store` → `pg`. `error`, `report` and `failpoint`
//! are used by every layer.

pub(crate) mod cli;
pub mod error;
pub mod failpoint;
pub(crate) mod model;
pub(crate) mod ops;
pub(crate) mod pg;
pub(crate) mod report;
pub(crate) mod store;

// The binary's entry point, and what the integration tests reach into; the
// rest of the crate is private to it.
pub use cli::context::NO_DATABASE;
pub use cli::main;
pub use model::blueprint::Blueprint;
pub use model::tenant::TenantCode;
pub use ops::gate::check_tenant;
pub use pg::connection::{redact, resolve, Target, ENV_VARS};
pub use pg::sandbox::{Sandbox, SandboxStatus, Started};
pub use store::lock::tenant_key;
