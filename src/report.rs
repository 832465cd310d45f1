//! How the engine tells about what it is doing without printing.
//!
//! `ops` and `store` report through [`Reporter`]; the CLI's printer
//! implements it and alone decides what reaches the terminal (as uv's engine
//! crates declare reporter traits that its CLI implements). Tests and nested
//! runs (a verification's scratch database) use [`Silent`].
//!
//! A use case with progress beyond these messages (a tenant finished, a file
//! written) declares its own trait extending [`Reporter`], with quiet
//! defaults, beside the use case (e.g. `ops::tenant::upgrade::UpgradeReporter`);
//! `cli/reporters.rs` implements them with lines and progress bars.

/// Receives the engine's messages. Every method has a quiet default, so a
/// reporter implements only what it shows.
pub trait Reporter: Sync {
    /// Something the operator should know, shown unless quiet (waiting for a lock, …).
    fn note(&self, _text: &str) {}
    /// Detail shown only when verbose (each step, each connection).
    fn detail(&self, _text: &str) {}
    /// Something that may need action; shown even when quiet.
    fn warn(&self, _text: &str) {}
}

/// `n` and a noun, singular for one: `count(1, "tenant")` is "1 tenant",
/// `count(3, "tenant")` "3 tenants". For the nouns of summary lines, whose
/// plural adds an "s".
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    match n == N::from(1) {
        true => format!("1 {noun}"),
        false => format!("{n} {noun}s"),
    }
}

/// `n` of `total` and a noun agreeing with `total`: `count_of(1, 3,
/// "tenant")` is "1 of 3 tenants", `count_of(1, 1, "tenant")` "1 of 1 tenant".
pub fn count_of(n: usize, total: usize, noun: &str) -> String {
    format!("{n} of {}", count(total, noun))
}

/// "is" for one, "are" for any other number: "1 of 3 tenants is behind".
pub fn is_are(n: usize) -> &'static str {
    if n == 1 {
        "is"
    } else {
        "are"
    }
}

/// A reporter that drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {}

#[cfg(test)]
mod tests {
    use super::{count, count_of, is_are};

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1, "tenant"), "1 tenant");
        assert_eq!(count(0, "tenant"), "0 tenants");
        assert_eq!(count(2u64, "row"), "2 rows");
        assert_eq!(count(1i64, "row"), "1 row");
        assert_eq!(count(11, "problem"), "11 problems");
        assert_eq!(format!("{} {} behind", count_of(1, 3, "tenant"), is_are(1)), "1 of 3 tenants is behind");
        assert_eq!(format!("{} {} behind", count_of(2, 2, "tenant"), is_are(2)), "2 of 2 tenants are behind");
        assert_eq!(count_of(0, 1, "pending version"), "0 of 1 pending version");
    }
}
