//! SQL that cannot take bind parameters (DDL, `DO` blocks, scripts written
//! into backup files) is rendered from its `.sql` file with Tera, the one
//! templating engine of provision, never with string replacement. Callers
//! pass values already quoted (`pg::quote`), because Tera knows nothing of
//! SQL and escapes nothing here.

use anyhow::{anyhow, Result};

/// Renders `template` (the text of a `.sql` file using `{{ name }}`) with
/// `values`. A variable the file names but `values` lacks is an error, so a
/// placeholder is never left in the SQL.
pub fn render(template: &str, values: &[(&str, &str)]) -> Result<String> {
    let mut context = tera::Context::new();
    for (name, value) in values {
        context.insert(*name, value);
    }
    tera::Tera::one_off(template, &context, false).map_err(|e| anyhow!("cannot render a provision SQL file: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_given_values_verbatim_and_refuses_a_missing_one() {
        let sql = render("SELECT {{ a }}, '{}'::jsonb, {{ b }};", &[("a", "'x''y'"), ("b", "\"t\"")]).unwrap();
        assert_eq!(sql, "SELECT 'x''y', '{}'::jsonb, \"t\";");
        assert!(render("SELECT {{ missing }};", &[]).is_err());
    }
}
