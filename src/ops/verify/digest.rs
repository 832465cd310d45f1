//! The catalog queries that read schemas for comparison, and the digest
//! they return. Both sides use them: the reference tenants built in a
//! scratch database (`references.rs`) and the real tenants
//! (`fingerprint.rs`), which is why they live apart from either.

use anyhow::Result;
use tokio_postgres::{GenericClient, Row};

pub(super) const DIGEST: &str = include_str!("../sql/verify_digest.sql");
pub(super) const DIGEST_COLUMNS: &str = include_str!("../sql/verify_digest_columns.sql");
pub(super) const FINGERPRINT: &str = include_str!("../sql/verify_fingerprint.sql");
pub(super) const OID_NAMES: &str = include_str!("../sql/verify_oid_names.sql");

pub(super) type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// The digest rows of some schemas: most kinds, and the columns apart.
pub(super) struct Digest {
    pub(super) rows: Vec<Row>,
    pub(super) columns: Vec<Row>,
}

pub(super) async fn read_digest<S: tokio_postgres::types::ToSql + Sync>(
    client: &impl GenericClient,
    schemas: &[S],
) -> Result<Digest, tokio_postgres::Error> {
    let params: [Param; 2] = [&schemas, &None::<String>];
    let (rows, columns) = tokio::try_join!(client.query(DIGEST, &params), client.query(DIGEST_COLUMNS, &params))?;
    Ok(Digest { rows, columns })
}

/// Names, digest and fingerprint of a scratch database's reference schemas.
pub(super) async fn digest_of(client: &impl GenericClient, schemas: &[String]) -> Result<(Vec<Row>, Digest, Vec<Row>)> {
    let params: [Param; 2] = [&schemas, &None::<String>];
    let all: [Param; 1] = [&None::<Vec<String>>];
    let (names, digest, fingerprint) = tokio::try_join!(
        client.query(OID_NAMES, &all),
        read_digest(client, schemas),
        client.query(FINGERPRINT, &params)
    )?;
    Ok((names, digest, fingerprint))
}
