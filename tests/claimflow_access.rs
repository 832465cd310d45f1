//! Per-user row-level security inside a ClaimFlow tenant, for a real LOGIN
//! role granted with `tenant grant`: a claimant sees and writes only their
//! own rows and only what a claimant decides, staff see the whole tenant,
//! nobody gives themselves a role, and the login flow's functions lock an
//! account after repeated failures.

mod claimflow_common;
mod support;

use claimflow_common::*;
use tokio_postgres::error::SqlState;

#[test]
fn a_claimant_is_denied_another_claimants_rows_while_staff_see_both() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        act_as(c, &acme_id, USER_1).await;
        let claims: Vec<String> = c
            .query("SELECT claim_number FROM acme_schema.claims", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(claims, ["T-1"]);
        for table in
            ["users", "insurance_profiles", "notifications", "sessions", "claim_timeline", "appeals", "audit_logs"]
        {
            assert_eq!(count(c, &format!("SELECT 1 FROM acme_schema.{table}")).await, 1, "user 1's own {table}");
        }
        // The staff_only document of user 1's own claim stays hidden.
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.documents").await, 1);
        let updated =
            c.execute("UPDATE acme_schema.claims SET billed_amount = 0 WHERE claim_number = 'T-2'", &[]).await;
        assert_eq!(updated.unwrap(), 0, "user 2's claim is invisible to user 1's UPDATE");
        let err = c
            .batch_execute(&format!(
                "INSERT INTO acme_schema.claims (claim_number, user_id, service_date, billed_amount) \
                 VALUES ('T-3', '{USER_2}', '2026-02-01', 1)"
            ))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "a claim in user 2's name: {err:?}");
        act_as(c, &acme_id, USER_2).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims WHERE claim_number = 'T-1'").await, 0);
        act_as(c, &acme_id, REVIEWER).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 2, "a reviewer sees both claims");
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.documents").await, 3, "and every document");
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.users").await, 6, "the fixture's five and admin@acme.example");
        act_as(c, &acme_id, LOCKED_REVIEWER).await;
        assert_eq!(count(c, "SELECT 1 FROM acme_schema.claims").await, 0, "a locked reviewer is no staff");
    });
    let untouched = db.scalar("SELECT billed_amount::text FROM acme_schema.claims WHERE claim_number = 'T-2'");
    assert_eq!(untouched, "80.00");
}

#[test]
fn nobody_gives_themselves_a_role_and_only_an_admin_changes_one() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        for (who, me) in [("a claimant", USER_1), ("a reviewer", REVIEWER)] {
            act_as(c, &acme_id, me).await;
            let sql = format!("UPDATE acme_schema.users SET role = 'admin' WHERE id = '{me}'");
            let err = c.batch_execute(&sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{who} made themselves admin: {err:?}");
            let others =
                c.execute(&format!("UPDATE acme_schema.users SET email = email WHERE id <> '{me}'"), &[]).await;
            assert_eq!(others.unwrap(), 0, "{who} wrote another user's row");
        }
        act_as(c, &acme_id, ADMIN).await;
        let promote = format!("UPDATE acme_schema.users SET role = 'reviewer' WHERE id = '{USER_2}'");
        assert_eq!(c.execute(&promote, &[]).await.unwrap(), 1, "an admin changes another user's role");
        act_as(c, &acme_id, "").await;
        c.batch_execute("INSERT INTO acme_schema.users (email, password_hash) VALUES ('new@test.example', '!')")
            .await
            .expect("sign-up creates a claimant");
        let err = c
            .batch_execute(
                "INSERT INTO acme_schema.users (email, password_hash, role) VALUES ('x@test.example', '!', 'admin')",
            )
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "sign-up made an admin: {err:?}");
    });
    let roles =
        db.strings("SELECT email || ' ' || role FROM acme_schema.users WHERE email LIKE '%@test.example' ORDER BY 1");
    assert_eq!(
        roles,
        [
            "boss@test.example admin",
            "locked@test.example reviewer",
            "new@test.example claimant",
            "rev@test.example reviewer",
            "u1@test.example claimant",
            "u2@test.example reviewer",
        ]
    );
}

#[test]
fn a_claimant_submits_their_draft_but_never_decides_it() {
    let (db, _ws, login, acme_id) = setup();
    db.as_login(&login, PASSWORD, async |c| {
        act_as(c, &acme_id, USER_1).await;
        for sql in [
            "UPDATE acme_schema.claims SET status = 'approved', submitted_at = now(), decided_at = now() WHERE claim_number = 'T-1'",
            "UPDATE acme_schema.claims SET paid_amount = 120 WHERE claim_number = 'T-1'",
            "UPDATE acme_schema.insurance_profiles SET verification_status = 'verified' WHERE is_primary",
            "UPDATE acme_schema.appeals SET status = 'overturned' WHERE appeal_number = 'A-1'",
        ] {
            let err = c.batch_execute(sql).await.unwrap_err();
            assert_eq!(code_of(&err), SqlState::INSUFFICIENT_PRIVILEGE, "{sql}: {err:?}");
        }
        let submit = "UPDATE acme_schema.claims SET status = 'submitted', submitted_at = now() WHERE claim_number = 'T-1'";
        assert_eq!(c.execute(submit, &[]).await.unwrap(), 1, "a claimant submits their draft");
        let edit = "UPDATE acme_schema.claims SET billed_amount = 1 WHERE claim_number = 'T-1'";
        assert_eq!(c.execute(edit, &[]).await.unwrap(), 0, "a submitted claim is no longer the claimant's to edit");
        act_as(c, &acme_id, REVIEWER).await;
        let decide = "UPDATE acme_schema.claims SET status = 'approved', decided_at = now(), allowed_amount = 100 \
                      WHERE claim_number = 'T-1'";
        assert_eq!(c.execute(decide, &[]).await.unwrap(), 1, "a reviewer decides it");
    });
    let decided = db.scalar("SELECT status || ' ' || billed_amount FROM acme_schema.claims WHERE claim_number = 'T-1'");
    assert_eq!(decided, "approved 120.00");
}

#[test]
fn login_finds_the_account_and_five_failures_lock_it() {
    let (db, _ws, login, acme_id) = setup();
    let beta_id = tenant_id(&db, "beta");
    db.as_login(&login, PASSWORD, async |c| {
        let lookup = "SELECT id::text FROM acme_schema.login_lookup('u1@test.example')";
        act_as(c, &beta_id, "").await;
        assert!(c.query(lookup, &[]).await.unwrap().is_empty(), "another tenant's id finds no account");
        act_as(c, &acme_id, "").await;
        let found: Vec<String> = c.query(lookup, &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert_eq!(found, [USER_1], "the login flow finds the account before anyone is acting");
        let record = "SELECT acme_schema.record_login($1::text::uuid, $2)";
        for attempt in 1..=5 {
            let ok: bool = c.query_one(record, &[&USER_1, &false]).await.unwrap().get(0);
            assert!(!ok, "failed attempt {attempt}");
        }
        let ok: bool = c.query_one(record, &[&USER_1, &true]).await.unwrap().get(0);
        assert!(!ok, "the right password does not open a locked account");
        let ok: bool = c.query_one(record, &[&USER_2, &true]).await.unwrap().get(0);
        assert!(ok, "user 2 logs in");
    });
    let state = db.strings(
        "SELECT email || ' ' || failed_login_attempts || ' ' || coalesce((locked_until > now())::text, 'unlocked') || ' ' || (last_login_at IS NOT NULL) \
         FROM acme_schema.users WHERE id IN ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002') \
         ORDER BY email",
    );
    assert_eq!(state, ["u1@test.example 5 true false", "u2@test.example 0 unlocked true"]);
}
