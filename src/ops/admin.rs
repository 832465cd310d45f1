//! The tenant's first administrator, `admin@<code>.example`.
//!
//! Its password is a secret, so it never passes through a versioned template
//! or a log: the blueprint's admin template runs with the e-mail and password
//! as bind parameters and stores only a bcrypt hash (`crypt(…, gen_salt('bf', 12))`).
//! There is never a fixed default password.

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::Transaction;

use crate::model::blueprint::{Blueprint, Identity};
use crate::model::tenant::TenantCode;

/// Where the administrator's password comes from.
#[derive(Clone)]
pub enum AdminPassword {
    /// `--admin-password` / `PROVISION_ADMIN_PASSWORD`: the same for every tenant created in this run.
    Given(String),
    /// The embedded sandbox with none given: a fresh random one per tenant, printed once.
    Generate,
    /// A real server with none given: no usable password until someone sets one.
    Unusable,
}

impl std::fmt::Debug for AdminPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AdminPassword::Given(_) => "Given(***)",
            AdminPassword::Generate => "Generate",
            AdminPassword::Unusable => "Unusable",
        })
    }
}

impl AdminPassword {
    /// The policy for a run: a given password wins; otherwise generate on the
    /// sandbox (a throwaway the operator can see) and refuse to invent one elsewhere.
    pub fn choose(given: Option<String>, on_sandbox: bool) -> AdminPassword {
        match given.filter(|p| !p.is_empty()) {
            Some(password) => AdminPassword::Given(password),
            None if on_sandbox => AdminPassword::Generate,
            None => AdminPassword::Unusable,
        }
    }
}

/// What happened to the administrator of one new tenant.
#[derive(Debug, Clone, Serialize)]
pub struct AdminReport {
    pub email: String,
    /// False when the account has no usable password yet.
    pub usable_password: bool,
    /// Only a generated password, shown exactly once; never a given one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

pub fn email(code: &TenantCode) -> String {
    format!("admin@{code}.example")
}

/// Creates the administrator if the blueprint has an admin template and the
/// account does not exist yet. Returns `None` when nothing was created.
pub async fn ensure(
    tx: &Transaction<'_>,
    blueprint: &Blueprint,
    identity: &Identity,
    password: &AdminPassword,
) -> Result<Option<AdminReport>> {
    let Some(sql) = blueprint.render_admin(identity)? else { return Ok(None) };
    let email = email(&identity.code);
    let (secret, generated) = match password {
        AdminPassword::Given(p) => (Some(p.clone()), None),
        AdminPassword::Generate => {
            let p = uuid::Uuid::new_v4().simple().to_string();
            (Some(p.clone()), Some(p))
        }
        AdminPassword::Unusable => (None, None),
    };
    let created = tx
        .query_opt(&sql, &[&email, &secret])
        .await
        .with_context(|| format!("cannot create the administrator {email}"))?;
    Ok(created.map(|_| AdminReport { email, usable_password: secret.is_some(), generated_password: generated }))
}
