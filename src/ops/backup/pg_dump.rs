//! Running `pg_dump` for a backup: its arguments, its environment (the
//! connection, never on the command line) and its errors, on one line.

use std::fs::File;
use std::process::Stdio;

use anyhow::{Context as _, Result};

use super::file::Plan;
use crate::error::failed;
use crate::pg::connection::redact;
use crate::pg::text::one_line;

impl Plan<'_> {
    /// Arguments every pg_dump run gets: plain SQL, no prompt, our snapshot.
    pub(super) fn common_args(&self) -> Vec<String> {
        vec![
            "--format=plain".to_owned(),
            "--no-password".to_owned(),
            format!("--snapshot={}", self.snapshot),
            format!("--lock-wait-timeout={}", self.lock_timeout.as_millis().max(1)),
        ]
    }

    /// Runs pg_dump with its output appended to `file`. The connection comes
    /// from the environment, never the command line; the inherited `PG*`
    /// variables are removed so only this target counts. Returns pg_dump's
    /// warnings.
    pub(super) async fn run_pg_dump(&self, args: &[String], file: &File) -> Result<Vec<String>> {
        let mut command = tokio::process::Command::new(&self.tool.path);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                command.env_remove(&key);
            }
        }
        command
            .envs(self.target.libpq_env())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| format!("cannot run {}", self.tool.path.display()))?;
        let output = child.wait_with_output().await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(failed(format!("pg_dump failed: {}", pg_dump_error(&stderr))));
        }
        Ok(stderr.lines().filter(|l| l.contains("warning:")).map(|l| redact(l.trim())).collect())
    }
}

/// The error lines of pg_dump's stderr (with their details, shortened), on one line.
pub(super) fn pg_dump_error(stderr: &str) -> String {
    const DETAIL_CHARS: usize = 200;
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let errors: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            if let Some(error) = l.strip_prefix("pg_dump: error: ") {
                Some(error.to_owned())
            } else {
                let detail = l.strip_prefix("pg_dump: detail: ")?;
                Some(match detail.char_indices().nth(DETAIL_CHARS) {
                    Some((end, _)) => format!("{}…", &detail[..end]),
                    None => detail.to_owned(),
                })
            }
        })
        .collect();
    let text = if errors.is_empty() {
        lines.last().map(|l| l.trim_start_matches("pg_dump: ").to_owned()).unwrap_or_else(|| "no message".to_owned())
    } else {
        errors.join("; ")
    };
    redact(&one_line(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_errors_become_one_line() {
        let stderr = "pg_dump: error: connection to server at \"db\" failed: FATAL:  password authentication failed\n";
        assert_eq!(
            pg_dump_error(stderr),
            "connection to server at \"db\" failed: FATAL: password authentication failed"
        );
        assert_eq!(pg_dump_error("something odd\n"), "something odd");
        let stderr = "pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout\n\
                      pg_dump: detail: Query was: LOCK TABLE lic_schema.users IN ACCESS SHARE MODE\n";
        assert_eq!(
            pg_dump_error(stderr),
            "query failed: ERROR: canceling statement due to statement timeout; \
             Query was: LOCK TABLE lic_schema.users IN ACCESS SHARE MODE"
        );
    }
}
