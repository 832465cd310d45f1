//! Small text helpers for messages, shared by every layer above `pg`.

/// Collapses all whitespace (newlines included) to single spaces, so that a
/// message from a server, a parser or a tool fits the one-line error rule.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
