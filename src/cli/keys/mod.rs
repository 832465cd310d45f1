//! `provision keys …`: one file per subcommand.

pub(crate) mod rotate;
