//! Verify's three outputs: text for people, JSON for scripts, JUnit XML with
//! one testcase per tenant × check so CI systems show failures natively.
//!
//! The checks of all tenants run together (a few catalog queries over every
//! schema at once), so no check has a time of its own: JUnit's `time` of each
//! testcase is an even share of the run's seconds, and a testsuite's is the
//! sum of its testcases', so the totals add up as CI tools expect.

use anyhow::Result;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{Check, Finding, Outcome, ROW_BLUEPRINT_CHECKS, ROW_TENANT_CHECKS, SHARED_CHECKS, TENANT_CHECKS};
use crate::report::count;

/// One line per finding, then a summary line.
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    for f in &outcome.findings {
        out.push_str(&format!("{}: {} {}", f.scope, f.check, headline(f)));
        if let Some(expected) = &f.expected {
            out.push_str(&format!("\n    expected: {expected}"));
        }
        if let Some(found) = &f.found {
            out.push_str(&format!("\n    found:    {found}"));
        }
        out.push('\n');
    }
    out.push_str(&summary(outcome));
    out.push('\n');
    out
}

pub fn summary(outcome: &Outcome) -> String {
    let mut line = verdict(outcome);
    if !outcome.skipped.is_empty() {
        line.push_str(&format!(
            "; skipped {} (being changed by another provision process)",
            outcome.skipped.join(", ")
        ));
    }
    line
}

fn verdict(outcome: &Outcome) -> String {
    let checks = check_count(outcome);
    match outcome.findings.len() {
        0 => format!(
            "verify: {} and the shared schemas clean ({}, {:.2} s)",
            count(outcome.tenants.len(), "tenant"),
            count(checks, "check"),
            outcome.seconds
        ),
        n => format!(
            "verify: {} in {} ({}, {:.2} s)",
            count(n, "problem"),
            failing_scopes(outcome).join(", "),
            count(checks, "check"),
            outcome.seconds
        ),
    }
}

/// The testcases of a run: each tenant's checks, each row blueprint's, the shared schemas'.
fn check_count(outcome: &Outcome) -> usize {
    let tenants: usize = outcome.tenants.iter().map(|t| checks_of(outcome, t).len()).sum();
    tenants + outcome.row_blueprints.len() * ROW_BLUEPRINT_CHECKS.len() + SHARED_CHECKS.len()
}

/// A tenant's checks: a row tenant has no schema of its own to check.
fn checks_of(outcome: &Outcome, tenant: &str) -> &'static [Check] {
    match outcome.row_tenants.iter().any(|t| t == tenant) {
        true => ROW_TENANT_CHECKS,
        false => TENANT_CHECKS,
    }
}

/// What was found about what: a problem that is a sentence naming its
/// object already (the row tenancy checks') is printed as it is.
fn headline(f: &Finding) -> String {
    match f.problem.starts_with(&f.object) {
        true => f.problem.clone(),
        false => format!("{} {} {}", f.problem, f.kind, f.object),
    }
}

fn failing_scopes(outcome: &Outcome) -> Vec<String> {
    let mut scopes: Vec<String> = outcome.findings.iter().map(|f| f.scope.clone()).collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// JUnit XML: a testsuite per scope (each tenant, and `shared`), a testcase
/// per check, a `<failure>` per failing check listing its findings.
pub fn junit(outcome: &Outcome) -> Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let skipped = outcome.skipped.len() * TENANT_CHECKS.len();
    let total = check_count(outcome) + skipped;
    let failed = failing_cases(outcome);
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "provision verify"));
    suites.push_attribute(("tests", total.to_string().as_str()));
    suites.push_attribute(("failures", failed.to_string().as_str()));
    if skipped > 0 {
        suites.push_attribute(("skipped", skipped.to_string().as_str()));
    }
    suites.push_attribute(("time", seconds(outcome.seconds).as_str()));
    writer.write_event(Event::Start(suites))?;
    let share = outcome.seconds / (total - skipped).max(1) as f64;
    for tenant in &outcome.tenants {
        suite(&mut writer, (tenant, share), checks_of(outcome, tenant), &outcome.findings)?;
    }
    for blueprint in &outcome.row_blueprints {
        let scope = super::row::scope(blueprint);
        suite(&mut writer, (&scope, share), ROW_BLUEPRINT_CHECKS, &outcome.findings)?;
    }
    suite(&mut writer, ("shared", share), SHARED_CHECKS, &outcome.findings)?;
    for tenant in &outcome.skipped {
        skipped_suite(&mut writer, tenant)?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(String::from_utf8(writer.into_inner())? + "\n")
}

fn failing_cases(outcome: &Outcome) -> usize {
    let mut cases: Vec<(&str, Check)> = outcome.findings.iter().map(|f| (f.scope.as_str(), f.check)).collect();
    cases.sort();
    cases.dedup();
    cases.len()
}

/// JUnit's `time`: seconds with millisecond precision.
fn seconds(value: f64) -> String {
    format!("{value:.3}")
}

/// One scope's testsuite; `share` is each testcase's time (see the module doc).
fn suite(
    writer: &mut Writer<Vec<u8>>,
    (scope, share): (&str, f64),
    checks: &[Check],
    findings: &[Finding],
) -> Result<()> {
    let failures = checks.iter().filter(|c| findings.iter().any(|f| f.scope == scope && f.check == **c)).count();
    let mut start = BytesStart::new("testsuite");
    start.push_attribute(("name", scope));
    start.push_attribute(("tests", checks.len().to_string().as_str()));
    start.push_attribute(("failures", failures.to_string().as_str()));
    start.push_attribute(("time", seconds(share * checks.len() as f64).as_str()));
    writer.write_event(Event::Start(start))?;
    for check in checks {
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.scope == scope && f.check == *check).collect();
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("classname", format!("provision.verify.{scope}").as_str()));
        case.push_attribute(("name", check.as_str()));
        case.push_attribute(("time", seconds(share).as_str()));
        if mine.is_empty() {
            writer.write_event(Event::Empty(case))?;
            continue;
        }
        writer.write_event(Event::Start(case))?;
        let mut failure = BytesStart::new("failure");
        failure.push_attribute(("message", format!("{} problems", mine.len()).as_str()));
        failure.push_attribute(("type", "drift"));
        writer.write_event(Event::Start(failure))?;
        let body: Vec<String> = mine.iter().map(|f| describe(f)).collect();
        writer.write_event(Event::Text(BytesText::new(&body.join("\n"))))?;
        writer.write_event(Event::End(BytesEnd::new("failure")))?;
        writer.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

/// A tenant another provision process was changing: every check skipped,
/// so CI shows it was not verified rather than passed.
fn skipped_suite(writer: &mut Writer<Vec<u8>>, scope: &str) -> Result<()> {
    let mut start = BytesStart::new("testsuite");
    start.push_attribute(("name", scope));
    start.push_attribute(("tests", TENANT_CHECKS.len().to_string().as_str()));
    start.push_attribute(("failures", "0"));
    start.push_attribute(("skipped", TENANT_CHECKS.len().to_string().as_str()));
    start.push_attribute(("time", "0.000"));
    writer.write_event(Event::Start(start))?;
    for check in TENANT_CHECKS {
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("classname", format!("provision.verify.{scope}").as_str()));
        case.push_attribute(("name", check.as_str()));
        case.push_attribute(("time", "0.000"));
        writer.write_event(Event::Start(case))?;
        let mut skipped = BytesStart::new("skipped");
        skipped.push_attribute(("message", "being changed by another provision process"));
        writer.write_event(Event::Empty(skipped))?;
        writer.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

fn describe(f: &Finding) -> String {
    let mut line = headline(f);
    if let Some(e) = &f.expected {
        line.push_str(&format!(" | expected: {e}"));
    }
    if let Some(found) = &f.found {
        line.push_str(&format!(" | found: {found}"));
    }
    line
}
