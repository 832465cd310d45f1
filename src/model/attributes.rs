//! Tenant attributes: the values a tenant gives (tenants.toml, `tenant add
//! --set`) checked against what its blueprint declares in `[attributes]`.
//! The core knows no attribute by meaning; only where `type` is stored
//! (`shared.tenants.tenant_type`) is fixed, because the registry has that column.

use std::collections::BTreeMap;

use crate::model::blueprint::Manifest;

/// The attribute kept in the registry's `tenant_type` column.
pub const TYPE: &str = "type";

/// A tenant's attributes once checked: every attribute its blueprint
/// declares, given or defaulted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// `shared.tenants.tenant_type`: the `type` attribute, or the blueprint's
    /// name when it declares none.
    pub tenant_type: String,
    /// Every declared attribute with its value (`type` included).
    pub values: BTreeMap<String, String>,
}

impl Resolved {
    /// The attributes stored in `shared.tenant_config` (all but `type`).
    pub fn configured(values: &BTreeMap<String, String>) -> impl Iterator<Item = (&String, &String)> {
        values.iter().filter(|(name, _)| name.as_str() != TYPE)
    }
}

/// Checks `given` against `manifest`'s `[attributes]` and applies defaults.
/// The error is one phrase naming the attribute and the allowed values; the
/// caller prefixes the tenant.
pub fn resolve(manifest: &Manifest, given: &BTreeMap<String, String>) -> Result<Resolved, String> {
    let declared = &manifest.attributes;
    if let Some(unknown) = given.keys().find(|name| !declared.contains_key(*name)) {
        let accepted: Vec<&str> = declared.keys().map(String::as_str).collect();
        return Err(format!(
            "attribute {unknown:?}: blueprint {} declares no such attribute (it accepts: {})",
            manifest.name,
            if accepted.is_empty() { "none".to_owned() } else { accepted.join(", ") }
        ));
    }
    let mut values = BTreeMap::new();
    for (name, spec) in declared {
        let value = match (given.get(name), &spec.default) {
            (Some(value), _) => value.clone(),
            (None, Some(default)) => default.clone(),
            (None, None) => {
                return Err(format!(
                    "attribute {name:?} is required by blueprint {} (no default); set it{}",
                    manifest.name,
                    allowed(&spec.values)
                ))
            }
        };
        if value.trim().is_empty() || (!spec.values.is_empty() && !spec.values.contains(&value)) {
            return Err(format!(
                "attribute {name:?}: {value:?} is not allowed by blueprint {}{}",
                manifest.name,
                allowed(&spec.values)
            ));
        }
        values.insert(name.clone(), value);
    }
    let tenant_type = values.get(TYPE).cloned().unwrap_or_else(|| manifest.name.clone());
    Ok(Resolved { tenant_type, values })
}

fn allowed(values: &[String]) -> String {
    match values.is_empty() {
        true => "; any non-empty text".to_owned(),
        false => format!("; use one of {}", values.join(", ")),
    }
}

/// `KEY=VALUE` from the command line.
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_owned(), value.to_owned())),
        _ => Err(format!("--set {text:?}: write NAME=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        toml::from_str(text).unwrap()
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_and_type_goes_to_tenant_type() {
        let m = manifest(
            "name = \"demo\"\n[attributes.type]\nvalues = [\"small\", \"large\"]\ndefault = \"small\"\n\
             [attributes.region]\nvalues = []\ndefault = \"north\"\n",
        );
        let r = resolve(&m, &given(&[])).unwrap();
        assert_eq!(r.tenant_type, "small");
        assert_eq!(r.values, given(&[("region", "north"), ("type", "small")]));
        let r = resolve(&m, &given(&[("type", "large"), ("region", "south")])).unwrap();
        assert_eq!(r.tenant_type, "large");
        let configured: Vec<_> = Resolved::configured(&r.values).collect();
        assert_eq!(configured.len(), 1);
    }

    #[test]
    fn no_type_means_the_blueprint_name_and_errors_name_attribute_and_values() {
        let plain = manifest("name = \"demo\"\n");
        assert_eq!(resolve(&plain, &given(&[])).unwrap().tenant_type, "demo");
        let err = resolve(&plain, &given(&[("type", "x")])).unwrap_err();
        assert!(err.contains("\"type\"") && err.contains("accepts: none"), "{err}");
        let m = manifest("name = \"demo\"\n[attributes.type]\nvalues = [\"small\", \"large\"]\n");
        let err = resolve(&m, &given(&[("type", "huge")])).unwrap_err();
        assert!(err.contains("\"huge\"") && err.contains("small, large"), "{err}");
        let err = resolve(&m, &given(&[])).unwrap_err();
        assert!(err.contains("required"), "{err}");
        assert_eq!(parse_assignment("a=b=c").unwrap(), ("a".to_owned(), "b=c".to_owned()));
        assert!(parse_assignment("=x").is_err() && parse_assignment("x").is_err());
    }
}
