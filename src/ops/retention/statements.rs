//! The SQL of a retention job, made from the rule and the tenant's catalog:
//! the templates in `sql/` with every identifier quoted and every value a
//! literal or `$1`. The rule's condition is the pack's own SQL, kept in
//! parentheses; the server's prepare (plan.rs) is what checks it.

use crate::model::blueprint::{RetentionAction, RetentionRule, Scrub};
use crate::pg::quote::{quote_ident, quote_literal};

/// What a hashed value looks like: the marker that tells a run the column
/// is done (so a second run matches no row), then 32 hex digits (128 bits of
/// an HMAC-SHA-256 under the tenant's salt).
pub const HASH_PATTERN: &str = "^anon:[0-9a-f]{32}$";

/// What the statements are made from.
pub(super) struct Parts<'a> {
    pub rule: &'a RetentionRule,
    /// The qualified, quoted table.
    pub rel: String,
    pub key: &'a [String],
    /// The type of a one-column key: batches then resume after the last key
    /// the previous batch changed (`$2`), instead of reading again every row
    /// done before (dead, or anonymised and still there) on each batch.
    pub key_type: Option<&'a str>,
    pub age: &'a str,
    /// The tenant's salt row, by code (anonymising with hashes only).
    pub code: &'a str,
    /// The tenant's audit log, qualified and quoted, when it has one.
    pub log: Option<&'a str>,
    pub limit: i64,
    /// Deletes only: rows still referenced stay (`guards` of sql/tables.sql).
    pub guards: &'a [String],
    /// Row tenancy: the predicate (alias `t`) that keeps to the tenant's rows.
    pub tenant: Option<&'a str>,
}

/// Rows that have expired and are not done yet.
fn predicate(parts: &Parts) -> String {
    let rule = parts.rule;
    let mut predicate = format!("{} < $1::text::timestamp", quote_ident(&rule.column));
    if let Some(tenant) = parts.tenant {
        predicate.push_str(&format!(" AND {tenant}"));
    }
    if let Some(condition) = &rule.condition {
        predicate.push_str(&format!(" AND ({condition})"));
    }
    if rule.action == RetentionAction::Delete {
        for guard in parts.guards {
            predicate.push_str(&format!(" AND {guard}"));
        }
    }
    if rule.action == RetentionAction::Anonymise {
        let pending: Vec<String> = rule
            .columns
            .iter()
            .map(|(column, scrub)| match scrub {
                Scrub::Null => format!("{} IS NOT NULL", quote_ident(column)),
                Scrub::Hash => {
                    format!("({0} IS NOT NULL AND {0} !~ {1})", quote_ident(column), quote_literal(HASH_PATTERN))
                }
            })
            .collect();
        predicate.push_str(&format!(" AND ({})", pending.join(" OR ")));
    }
    predicate
}

fn listed(names: &[String], alias: &str) -> String {
    names.iter().map(|n| format!("{alias}{}", quote_ident(n))).collect::<Vec<_>>().join(", ")
}

/// The dry run's count.
pub(super) fn count(parts: &Parts) -> String {
    include_str!("sql/count.sql").replace("{rel}", &parts.rel).replace("{predicate}", &predicate(parts))
}

/// One batch (`sql/batch.sql`).
pub(super) fn batch(parts: &Parts) -> String {
    let join = format!("({}) = ({})", listed(parts.key, "x."), listed(parts.key, "b."));
    let hashes = parts.rule.columns.values().any(|s| *s == Scrub::Hash);
    let (change, operation) = match parts.rule.action {
        RetentionAction::Delete => (format!("DELETE FROM {} AS x USING batch b WHERE {join}", parts.rel), "DELETE"),
        RetentionAction::Anonymise => {
            let sets: Vec<String> = parts.rule.columns.iter().map(|(c, s)| scrubbed(c, *s)).collect();
            let salt = if hashes { ", salt s" } else { "" };
            let sql = format!("UPDATE {} AS x SET {} FROM batch b{salt} WHERE {join}", parts.rel, sets.join(", "));
            (sql, "UPDATE")
        }
    };
    let salt = match hashes {
        true => format!(
            "salt AS (SELECT salt FROM shared.retention_salts WHERE tenant_code = {}), ",
            quote_literal(parts.code)
        ),
        false => String::new(),
    };
    let summary = parts.log.map_or_else(String::new, |log| {
        include_str!("sql/summary.sql")
            .replace("{log}", log)
            .replace("{table}", &quote_literal(&parts.rule.table))
            .replace("{operation}", &quote_literal(operation))
            .replace("{rule}", &quote_literal(parts.rule.rule_name()))
            .replace("{action}", &quote_literal(action_name(parts.rule.action)))
            .replace("{age}", &quote_literal(parts.age))
    });
    // $2: the last key the previous batch changed (NULL on the first); a composite key keeps no cursor.
    let (after, last) = match (parts.key_type, parts.key) {
        (Some(key_type), [key]) => {
            let k = quote_ident(key);
            let last = format!("SELECT {k}::text FROM batch ORDER BY {k} DESC LIMIT 1");
            (format!("($2::text IS NULL OR t.{k} > $2::text::{key_type})"), last)
        }
        _ => ("$2::text IS NULL".to_owned(), "SELECT NULL::text".to_owned()),
    };
    // The pack's condition goes in last, so no text of it is taken for a placeholder.
    include_str!("sql/batch.sql")
        .replace("{after}", &after)
        .replace("{last}", &last)
        .replace("{keys}", &listed(parts.key, ""))
        .replace("{rel}", &parts.rel)
        .replace("{limit}", &parts.limit.to_string())
        .replace("{salt}", &salt)
        .replace("{change}", &change)
        .replace("{summary}", &summary)
        .replace("{predicate}", &predicate(parts))
}

/// `column = what it becomes`; a hash is HMAC-SHA-256 under the tenant's
/// salt, cut to 128 bits, marked `anon:`; NULL stays NULL.
fn scrubbed(column: &str, scrub: Scrub) -> String {
    let c = quote_ident(column);
    match scrub {
        Scrub::Null => format!("{c} = NULL"),
        Scrub::Hash => format!(
            "{c} = 'anon:' || left(encode(public.hmac(convert_to(x.{c}::text, 'UTF8'), s.salt, 'sha256'), 'hex'), 32)"
        ),
    }
}

pub fn action_name(action: RetentionAction) -> &'static str {
    match action {
        RetentionAction::Delete => "delete",
        RetentionAction::Anonymise => "anonymise",
    }
}
