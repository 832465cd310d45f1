//! PgBouncer's admin console (database `pgbouncer` on PgBouncer's port):
//! the three commands a tenant move's cutover gives it. The console speaks
//! the simple query protocol only, so every command goes through
//! `simple_query`. Knows nothing of tenants: it pauses and resumes aliases.

use anyhow::{Context as _, Result};
use tokio_postgres::Client;

use super::connection::Target;
use crate::error::failed;

/// One session on the console of a PgBouncer.
pub struct Console {
    client: Client,
}

impl Console {
    /// Connects to the console; `target` names PgBouncer's host, port, an
    /// `admin_users` login and the database `pgbouncer`.
    pub async fn connect(target: &Target) -> Result<Console> {
        if target.dbname() != "pgbouncer" {
            return Err(crate::error::bad_input(format!(
                "--pgbouncer: the URL names database {:?}; PgBouncer's admin console is the database \"pgbouncer\" \
                 (e.g. postgresql://admin@host:6432/pgbouncer)",
                target.dbname()
            )));
        }
        let client = target.connect().await.context("PgBouncer's admin console")?;
        Ok(Console { client })
    }

    /// `PAUSE alias`: returns once every server connection of the alias is
    /// released (behind transaction pooling: once running transactions end);
    /// from then on its clients' queries wait in PgBouncer.
    pub async fn pause(&self, alias: &str) -> Result<()> {
        self.command("PAUSE", Some(alias)).await
    }

    /// `RESUME alias`: its clients' waiting queries go on.
    pub async fn resume(&self, alias: &str) -> Result<()> {
        self.command("RESUME", Some(alias)).await
    }

    /// `RESUME alias` when it is paused (a killed run's pause); whether it was.
    pub async fn resume_if_paused(&self, alias: &str) -> Result<bool> {
        match self.command("RESUME", Some(alias)).await {
            Ok(()) => Ok(true),
            Err(e) if not_paused(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `RELOAD`: PgBouncer reads its files again. An alias whose host,
    /// port or database changed gets new server connections: the old ones
    /// close as they are released.
    pub async fn reload(&self) -> Result<()> {
        self.command("RELOAD", None).await
    }

    async fn command(&self, verb: &str, alias: Option<&str>) -> Result<()> {
        let sql = match alias {
            // The console takes a bare word; an alias is never quoted there.
            Some(alias) if is_bare_word(alias) => format!("{verb} {alias}"),
            Some(alias) => return Err(failed(format!("PgBouncer alias {alias:?} is not a bare word"))),
            None => verb.to_owned(),
        };
        self.client.simple_query(&sql).await.with_context(|| format!("PgBouncer: {sql}"))?;
        Ok(())
    }
}

/// PgBouncer's answer to RESUME of an alias that is not paused.
fn not_paused(error: &anyhow::Error) -> bool {
    let db = error.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.as_db_error());
    db.is_some_and(|db| db.message().ends_with("is not paused"))
}

fn is_bare_word(alias: &str) -> bool {
    !alias.is_empty() && alias.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_bare_words_name_an_alias() {
        assert!(super::is_bare_word("lic_2"));
        assert!(!super::is_bare_word("lic; SHUTDOWN"));
        assert!(!super::is_bare_word(""));
    }
}
