//! Lock hazards in pending template versions, found by squawk
//! (`squawk-linter`, the reference Postgres migration linter) on the rendered
//! SQL, never by a parser of our own.
//!
//! Only what takes a long or strong lock on a table that already holds rows
//! counts: squawk's rules for index builds without CONCURRENTLY, volatile
//! defaults, column type changes, SET NOT NULL and constraints or foreign
//! keys validated under lock, and the like; its style rules (prefer bigint,
//! prefer text, …) are not lock hazards and stay off. A table created earlier
//! in the same upgrade holds no rows yet: the pending versions of a tenant
//! are linted as one file, so squawk exempts them. Each hazard names its
//! tenant table when it has one, and the caller keeps it only if that table
//! holds data in a tenant being upgraded (src/sql/gate_tables_with_data.sql);
//! it lints only versions pending on existing tenants, as a brand-new tenant
//! has no data.
//! A statement known to be safe can carry squawk's own
//! `-- squawk-ignore <rule>` comment.

use std::path::PathBuf;

use refinery_core::Migration;
use squawk_linter::{Linter, Rule};
use squawk_syntax::ast::{self, AstNode};
use squawk_syntax::SourceFile;

use crate::model::blueprint::Blueprint;

/// squawk's rules that are about locks held on tables with rows.
const LOCK_RULES: &[Rule] = &[
    Rule::RequireConcurrentIndexCreation,
    Rule::RequireConcurrentIndexDeletion,
    Rule::RequireConcurrentReindex,
    Rule::RequireConcurrentPartitionDetach,
    Rule::ConstraintMissingNotValid,
    Rule::AddingFieldWithDefault,
    Rule::AddingForeignKeyConstraint,
    Rule::AddingNotNullableField,
    Rule::AddingRequiredField,
    Rule::AddingSerialPrimaryKeyField,
    Rule::ChangingColumnType,
    Rule::DisallowedUniqueConstraint,
];

/// One hazardous statement of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hazard {
    pub version: String,
    pub file: PathBuf,
    /// The statement, on one line, shortened.
    pub statement: String,
    /// squawk's rule name and message.
    pub rule: String,
    pub message: String,
    /// The tenant table the statement alters or indexes, when it names one:
    /// the caller keeps the hazard only if that table holds rows somewhere.
    pub table: Option<String>,
}

impl std::fmt::Display for Hazard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): lock hazard on a table that holds data: `{}` ({}: {})",
            self.version,
            self.file.display(),
            self.statement,
            self.rule,
            self.message
        )
    }
}

/// The hazards of `pending` (rendered, in order), which run together on a
/// tenant that holds data, on a server of major version `server` (some
/// rules depend on it: volatile defaults since 11, CHECK … NOT VALID before
/// SET NOT NULL since 12). `schema` is the rendered tenant schema, shown as
/// `{{ schema }}` so the statement reads as in the template.
pub fn lint(blueprint: &Blueprint, pending: &[Migration], schema: &str, server: i32) -> Vec<Hazard> {
    let mut text = String::new();
    let mut spans = Vec::new();
    for migration in pending {
        let start = text.len();
        text.push_str(migration.sql().unwrap_or_default());
        // A version ending in a `--` comment must not swallow the next one.
        text.push_str("\n;\n");
        spans.push((start, text.len(), migration));
    }
    let parse = SourceFile::parse(&text);
    let mut linter = Linter::from(LOCK_RULES.iter().copied());
    // Every version but a `no-transaction` one runs inside a transaction.
    linter.settings.assume_in_transaction = true;
    if let Ok(version) = server.to_string().parse() {
        linter.settings.pg_version = version;
    }
    let statements: Vec<(usize, usize, Option<String>)> = parse
        .tree()
        .stmts()
        .map(|s| {
            let range = s.syntax().text_range();
            (usize::from(range.start()), usize::from(range.end()), table_of(&s, schema))
        })
        .collect();
    linter
        .lint(&parse, &text)
        .into_iter()
        .filter_map(|violation| {
            let at = usize::from(violation.text_range.start());
            let (_, _, migration) = spans.iter().find(|(start, end, _)| (*start..*end).contains(&at))?;
            let (from, to, table) = statements
                .iter()
                .find(|(from, to, _)| (*from..*to).contains(&at))
                .cloned()
                .unwrap_or((at, usize::from(violation.text_range.end()), None));
            Some(Hazard {
                version: migration.to_string(),
                file: file_of(blueprint, migration.version()),
                statement: one_line(&text[from..to], schema),
                rule: violation.code.to_string(),
                message: violation.message,
                table,
            })
        })
        .collect()
}

/// The tenant table a CREATE INDEX or ALTER TABLE names (unqualified);
/// None for a table of another schema, whose data the gate does not weigh.
fn table_of(statement: &ast::Stmt, schema: &str) -> Option<String> {
    let relation = match statement {
        ast::Stmt::CreateIndex(create) => create.table_relation_name(),
        ast::Stmt::AlterTable(alter) => alter.table_relation_name(),
        _ => None,
    }?;
    let path = relation.table_name_ref()?.path_ref()?;
    match path.qualifier().and_then(|q| q.segment()) {
        Some(qualifier) if qualifier.text() != schema => None,
        _ => Some(path.segment()?.text()),
    }
}

/// The template file of a version.
pub fn file_of(blueprint: &Blueprint, version: i32) -> PathBuf {
    blueprint.steps.iter().find(|s| s.version == version).map(|s| s.file.clone()).unwrap_or_default()
}

/// Whitespace collapsed, the schema shown as in the template, at most 120
/// characters.
fn one_line(statement: &str, schema: &str) -> String {
    let flat = statement.trim().trim_end_matches(';').split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = flat.replace(&crate::pg::quote::quote_ident(schema), "{{ schema }}").replace(schema, "{{ schema }}");
    match flat.char_indices().nth(117) {
        Some((cut, _)) => format!("{}...", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blueprint_with(versions: &[(&str, &str)]) -> (tempfile::TempDir, Blueprint, Vec<Migration>) {
        let dir = tempfile::tempdir().unwrap();
        let bp = dir.path().join("demo");
        std::fs::create_dir(&bp).unwrap();
        std::fs::write(bp.join("blueprint.toml"), "name = \"demo\"\n").unwrap();
        for (name, sql) in versions {
            std::fs::write(bp.join(format!("{name}.sql.tera")), sql).unwrap();
        }
        let blueprint = Blueprint::load(dir.path(), "demo").unwrap();
        let code = crate::model::tenant::TenantCode::parse("lic").unwrap();
        let identity = crate::model::blueprint::Identity { code, tenant_id: uuid::Uuid::nil() };
        let migrations = blueprint.render(&identity).unwrap();
        (dir, blueprint, migrations)
    }

    #[test]
    fn an_index_on_an_existing_table_is_a_hazard_and_on_a_new_one_is_not() {
        let (_dir, bp, all) = blueprint_with(&[
            ("V1__base", "CREATE TABLE {{ schema }}.widgets (id int PRIMARY KEY, name text);"),
            ("V2__index", "-- speeds up search\nCREATE INDEX idx_widgets_name ON {{ schema }}.widgets (name);"),
            ("V3__fresh", "CREATE TABLE {{ schema }}.notes (id int, body text);\nCREATE INDEX idx_notes ON {{ schema }}.notes (body);"),
        ]);
        let hazards = lint(&bp, &all[1..], "lic_schema", 15);
        assert_eq!(hazards.len(), 1, "{hazards:?}");
        assert_eq!(hazards[0].version, "V2__index");
        assert!(hazards[0].file.ends_with("V2__index.sql.tera"));
        assert_eq!(hazards[0].statement, "CREATE INDEX idx_widgets_name ON {{ schema }}.widgets (name)");
        assert_eq!(hazards[0].rule, "require-concurrent-index-creation");
        assert_eq!(hazards[0].table.as_deref(), Some("widgets"));
    }

    #[test]
    fn squawk_ignore_accepts_a_statement_known_to_be_safe() {
        let (_dir, bp, all) = blueprint_with(&[
            ("V1__base", "CREATE TABLE {{ schema }}.widgets (id int PRIMARY KEY, name text);"),
            (
                "V2__index",
                "-- squawk-ignore require-concurrent-index-creation\nCREATE INDEX idx_widgets_name ON {{ schema }}.widgets (name);",
            ),
        ]);
        assert_eq!(lint(&bp, &all[1..], "lic_schema", 15), []);
    }

    #[test]
    fn volatile_defaults_type_changes_and_validated_constraints_are_hazards() {
        let (_dir, bp, all) = blueprint_with(&[
            ("V1__base", "CREATE TABLE {{ schema }}.t (id int PRIMARY KEY, a int, b text);"),
            (
                "V2__risky",
                "ALTER TABLE {{ schema }}.t ADD COLUMN c uuid DEFAULT gen_random_uuid();\n\
                 ALTER TABLE {{ schema }}.t ALTER COLUMN a TYPE bigint;\n\
                 ALTER TABLE {{ schema }}.t ALTER COLUMN b SET NOT NULL;\n\
                 ALTER TABLE {{ schema }}.t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES {{ schema }}.t (id);\n\
                 ALTER TABLE {{ schema }}.t ADD COLUMN d int DEFAULT 0;\n",
            ),
        ]);
        let rules: Vec<String> = lint(&bp, &all[1..], "lic_schema", 15).into_iter().map(|h| h.rule).collect();
        for wanted in [
            "adding-field-with-default",
            "changing-column-type",
            "adding-not-nullable-field",
            "adding-foreign-key-constraint",
        ] {
            assert!(rules.iter().any(|r| r == wanted), "{wanted} missing from {rules:?}");
        }
        assert!(!rules.iter().any(|r| r == "prefer-bigint-over-int"), "style rules stay off: {rules:?}");
    }
}
