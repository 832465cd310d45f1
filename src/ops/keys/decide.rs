//! Whether a rotation may start, from what the census found, before
//! anything is written: the refusals (exit 2, each naming the key ids it
//! saw and what to pass instead) and the one case with nothing left to do.
//! Pure, so every rule is tested without a database.

use std::collections::BTreeMap;

use anyhow::Result;

use super::census::Counts;
use super::KeyIds;
use crate::error::bad_input;
use crate::model::tenant::TenantCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// Re-encrypt what carries the old key (maybe nothing), then retire it.
    Rotate,
    /// An earlier run finished: no value carries the old key, the new one is current.
    AlreadyDone,
}

/// The plan, or the refusal (bad input) that leaves everything untouched.
/// `recorded`: the tenant's key ids → retired.
pub(super) fn decide(
    code: &TenantCode,
    ids: &KeyIds,
    counts: &Counts,
    recorded: &BTreeMap<String, bool>,
) -> Result<Plan> {
    if recorded.get(&ids.to) == Some(&true) {
        return Err(bad_input(format!(
            "--to-key-file holds key id {}, which tenant {code} retired before; a retired key is never used again, \
             make a new key (`openssl rand -base64 48 > FILE`)",
            ids.to
        )));
    }
    let current = recorded.iter().find(|(_, retired)| !**retired).map(|(id, _)| id.as_str());
    let others = foreign_ids(ids, counts);
    let old_values = counts.carrying(&ids.from);
    if old_values == 0 && others.is_empty() && current == Some(ids.to.as_str()) {
        return Ok(Plan::AlreadyDone);
    }
    let current_text = current.map_or("none recorded".to_owned(), |c| format!("key id {c}"));
    if old_values == 0 && !others.is_empty() {
        return Err(bad_input(format!(
            "--from-key-file holds key id {}, which no value of tenant {code} carries; its values carry {} \
             (current key: {current_text}); nothing was changed, pass the file of that key as --from-key-file",
            ids.from,
            others.join(", ")
        )));
    }
    if old_values == 0 && current.is_some_and(|c| c != ids.from) {
        return Err(bad_input(format!(
            "--from-key-file holds key id {}, which no value of tenant {code} carries, and the tenant's current key \
             is {current_text}; nothing was changed, pass the file of the current key as --from-key-file",
            ids.from
        )));
    }
    if !others.is_empty() {
        return Err(bad_input(format!(
            "tenant {code}: besides the old key id {}, values carry {}; nothing was changed, rotate those first \
             (their key as --from-key-file), then this one",
            ids.from,
            others.join(", ")
        )));
    }
    Ok(Plan::Rotate)
}

/// Key ids other than the two given, each with its values and a column holding it.
fn foreign_ids(ids: &KeyIds, counts: &Counts) -> Vec<String> {
    let mut found: BTreeMap<&str, (u64, String)> = BTreeMap::new();
    for ((table, column, id), n) in &counts.0 {
        if *id != ids.from && *id != ids.to {
            let entry = found.entry(id.as_str()).or_insert((0, format!("{table}.{column}")));
            entry.0 += n;
        }
    }
    found.into_iter().map(|(id, (n, place))| format!("key id {id} ({n} values, e.g. in {place})")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbb";
    const C: &str = "cccccccccccc";

    fn counts(entries: &[(&str, u64)]) -> Counts {
        Counts(entries.iter().map(|(id, n)| (("t".to_owned(), "c".to_owned(), (*id).to_owned()), *n)).collect())
    }

    fn recorded(entries: &[(&str, bool)]) -> BTreeMap<String, bool> {
        entries.iter().map(|(id, r)| ((*id).to_owned(), *r)).collect()
    }

    fn plan(from: &str, counts: Counts, keys: BTreeMap<String, bool>) -> Result<Plan, String> {
        let ids = KeyIds { from: from.to_owned(), to: B.to_owned() };
        decide(&TenantCode::parse("kt").unwrap(), &ids, &counts, &keys).map_err(|e| e.to_string())
    }

    #[test]
    fn values_under_the_old_key_are_rotated_even_half_done() {
        assert_eq!(plan(A, counts(&[(A, 5)]), recorded(&[(A, false)])), Ok(Plan::Rotate));
        assert_eq!(plan(A, counts(&[(A, 2), (B, 3)]), recorded(&[(A, false)])), Ok(Plan::Rotate));
        // Killed after the last batch: only the record is left to write.
        assert_eq!(plan(A, counts(&[(B, 5)]), recorded(&[(A, false)])), Ok(Plan::Rotate));
        assert_eq!(plan(A, counts(&[(A, 5)]), recorded(&[])), Ok(Plan::Rotate));
    }

    #[test]
    fn a_finished_rotation_is_done() {
        assert_eq!(plan(A, counts(&[(B, 5)]), recorded(&[(A, true), (B, false)])), Ok(Plan::AlreadyDone));
    }

    #[test]
    fn a_wrong_old_key_is_refused_naming_the_right_id() {
        let wrong = plan(C, counts(&[(A, 5)]), recorded(&[(A, false)])).unwrap_err();
        assert!(wrong.contains(&format!("key id {A} (5 values")) && wrong.contains(C), "{wrong}");
        let empty = plan(C, counts(&[]), recorded(&[(A, false)])).unwrap_err();
        assert!(empty.contains(&format!("current key is key id {A}")), "{empty}");
    }

    #[test]
    fn a_third_key_or_a_retired_new_key_is_refused() {
        let mixed = plan(A, counts(&[(A, 1), (C, 2)]), recorded(&[(A, false)])).unwrap_err();
        assert!(mixed.contains(&format!("key id {C} (2 values, e.g. in t.c)")), "{mixed}");
        let reused = plan(A, counts(&[(A, 1)]), recorded(&[(A, false), (B, true)])).unwrap_err();
        assert!(reused.contains("retired before"), "{reused}");
    }
}
