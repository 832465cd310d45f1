//! What a package or an install script takes from provision (issue 16,
//! "Packaging and help"): shell completions and man pages generated from the
//! clap tree, `--version` with commit and build date, the licence files, the
//! README's Install section and the examples of every command group's help.
//! None of it needs a database.

mod support;

use std::collections::BTreeSet;

use regex::Regex;
use support::{repo, Run};

/// The command groups, each with subcommands of its own.
const GROUPS: &[&str] = &["tenant", "db", "partitions", "sandbox", "blueprint", "keys", "retention", "routing"];

/// The subcommands `provision <path> --help` lists under "Commands:"
/// (without clap's `help`), read from the help text the user sees.
fn subcommands(path: &[&str]) -> Vec<String> {
    let out = Run::new().args(path).arg("--help").success();
    let section =
        out.stdout.split("Commands:\n").nth(1).unwrap_or_else(|| panic!("{path:?}: no Commands:\n{}", out.stdout));
    section
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn completion_scripts_come_from_the_command_tree() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef provision"),
        ("fish", "complete -c provision"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = Run::new().args(["completions", shell]).success().stdout;
        assert!(script.contains(marker), "{shell}: no {marker:?} in\n{script}");
        for word in ["tenant", "rollover", "activate", "--lock-timeout", "completions"] {
            assert!(script.contains(word), "{shell}: the script does not complete {word}");
        }
    }
    let zsh = Run::new().args(["completions", "zsh"]).success().stdout;
    assert!(zsh.starts_with("#compdef provision"), "{zsh}");
    Run::new().args(["completions", "tcsh"]).stderr_regex(".*invalid value 'tcsh'.*").status(2);
}

/// The bash script, sourced into a real bash, completes `provision tenant a`
/// to the tenant subcommands starting with `a`.
#[test]
fn the_bash_script_completes_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("provision.bash");
    std::fs::write(&script, Run::new().args(["completions", "bash"]).success().stdout).unwrap();
    let probe = format!(
        "source '{}'; COMP_WORDS=(provision tenant a); COMP_CWORD=2; _provision provision a tenant; echo \"${{COMPREPLY[*]}}\"",
        script.display()
    );
    let Ok(out) = std::process::Command::new("bash").args(["--norc", "-c", &probe]).output() else {
        return eprintln!("no bash here; skipped");
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "add activate\n", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn man_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let listed = Run::new().args(["man", "--out"]).arg(&out).success().stdout;
    let mut expected = BTreeSet::from(["provision.1".to_owned()]);
    for command in subcommands(&[]) {
        expected.insert(format!("provision-{command}.1"));
        if GROUPS.contains(&command.as_str()) {
            for sub in subcommands(&[&command]) {
                expected.insert(format!("provision-{command}-{sub}.1"));
            }
        }
    }
    let written: BTreeSet<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(written, expected, "one page per command of --help, no more");
    for name in ["provision.1", "provision-tenant-add.1", "provision-partitions-rollover.1", "provision-man.1"] {
        assert!(written.contains(name), "{name} missing: {written:?}");
    }
    let shown: BTreeSet<String> = listed.lines().map(|l| l.rsplit('/').next().unwrap().to_owned()).collect();
    assert_eq!(shown, written, "stdout lists every file written:\n{listed}");
    for name in &written {
        let page = std::fs::read_to_string(out.join(name)).unwrap();
        let command = name.strip_suffix(".1").unwrap();
        assert!(page.contains(&format!("\n.TH {command} 1 ")), "{name} is not the roff page of {command}:\n{page}");
        assert!(page.contains(&format!("\n.SH NAME\n{} \\- ", command.replace('-', "\\-"))), "{name}:\n{page}");
    }
    let add = std::fs::read_to_string(out.join("provision-tenant-add.1")).unwrap();
    assert!(add.contains("provision tenant add hdfc"), "the page carries the example of --help:\n{add}");
}

#[test]
fn man_without_out_prints_the_top_page() {
    let page = Run::new().arg("man").success().stdout;
    assert!(page.contains("\n.TH provision 1 "), "{page}");
    assert!(page.contains("\n.SH SUBCOMMANDS\n"), "{page}");
    assert!(page.contains("provision\\-tenant(1)"), "the top page points to the group pages:\n{page}");
    assert!(!page.contains("provision\\-help(1)"), "no page for clap's help subcommand, so none is listed");
}

#[test]
fn man_refuses_an_out_that_is_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pages");
    std::fs::write(&file, "").unwrap();
    Run::new()
        .args(["man", "--out"])
        .arg(&file)
        .stdout("")
        .stderr(&format!("error: --out {}: not a directory\n", file.display()))
        .status(2);
    let json = Run::new().args(["--json", "man", "--out"]).arg(dir.path().join("json")).success().stdout;
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(doc["files"].as_array().is_some_and(|f| f.len() > 30), "{json}");
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let pattern = r"provision \d+\.\d+\.\d+(-[0-9A-Za-z.]+)? \(([0-9a-f]{7,40}|unknown) \d{4}-\d{2}-\d{2}\)\n";
    for flag in ["--version", "-V"] {
        Run::new().arg(flag).stdout_regex(pattern).success();
    }
    let version = Run::new().arg("--version").success().stdout;
    let semver = Regex::new(r"^provision (\S+) ").unwrap();
    assert_eq!(&semver.captures(&version).unwrap()[1], env!("CARGO_PKG_VERSION"));
}

#[test]
fn licence_files_and_the_install_section_exist() {
    let root = repo();
    let mit = std::fs::read_to_string(root.join("LICENSE-MIT")).unwrap();
    assert!(mit.contains("Permission is hereby granted") && mit.contains("the provision developers"), "{mit}");
    let apache = std::fs::read_to_string(root.join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"MIT OR Apache-2.0\""));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let install = readme.split("\n## Install\n").nth(1).expect("README has an Install section");
    let install = install.split("\n## ").next().unwrap();
    for needed in [
        "cargo install --locked --path .",
        "postgresql-15",
        "postgresql-client-15",
        "postgresql-15-pgaudit",
        "provision sandbox stop",
        "provision completions",
        "provision man --out",
        "templates/",
    ] {
        assert!(install.contains(needed), "README's Install section does not name {needed:?}");
    }
}

#[test]
fn every_group_help_has_an_example() {
    assert_eq!(subcommands(&[]).iter().filter(|c| GROUPS.contains(&c.as_str())).count(), GROUPS.len());
    for group in GROUPS {
        let help = Run::new().args([group, "--help"]).success().stdout;
        assert!(help.contains("\nExample:\n  provision "), "{group} --help has no example:\n{help}");
    }
    for leaf in [["completions"], ["man"]] {
        Run::new().args(leaf).arg("--help").success().stdout_has("Example:");
    }
}

#[test]
fn tenant_summary_names_every_tenant_subcommand() {
    let subs = subcommands(&["tenant"]);
    assert!(subs.len() >= 9, "{subs:?}");
    let help = Run::new().args(["tenant", "--help"]).success().stdout;
    let summary = help.split("\n\n").next().unwrap();
    let top = Run::new().arg("--help").success().stdout;
    // tenant's row of `provision --help`, with the lines it wraps onto.
    let row: Vec<&str> = top
        .lines()
        .skip_while(|line| !line.starts_with("  tenant "))
        .enumerate()
        .take_while(|(i, line)| *i == 0 || line.starts_with("       "))
        .map(|(_, line)| line)
        .collect();
    let row = row.join(" ");
    for sub in &subs {
        let word = Regex::new(&format!(r"\b{sub}\b")).unwrap();
        assert!(word.is_match(summary), "tenant's summary does not name {sub}: {summary}");
        assert!(word.is_match(&row), "provision --help's row for tenant does not name {sub}: {row}");
    }
}

/// The README's systemd units work as written: systemd has no inline
/// comments (a `#` after a value is part of the value), and every
/// `provision` they start is a command this binary accepts.
#[test]
fn the_readme_systemd_units_have_no_inline_comments_and_run_real_commands() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let units: Vec<&str> = readme.split("```ini\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    assert!(!units.is_empty(), "no systemd unit in the README");
    for line in units.iter().flat_map(|u| u.lines()).filter(|l| !l.starts_with('#') && l.contains('=')) {
        assert!(!line.contains(" #") && !line.contains("\t#"), "inline comment in a unit line: {line}");
        if let Some(command) = line.strip_prefix("ExecStart=/usr/local/bin/provision ") {
            // After `--config FILE` (a file that need not exist here): --help parses the rest.
            let words: Vec<&str> = command.split_whitespace().collect();
            assert_eq!(words[0], "--config", "{line}");
            Run::new().args(&words[2..]).arg("--help").success();
        }
    }
}

/// The README's command table and `provision --help` name the same
/// commands: every leaf command of the clap tree (`tenant add`, `sandbox
/// url`, …) has a row, and every row names a real command.
#[test]
fn the_readme_command_table_matches_help() {
    let mut help = BTreeSet::new();
    for command in subcommands(&[]) {
        match GROUPS.contains(&command.as_str()) {
            true => help.extend(subcommands(&[command.as_str()]).into_iter().map(|sub| format!("{command} {sub}"))),
            false => drop(help.insert(command)),
        }
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let table = readme.split("\n## Commands\n").nth(1).expect("README has a Commands section");
    let table = table.split("\n## ").next().unwrap();
    let span = Regex::new(r"`provision ([^`]+)`").unwrap();
    let word = Regex::new(r"^[a-z][a-z-]*$").unwrap();
    let mut rows = BTreeSet::new();
    for row in table.lines().filter(|line| line.starts_with("| `provision ")) {
        let cell = row.split(" | ").next().unwrap();
        for command in span.captures_iter(cell) {
            let text = &command[1];
            let first = text.split_whitespace().next().unwrap();
            if !GROUPS.contains(&first) {
                rows.insert(first.to_owned());
                continue;
            }
            // `sandbox start\|stop`, `blueprint list \| show <name>`: each alternative that is a word.
            for alternative in text[first.len()..].split("\\|") {
                let sub = alternative.split_whitespace().next().unwrap_or_default();
                if word.is_match(sub) {
                    rows.insert(format!("{first} {sub}"));
                }
            }
        }
    }
    let missing: Vec<&String> = help.difference(&rows).collect();
    let unknown: Vec<&String> = rows.difference(&help).collect();
    assert!(missing.is_empty() && unknown.is_empty(), "README table lacks {missing:?}; names unknown {unknown:?}");
    assert!(help.len() > 25, "{help:?}");
}
