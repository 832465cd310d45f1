//! The text of tenants.toml as the TOML parser reads it, strictly (unknown
//! keys are errors), and how a parse error is placed: the file's line and
//! column, and the key the offending line names.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) templates: Option<String>,
    #[serde(default)]
    pub(super) defaults: RawDefaults,
    #[serde(default)]
    pub(super) tenants: BTreeMap<String, Spanned<RawTenant>>,
    /// `[db]`: settings of `provision db create`.
    #[serde(default)]
    pub(super) db: RawDb,
    /// `[servers.<name>]`: the servers tenants are placed across.
    #[serde(default)]
    pub(super) servers: BTreeMap<String, super::servers::RawServer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDb {
    /// Spare clones of the current template `db create` keeps ready.
    pub(super) pool: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) blueprint: Option<String>,
    pub(super) premake: Option<u32>,
    pub(super) retention: Option<String>,
    pub(super) archive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTenant {
    pub(super) name: String,
    /// Shorthand for `attributes.type`.
    #[serde(rename = "type")]
    pub(super) tenant_type: Option<String>,
    /// `[tenants.<code>.attributes]`: values of the blueprint's `[attributes]`.
    #[serde(default)]
    pub(super) attributes: BTreeMap<String, String>,
    pub(super) blueprint: Option<String>,
    pub(super) id: Option<String>,
    pub(super) premake: Option<u32>,
    pub(super) retention: Option<String>,
    pub(super) archive: Option<bool>,
    /// The `[servers.<name>]` this tenant lives on.
    pub(super) server: Option<String>,
}

/// toml's messages ("duplicate key", "invalid value: integer `-1`,
/// expected u32") leave out which key; the line the error points at names it.
pub(super) fn name_the_key(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> String {
    let message = message.replace("expected u32", "expected a whole number from 0 up");
    let Some(span) = span else { return message };
    let start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or_default().trim();
    let key = match line.strip_prefix('[') {
        Some(header) => header.trim_start_matches('[').split(']').next().unwrap_or_default().trim(),
        None => line.split('=').next().unwrap_or_default().trim(),
    };
    if key.is_empty() || message.contains(&format!("`{key}`")) {
        return message;
    }
    format!("{key}: {message}")
}

/// 1-based line and column of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
