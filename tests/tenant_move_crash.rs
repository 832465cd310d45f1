//! A `tenant move` killed at each of its failpoints (`tenant_move.*` of
//! `provision::failpoint::ALL`): the source stays fully usable until the
//! switch, a re-run finishes the move and `--abort` removes every trace
//! (refused past the switch), both compared with an uninterrupted move.

mod support;
mod tenant_move_common;

use support::servers::Fleet;
use tenant_move_common::*;

#[test]
fn a_move_killed_at_every_step_is_finished_by_a_rerun_or_undone_by_abort() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mvref");
    app_login_on_a(&fleet, &ws, "mvref");
    move_run(&fleet, &ws, "mvref", &[]).success();
    let expected = (normalized(a, "mvref"), normalized(b, "mvref"));
    assert!(
        expected.1.len() > 200 && expected.1.iter().any(|l| l.starts_with("X_schema.users col")),
        "{:?}",
        expected.1
    );
    let points = move_points();
    assert_eq!(points.len(), 6, "{points:?}");
    for (i, point) in points.iter().enumerate() {
        // A re-run finishes the move.
        let code = format!("mvr{i}");
        let ws = tenant_on_a(&fleet, &code);
        let login = app_login_on_a(&fleet, &ws, &code);
        killed_at(&fleet, &ws, &code, point);
        if before_switch(point) {
            assert_usable_on_a(&fleet, &code, &login);
            // A copy being filled (`moving`, or not yet registered) makes no server's verify fail.
            for server in [a, b] {
                fleet.provision(&ws).args(["--server", &server.name, "verify"]).success();
            }
        } else {
            assert_eq!(
                b.scalar(&format!("SELECT status::text FROM shared.tenants WHERE tenant_code = '{code}'")),
                "active"
            );
        }
        move_run(&fleet, &ws, &code, &[]).success();
        assert_eq!((normalized(a, &code), normalized(b, &code)), expected, "{point}: re-run");

        // --abort undoes it (before the switch) or refuses (after it).
        let code = format!("mva{i}");
        let ws = tenant_on_a(&fleet, &code);
        let login = app_login_on_a(&fleet, &ws, &code);
        let before = contents(a, &code);
        killed_at(&fleet, &ws, &code, point);
        if before_switch(point) {
            let doc = move_run(&fleet, &ws, &code, &["--abort", "--json"]).success().json();
            assert_documented(&doc);
            assert_eq!((doc["outcome"].as_str(), doc["from"].as_str()), (Some("aborted"), Some("a")), "{doc}");
            let roles = [format!("role {code}_app"), format!("role {code}_owner"), format!("role {code}_ro")];
            let kept = [
                vec![format!("audit log {code}_audit_log"), "registry active".to_owned()],
                roles.to_vec(),
                vec![format!("schema {code}_schema")],
            ]
            .concat();
            assert_eq!(traces(a, &code), kept, "{point}: abort leaves the source as it was");
            assert_eq!(traces(b, &code), Vec::<String>::new(), "{point}: abort leaves nothing on the target");
            assert_eq!(contents(a, &code), before, "{point}");
            assert_usable_on_a(&fleet, &code, &login);
        } else {
            let refused = move_run(&fleet, &ws, &code, &["--abort"]).status(1);
            assert!(refused.stderr.contains("is past its switch"), "{point}:\n{}", refused.stderr);
            move_run(&fleet, &ws, &code, &[]).success();
            assert_eq!((normalized(a, &code), normalized(b, &code)), expected, "{point}: re-run after a refused abort");
        }
    }
}

#[test]
fn an_offline_move_killed_after_provisioning_is_finished_by_a_rerun() {
    let _serial = serial();
    let fleet = Fleet::shared(2);
    let (a, b) = (fleet.server("a"), fleet.server("b"));
    let ws = tenant_on_a(&fleet, "mv7");
    let login = app_login_on_a(&fleet, &ws, "mv7");
    let before = contents(a, "mv7");
    let out = move_run(&fleet, &ws, "mv7", &["--offline"])
        .env(provision::failpoint::VARIABLE, "tenant_move.after_provision")
        .output();
    assert!(out.stderr.contains("failpoint tenant_move.after_provision: aborting"), "{}", out.stderr);
    assert_usable_on_a(&fleet, "mv7", &login);
    assert_eq!(
        traces(a, "mv7").iter().filter(|t| t.starts_with("move")).collect::<Vec<_>>(),
        ["move provisioned unfinished"]
    );
    // The re-run goes on offline, as recorded, without being told again.
    let doc = move_run(&fleet, &ws, "mv7", &["--json"]).success().json();
    assert_eq!(doc["resumed_from"], "provisioned", "{doc}");
    assert_eq!(doc["steps"], serde_json::json!(["switched", "cleaned", "done"]), "{doc}");
    assert_eq!(contents(b, "mv7"), before);
    assert_eq!(traces(a, "mv7"), ["move done", "registry moved"]);
}
