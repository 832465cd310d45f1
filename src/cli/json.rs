//! What the `--json` documents of every command share, kept in one place so
//! their keys agree (docs/json.md is their reference): the database as data
//! rather than a sentence, timestamps in RFC 3339 with a zone, and each
//! tenant's result under `tenant` and `outcome`, failed ones included.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::pg::connection::Target;

/// `{"name", "host", "port", "user"}`: which database a document is about.
/// `host` is a host name, an address or a socket directory; no password.
pub fn database(target: &Target) -> Value {
    let (host, port) = target.host_port();
    json!({ "name": target.dbname(), "host": host, "port": port, "user": target.user() })
}

/// Now, in RFC 3339 (UTC, `Z`): the `ts` of a JSON log line.
pub fn now() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// A `timestamp without time zone` as PostgreSQL prints it (`2027-01-01
/// 00:00:00[.ffffff]`, or a bare date such as a `--now 2027-01-31`) in RFC
/// 3339 with the zone `Z`: partition bounds, retention cutoffs and the audit
/// log are UTC wall-clock time (see migrations/V9__audit.sql). Anything
/// else (`infinity`) is returned as it is.
pub fn wall_clock(text: &str) -> String {
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let time = if time.len() == 5 { format!("{time}:00") } else { time.to_owned() };
    let at = format!("{date}T{time}Z");
    match OffsetDateTime::parse(&at, &Rfc3339) {
        Ok(_) => at,
        Err(_) => text.to_owned(),
    }
}

/// [`wall_clock`] on the string at each of `keys` of `entry`, where present.
pub fn wall_clock_keys(entry: &mut Value, keys: &[&str]) {
    for key in keys {
        if let Some(text) = entry.get(*key).and_then(Value::as_str) {
            entry[*key] = Value::from(wall_clock(text));
        }
    }
}

/// Each entry of `tenants` gets an `outcome`: the one it has, else the one
/// `fallback` decides from the entry (a failed tenant is `failed`), so a
/// script reads every tenant's result from the same key.
pub fn with_outcomes(tenants: &mut [Value], fallback: impl Fn(&Value) -> &'static str) {
    for tenant in tenants {
        let Some(entry) = tenant.as_object_mut() else { continue };
        if !entry.get("outcome").is_some_and(Value::is_string) {
            let outcome = fallback(&Value::Object(entry.clone()));
            entry.insert("outcome".to_owned(), Value::from(outcome));
        }
    }
}

/// The per-tenant `status` of a fleet report (rollover, retention) renamed
/// `outcome`, the key every command uses for a tenant's result.
pub fn status_as_outcome(document: &mut Value) {
    let Some(tenants) = document.get_mut("tenants").and_then(Value::as_array_mut) else { return };
    for tenant in tenants.iter_mut().filter_map(Value::as_object_mut) {
        if let Some(status) = tenant.remove("status") {
            tenant.insert("outcome".to_owned(), status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_carry_a_zone() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(rfc3339(at), "2023-11-14T22:13:20Z");
        assert_eq!(wall_clock("2027-01-01 00:00:00"), "2027-01-01T00:00:00Z");
        assert_eq!(wall_clock("2026-12-03 20:33:21.449983"), "2026-12-03T20:33:21.449983Z");
        assert_eq!(wall_clock("2027-01-31"), "2027-01-31T00:00:00Z");
        assert_eq!(wall_clock("2027-01-31 12:00"), "2027-01-31T12:00:00Z");
        assert_eq!(wall_clock("infinity"), "infinity");
    }

    #[test]
    fn a_tenant_without_an_outcome_gets_one() {
        let mut tenants = vec![json!({"tenant": "a", "outcome": "created"}), json!({"tenant": "b", "error": "x"})];
        with_outcomes(&mut tenants, |t| if t.get("error").is_some() { "failed" } else { "unchanged" });
        assert_eq!(tenants[0]["outcome"], "created");
        assert_eq!(tenants[1]["outcome"], "failed");
        let mut document = json!({"tenants": [{"tenant": "a", "status": "done"}]});
        status_as_outcome(&mut document);
        assert_eq!(document, json!({"tenants": [{"tenant": "a", "outcome": "done"}]}));
    }
}
