//! The types the rest is about: tenant codes, `tenants.toml`, blueprints.
//! Pure data and parsing; no database access.

pub mod attributes;
pub mod blueprint;
pub mod config;
pub mod tenant;
