//! The placement rule on made-up server readings: registry first, then the declared
//! server, then the fewest relations; nothing placed while a server that
//! may hold the tenant is unreachable.

use super::*;

fn name(s: &str) -> ServerName {
    ServerName::parse(s).unwrap()
}

fn code(s: &str) -> TenantCode {
    TenantCode::parse(s).unwrap()
}

fn survey(relations: i64, tenants: &[(&str, &str)]) -> Result<Survey, String> {
    Ok(Survey { relations, tenants: tenants.iter().map(|(c, s)| (c.to_string(), s.to_string())).collect() })
}

#[test]
fn new_tenants_go_to_the_fewest_relations_and_spread() {
    let (a, b) = (name("a"), name("b"));
    let (sa, sb) = (survey(1000, &[("x", "active")]), survey(400, &[]));
    let servers = [ServerView { name: &a, survey: &sa }, ServerView { name: &b, survey: &sb }];
    let placement = place(&servers, &[(code("n1"), None), (code("n2"), None), (code("x"), None)]);
    // n1 -> b (400 < 1000), then b counts 400 + 1000 (the average tenant) > 1000: n2 -> a.
    assert_eq!(placement.server_of(&code("n1")), Some(&b));
    assert_eq!(placement.server_of(&code("n2")), Some(&a));
    assert_eq!(placement.on[&code("x")].1, Reason::Registered);
}

#[test]
fn the_registry_wins_over_the_declared_server_and_the_difference_is_reported() {
    let (a, b) = (name("a"), name("b"));
    let (sa, sb) = (survey(10, &[("lic", "moved")]), survey(10, &[("lic", "active")]));
    let servers = [ServerView { name: &a, survey: &sa }, ServerView { name: &b, survey: &sb }];
    let placement = place(&servers, &[(code("lic"), Some(a.clone()))]);
    assert_eq!(placement.server_of(&code("lic")), Some(&b));
    let expected = Misplaced { tenant: "lic".into(), declared: "a".into(), found: "b".into() };
    assert_eq!(placement.misplaced, vec![expected]);
}

#[test]
fn an_unreachable_server_blocks_placing_new_tenants_but_not_found_ones() {
    let (a, b) = (name("a"), name("b"));
    let (sa, sb) = (survey(10, &[("lic", "active")]), Err("connection refused".to_owned()));
    let servers = [ServerView { name: &a, survey: &sa }, ServerView { name: &b, survey: &sb }];
    let placement = place(&servers, &[(code("lic"), None), (code("new"), None), (code("onb"), Some(b.clone()))]);
    assert_eq!(placement.server_of(&code("lic")), Some(&a));
    assert_eq!(placement.unplaced[&code("new")], vec![b.clone()]);
    assert_eq!(placement.unplaced[&code("onb")], vec![b]);
}
