//! provision: builds and keeps multi-tenant PostgreSQL databases.
//!
//! The binary (`src/main.rs`) only parses arguments and reports errors; the
//! engine lives here so integration tests and benchmarks can reuse pieces such
//! as the embedded cluster.

pub mod connection;
pub mod error;
pub mod sandbox;
