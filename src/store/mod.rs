//! provision's own objects in the database: the tenant registry, role
//! groups, audit machinery, advisory locks, migration histories and
//! partitions, each with its `.sql` files under `store/sql/`.

pub mod audit;
pub mod blueprint_shared;
pub mod layout_upgrade;
pub mod lock;
pub mod migrate;
pub mod partitions;
pub mod read_audit;
pub mod registry;
pub mod roles;
pub mod shared;
pub mod template_sources;
