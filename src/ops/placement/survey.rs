//! One server's answer to placement: its relation count and its registry.

use anyhow::Result;
use tokio_postgres::Client;

use crate::model::tenant::TenantCode;

/// What placement read from one server's database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    /// `pg_class` rows of the database.
    pub relations: i64,
    /// The registry's tenants and their status (empty before the first `up`).
    pub tenants: Vec<(String, String)>,
}

impl Survey {
    /// Whether the registry holds `code` as a live tenant (see [`serves`]).
    pub fn holds(&self, code: &TenantCode) -> bool {
        self.tenants.iter().any(|(c, status)| c == code.as_str() && serves(status))
    }
}

/// Whether a registry entry of this status is where its tenant lives: not
/// the target's copy a move is still filling (`moving`), nor the source's
/// copy a finished move left behind (`moved`). The one rule placement and
/// routing share.
pub fn serves(status: &str) -> bool {
    !matches!(status, "moving" | "moved")
}

/// Reads the survey on `client` (two statements: the registry may not exist).
pub async fn survey(client: &Client) -> Result<Survey> {
    let row = client.query_one(include_str!("../sql/placement_survey.sql"), &[]).await?;
    let (relations, has_registry): (i64, bool) = (row.get(0), row.get(1));
    let tenants = match has_registry {
        false => Vec::new(),
        true => {
            let rows = client.query(include_str!("../sql/placement_registry.sql"), &[]).await?;
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        }
    };
    Ok(Survey { relations, tenants })
}
