//! `provision partitions …`: one file per subcommand, plus the inputs both share.

pub(crate) mod inputs;
pub(crate) mod list;
pub(crate) mod rollover;
