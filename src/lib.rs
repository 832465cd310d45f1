//! provision: builds and keeps multi-tenant PostgreSQL databases.
//!
//! The binary (`src/main.rs`) only parses arguments and reports errors; the
//! engine lives here in layers whose dependencies run one way:
//! `cli` → `ops` → `model`/`store` → `pg`. `error`, `report` and `failpoint`
//! are used by every layer.

pub mod cli;
pub mod error;
pub mod failpoint;
pub mod model;
pub mod ops;
pub mod pg;
pub mod report;
pub mod store;
