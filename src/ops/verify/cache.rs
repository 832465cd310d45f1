//! A local cache of the shared schemas' expected fingerprint.
//!
//! Building that reference means creating a database, applying the shared
//! migrations and dropping it again: the most expensive step of a verify, and
//! its result depends only on the migrations compiled into this binary, the
//! server's build, template0's encoding and locale, and the available
//! extension versions. Those make the key; the file lives in
//! `$PROVISION_CACHE_DIR`, else `$XDG_CACHE_HOME/provision`, else
//! `~/.cache/provision`. A missing or unreadable file means building the
//! reference as before; `PROVISION_CACHE_DIR=off` turns the cache off.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use tokio_postgres::Client;

use crate::store::layout_upgrade::SharedPart;

/// (kind, qualified name) → definition.
pub type Image = BTreeMap<(String, String), String>;

/// Where this server's expected image is (or would be) cached, if anywhere.
pub async fn location(client: &Client, parts: &[SharedPart<'_>]) -> Result<Option<PathBuf>> {
    let Some(dir) = directory() else { return Ok(None) };
    let row = client.query_one(include_str!("../sql/verify_cache_key.sql"), &[]).await?;
    let mut key = String::new();
    for migration in crate::store::migrate::shared_migrations() {
        key.push_str(&format!("{} {}\n", migration.name(), migration.checksum()));
    }
    for part in parts {
        for migration in part.migrations {
            key.push_str(&format!("{}/{} {}\n", part.blueprint, migration.name(), migration.checksum()));
        }
    }
    // The image is this query's output: another version of it is another image.
    key.push_str(include_str!("../sql/verify_fingerprint.sql"));
    for column in 0..3 {
        key.push_str(row.get::<_, Option<&str>>(column).unwrap_or_default());
        key.push('\n');
    }
    let hash = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
    Ok(Some(dir.join(format!("verify-shared-{hash:032x}.json"))))
}

fn directory() -> Option<PathBuf> {
    match std::env::var_os("PROVISION_CACHE_DIR") {
        Some(dir) if dir == "off" => None,
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(|d| PathBuf::from(d).join("provision"))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("provision"))),
    }
}

pub fn read(path: &PathBuf) -> Option<Image> {
    let text = std::fs::read_to_string(path).ok()?;
    let rows: Vec<(String, String, String)> = serde_json::from_str(&text).ok()?;
    Some(rows.into_iter().map(|(kind, name, detail)| ((kind, name), detail)).collect())
}

/// Best effort: a cache that cannot be written only costs the next run time.
/// Written to a temporary file and renamed, so readers never see half.
pub fn write(path: &PathBuf, image: &Image) {
    let rows: Vec<(&String, &String, &String)> = image.iter().map(|((k, n), d)| (k, n, d)).collect();
    let Ok(text) = serde_json::to_string(&rows) else { return };
    let Some(dir) = path.parent() else { return };
    let temporary = dir.join(format!(".verify-{}-{}.tmp", std::process::id(), uuid::Uuid::new_v4().simple()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&temporary, text))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_survives_the_round_trip_and_garbage_reads_as_missing() {
        let dir = std::env::temp_dir().join(format!("provision-cache-test-{}", uuid::Uuid::new_v4().simple()));
        let path = dir.join("verify-shared-test.json");
        let image: Image = [(("index".to_owned(), "shared.idx".to_owned()), "CREATE INDEX …".to_owned())].into();
        write(&path, &image);
        assert_eq!(read(&path), Some(image));
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(read(&path), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
