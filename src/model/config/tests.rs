//! Unit tests of tenants.toml parsing: positions in errors, defaults,
//! attributes checked against a neutral test pack.

use super::*;
use crate::error::{exit_code_of, ExitCode};

fn parse(text: &str) -> Result<Config> {
    Config::parse(text, Path::new("conf/tenants.toml"))
}

/// Several packs ship, so a tenant must name one: errors about other keys
/// need a default, here the first shipped pack (named by the pack, not here).
fn default_pack() -> String {
    let shipped = crate::model::blueprint::available(Path::new("/nonexistent"));
    format!("[defaults]\nblueprint = {:?}\n", shipped.first().expect("a shipped pack").0)
}

fn error(text: &str) -> String {
    let err = parse(text).unwrap_err();
    assert_eq!(exit_code_of(&err), ExitCode::BadInput);
    let message = err.to_string();
    assert!(!message.contains('\n'), "{message}");
    message
}

/// A templates dir next to the config holding one neutral pack, `demo`,
/// with a `type` attribute; `[defaults]` names it (the shipped packs are
/// available too).
fn demo_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("templates/demo");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(
        pack.join("blueprint.toml"),
        "name = \"demo\"\n[attributes.type]\nvalues = [\"small\", \"large\"]\ndefault = \"small\"\n\
         [attributes.region]\ndefault = \"north\"\n",
    )
    .unwrap();
    std::fs::write(pack.join("V1__a.sql.tera"), "CREATE TABLE {{ schema }}.a ();").unwrap();
    dir
}

fn parse_in(dir: &Path, text: &str) -> Result<Config> {
    Config::parse(&format!("[defaults]\nblueprint = \"demo\"\n{text}"), &dir.join("tenants.toml"))
}

#[test]
fn parses_tenants_with_defaults() {
    let dir = demo_workspace();
    let config = parse_in(
        dir.path(),
        "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\ntype = \"large\"\n\
         [tenants.hdfc.attributes]\nregion = \"south\"\n",
    )
    .unwrap();
    assert_eq!(config.templates_dir, dir.path().join("templates"));
    let codes: Vec<_> = config.tenants.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, ["hdfc", "lic"]);
    let (hdfc, lic) = (&config.tenants[0], &config.tenants[1]);
    assert_eq!((lic.blueprint.as_str(), lic.tenant_type.as_str()), ("demo", "small"));
    assert_eq!(lic.attributes.get("region").map(String::as_str), Some("north"));
    assert_eq!((hdfc.tenant_type.as_str(), hdfc.attributes["region"].as_str()), ("large", "south"));
    assert_eq!(lic.id, derived_tenant_id(&lic.code));
    assert_ne!(hdfc.id, lic.id);
}

#[test]
fn attributes_are_checked_against_the_blueprint() {
    let dir = demo_workspace();
    let err = parse_in(dir.path(), "[tenants.lic]\nname = \"x\"\ntype = \"huge\"\n").unwrap_err();
    assert_eq!(exit_code_of(&err), ExitCode::BadInput);
    let message = err.to_string();
    assert!(message.contains("tenants.lic") && message.contains("\"type\""), "{message}");
    assert!(message.contains("small, large") && !message.contains('\n'), "{message}");
    let err = parse_in(dir.path(), "[tenants.lic]\nname = \"x\"\n[tenants.lic.attributes]\ncolour = \"red\"\n");
    let message = err.unwrap_err().to_string();
    assert!(message.contains("\"colour\"") && message.contains("region, type"), "{message}");
}

#[test]
fn no_default_among_several_packs_is_an_error_naming_them() {
    let dir = demo_workspace();
    let message =
        Config::parse("[tenants.lic]\nname = \"x\"\n", &dir.path().join("tenants.toml")).unwrap_err().to_string();
    assert!(message.contains("lic names no blueprint") && message.contains("demo"), "{message}");
}

#[test]
fn unknown_key_names_file_line_column_and_key() {
    let message = error("[tenants.lic]\nname = \"LIC\"\nnmae = \"x\"\n");
    assert!(message.starts_with("conf/tenants.toml:"), "{message}");
    assert!(message.contains("nmae"), "{message}");
    assert!(message.contains(":3:"), "{message}");
}

#[test]
fn duplicate_tenant_is_an_error_with_position() {
    let message = error("[tenants.lic]\nname = \"A\"\n\n[tenants.lic]\nname = \"B\"\n");
    assert!(message.contains("conf/tenants.toml:4:"), "{message}");
    assert!(message.contains("lic"), "{message}");
}

#[test]
fn duplicate_key_and_negative_premake_name_the_key() {
    let message = error("[tenants.lic]\nname = \"A\"\nname = \"B\"\n");
    assert!(message.contains(":3:") && message.contains("name: duplicate key"), "{message}");
    let message = error("[tenants.lic]\nname = \"A\"\n\n[tenants.lic]\nname = \"B\"\n");
    assert!(message.contains("tenants.lic: duplicate key"), "{message}");
    let message = error("[tenants.lic]\nname = \"A\"\npremake = -1\n");
    assert!(message.contains(":3:") && message.contains("premake: ") && message.contains("-1"), "{message}");
    let message = error("[defaults]\npremake = -2\n");
    assert!(message.contains("premake: "), "{message}");
}

#[test]
fn duplicate_tenant_id_is_an_error_naming_both_tenants() {
    let id = "6f1d2c3a-8b7e-4f5d-9a10-3c2b1e0fa7d4";
    let message = error(&format!(
        "{}[tenants.lic]\nname = \"A\"\nid = \"{id}\"\n[tenants.hdfc]\nname = \"B\"\nid = \"{id}\"\n",
        default_pack()
    ));
    assert!(message.contains(id) && message.contains("hdfc") && message.contains("lic"), "{message}");
    let derived = derived_tenant_id(&TenantCode::parse("lic").unwrap());
    let message = error(&format!(
        "{}[tenants.lic]\nname = \"A\"\n[tenants.zz]\nname = \"B\"\nid = \"{derived}\"\n",
        default_pack()
    ));
    assert!(message.contains("zz") && message.contains("lic"), "{message}");
}

#[test]
fn bad_code_and_id_are_errors() {
    let message = error("[tenants.\"Bad-Code\"]\nname = \"x\"\n");
    assert!(message.contains("Bad-Code") && message.contains("conf/tenants.toml:"), "{message}");
    assert!(error(&format!("{}[tenants.lic]\nname = \"x\"\nid = \"nope\"\n", default_pack())).contains("not a UUID"));
    assert!(error("[tenants.lic]\n").contains("name"));
}

#[test]
fn missing_default_file_is_empty_but_explicit_is_an_error() {
    let missing = Path::new("/nonexistent/tenants.toml");
    assert!(Config::load(missing, false).unwrap().tenants.is_empty());
    assert_eq!(exit_code_of(&Config::load(missing, true).unwrap_err()), ExitCode::BadInput);
}

#[test]
fn db_pool_is_read_and_bounded() {
    let dir = demo_workspace();
    assert_eq!(parse_in(dir.path(), "[tenants.lic]\nname = \"A\"\n").unwrap().db_pool, None);
    assert_eq!(parse_in(dir.path(), "[db]\npool = 3\n").unwrap().db_pool, Some(3));
    assert_eq!(parse_in(dir.path(), "[db]\npool = 0\n").unwrap().db_pool, Some(0));
    let message = error(&format!("{}[db]\npool = 101\n", default_pack()));
    assert!(message.contains("[db] pool: at most 100"), "{message}");
    let message = error("[db]\npool = -1\n");
    assert!(message.contains("pool: ") && message.contains(":2:"), "{message}");
    let message = error("[db]\npol = 2\n");
    assert!(message.contains("pol"), "{message}");
}
