//! provision: builds and keeps multi-tenant PostgreSQL databases.
//!
//! The binary (`src/main.rs`) only parses arguments and reports errors; the
//! engine lives here so integration tests and benchmarks can reuse pieces such
//! as the embedded cluster.

pub mod admin;
pub mod audit;
pub mod backup;
pub mod blueprint;
pub mod cli;
pub mod commands;
pub mod completion;
pub mod config;
pub mod connection;
pub mod context;
pub mod error;
pub mod failpoint;
pub mod fleet;
pub mod gate;
pub mod lock;
pub mod migrate;
pub mod output;
pub mod owned_ddl;
pub mod partitions;
pub mod provisioner;
pub mod registry;
pub mod roles;
pub mod rollover;
pub mod sample;
pub mod sandbox;
pub mod shared;
pub mod statements;
pub mod template_db;
pub mod tenant;
pub mod upgrade;
pub mod verify;
