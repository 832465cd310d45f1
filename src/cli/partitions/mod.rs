//! `provision partitions …`: one file per subcommand.

pub(crate) mod list;
pub(crate) mod rollover;
