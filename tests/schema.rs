//! Seed 001, as shipped: every table, enum, index, materialized view,
//! function and trigger the document names exists in the right schema, works
//! when called, and the reference and per-tenant data is there exactly once.
//! The expected lists are kept here, taken from the document (with the
//! departures the templates comment on).

mod support;

use support::{TestDb, Workspace};

const TENANT_TABLES: &[&str] = &[
    "users",
    "user_sessions",
    "session_analytics",
    "roles",
    "user_roles",
    "permissions",
    "role_permissions",
    "agents",
    "policyholders",
    "insurance_policies",
    "premium_payments",
    "user_payment_methods",
    "whatsapp_messages",
    "chatbot_sessions",
    "chat_messages",
    "chatbot_knowledge_base",
    "video_content",
    "video_analytics",
    "user_events",
    "user_journeys",
    "agent_performance",
    "system_metrics",
    "query_performance_log",
];

const PARTITIONED: &[&str] = &["session_analytics", "user_events", "video_analytics"];

const TENANT_ENUMS: &[(&str, &str)] = &[
    ("user_role_enum", "super_admin,insurance_provider_admin,regional_manager,senior_agent,junior_agent,policyholder,support_staff,guest"),
    ("user_status_enum", "active,inactive,suspended,pending_verification,deactivated"),
    ("agent_status_enum", "active,inactive,suspended,pending_approval,rejected"),
    ("policy_status_enum", "draft,pending_approval,under_review,approved,active,lapsed,surrendered,matured,claimed,cancelled"),
    ("payment_status_enum", "pending,processing,completed,failed,refunded,cancelled"),
];

/// §3.1 and §3.3 indexes. The seed's idx_policyholders_search indexes
/// columns policyholders does not have; idx_users_name_search replaces it.
const TENANT_INDEXES: &[&str] = &[
    "idx_users_tenant_status",
    "idx_users_email",
    "idx_users_phone",
    "idx_users_created_at",
    "idx_policies_policyholder_status",
    "idx_policies_agent_provider",
    "idx_policies_status_dates",
    "idx_policies_premium",
    "idx_agents_user_status",
    "idx_agents_provider",
    "idx_agents_territory",
    "idx_payments_policy_status",
    "idx_payments_date_amount",
    "idx_payments_gateway",
    "idx_policies_comprehensive",
    "idx_users_address_city",
    "idx_policies_coverage_riders",
    "idx_user_events_properties",
    "idx_active_policies",
    "idx_pending_payments",
    "idx_video_content_search",
    "idx_chatbot_kb_search",
    "idx_policies_search",
    "idx_agent_dashboard_agent_id",
    "idx_users_name_search",
];

const TENANT_FUNCTIONS: &[&str] = &[
    "refresh_agent_metrics",
    "search_policies_optimized",
    "encrypt_sensitive_data",
    "decrypt_sensitive_data",
    "monitor_database_health",
];

const SHARED_TABLES: &[&str] = &[
    "tenants",
    "tenant_config",
    "countries",
    "languages",
    "insurance_categories",
    "insurance_providers",
    "data_imports",
    "import_jobs",
    "customer_data_mapping",
    "data_sync_status",
    "whatsapp_templates",
    "backup_config",
    "backup_history",
];

const PORTAL_TABLES: &[&str] = &[
    "portal_users",
    "agent_hierarchy",
    "import_jobs",
    "import_records",
    "excel_templates",
    "lic_sync_jobs",
    "portal_audit_log",
    "portal_customers",
    "portal_policies",
    "portal_reports",
    "dashboard_preferences",
    "callback_requests",
    "callback_activities",
    "callback_queues",
    "agent_callback_capacity",
    "callback_escalation_rules",
    "callback_templates",
    "callback_metrics_daily",
    "agent_callback_performance",
    "callback_sla_tracking",
];

/// §6-§7 indexes, less two that would duplicate a UNIQUE index of their table.
const PORTAL_INDEXES: &[&str] = &[
    "idx_callback_activities_agent",
    "idx_callback_activities_callback",
    "idx_callback_activities_created_at",
    "idx_callback_requests_agent",
    "idx_callback_requests_created_at",
    "idx_callback_requests_customer",
    "idx_callback_requests_due_at",
    "idx_callback_requests_high_priority",
    "idx_callback_requests_overdue",
    "idx_callback_requests_pending",
    "idx_callback_requests_tenant_priority",
    "idx_callback_requests_tenant_status",
    "idx_callback_sla_tracking_callback",
    "idx_import_jobs_status",
    "idx_import_jobs_tenant_agent",
    "idx_import_records_job_id",
    "idx_lic_sync_jobs_status",
    "idx_lic_sync_jobs_tenant_agent",
    "idx_portal_audit_log_action",
    "idx_portal_audit_log_tenant_user",
    "idx_portal_customers_email",
    "idx_portal_customers_phone",
    "idx_portal_customers_tenant_agent",
    "idx_portal_policies_agent",
    "idx_portal_policies_customer",
    "idx_portal_policies_policy_number",
    "idx_portal_policies_status",
    "idx_portal_users_agent_code",
    "idx_portal_users_tenant_role",
];

const PORTAL_FUNCTIONS: &[&str] = &[
    "calculate_callback_priority_score",
    "get_callback_priority_category",
    "calculate_callback_due_date",
    "set_callback_due_date",
    "update_callback_timestamps",
];

fn names(db: &TestDb, sql: &str, schema: &str) -> Vec<String> {
    db.strings(&sql.replace("$schema", schema))
}

fn assert_all_present(found: &[String], expected: &[&str], what: &str) {
    let missing: Vec<&&str> = expected.iter().filter(|e| !found.iter().any(|f| f == *e)).collect();
    assert!(missing.is_empty(), "{what}: missing {missing:?}");
}

const RELATIONS: &str =
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$schema'";

fn provisioned_pair() -> (TestDb, Workspace) {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC Life\"\n");
    db.provision().in_workspace(&ws).args(["up", "--admin-password", "correct horse battery"]).success();
    (db, ws)
}

#[test]
fn every_object_of_seed_001_exists_in_its_schema() {
    let (db, _ws) = provisioned_pair();
    for schema in ["lic_schema", "hdfc_schema"] {
        let relations = names(&db, RELATIONS, schema);
        assert_all_present(&relations, TENANT_TABLES, &format!("{schema} tables"));
        assert_all_present(&relations, TENANT_INDEXES, &format!("{schema} indexes"));
        let partitioned = names(&db, &format!("{RELATIONS} AND c.relkind = 'p'"), schema);
        assert_eq!(partitioned.len(), PARTITIONED.len(), "{schema}: {partitioned:?}");
        assert_all_present(&partitioned, PARTITIONED, &format!("{schema} partitioned tables"));
        let matviews = names(&db, &format!("{RELATIONS} AND c.relkind = 'm'"), schema);
        // The seed's materialized view is a table under RLS since V8 (PostgreSQL has no RLS on materialized views).
        assert!(matviews.is_empty(), "{schema}: {matviews:?}");
        assert_all_present(&relations, &["agent_dashboard_metrics"], &format!("{schema} dashboard"));
        for (name, labels) in TENANT_ENUMS {
            let found = db.scalar(&format!(
                "SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e \
                 JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE n.nspname = '{schema}' AND t.typname = '{name}'"
            ));
            assert_eq!(&found, labels, "{schema}.{name}");
        }
        let functions = names(
            &db,
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '$schema'",
            schema,
        );
        assert_all_present(&functions, TENANT_FUNCTIONS, &format!("{schema} functions"));
        let unpinned = names(&db, "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '$schema' AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')", schema);
        assert!(unpinned.is_empty(), "{schema}: functions without a pinned search_path: {unpinned:?}");
    }
    assert_all_present(&names(&db, RELATIONS, "shared"), SHARED_TABLES, "shared tables");
    let portal = names(&db, RELATIONS, "portal");
    assert_all_present(&portal, PORTAL_TABLES, "portal tables");
    assert_all_present(&portal, PORTAL_INDEXES, "portal indexes");
    let portal_functions = names(
        &db,
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '$schema'",
        "portal",
    );
    assert_all_present(&portal_functions, PORTAL_FUNCTIONS, "portal functions");
    let triggers = db.strings(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'portal.callback_requests'::regclass AND NOT tgisinternal",
    );
    assert_all_present(&triggers, &["callback_due_date_trigger", "callback_timestamps_trigger"], "portal triggers");
    let enums = db.strings("SELECT t.typname || ':' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname IN ('shared', 'portal') GROUP BY t.typname ORDER BY 1");
    assert_eq!(
        enums,
        [
            "callback_priority:high,medium,low",
            "callback_status:pending,assigned,in_progress,completed,cancelled,overdue",
            "provider_status_enum:active,inactive,suspended,under_maintenance",
        ]
    );
    let generated = db.strings("SELECT attname FROM pg_attribute WHERE attrelid = 'portal.callback_sla_tracking'::regclass AND attgenerated = 's' ORDER BY 1");
    assert_eq!(generated, ["delay_minutes", "is_met"]);
}

#[test]
fn partitions_cover_this_month_through_premake_with_a_default() {
    let (db, _ws) = provisioned_pair();
    for table in PARTITIONED {
        let parts = db.strings(&format!(
            "SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'lic_schema.{table}'::regclass ORDER BY 1"
        ));
        assert_eq!(parts.len(), 5, "{table}: default + current + 3 ahead: {parts:?}");
        assert!(parts.iter().any(|p| p.ends_with("DEFAULT")), "{parts:?}");
        let this_month = db.scalar(&format!("SELECT '{table}_p' || to_char(localtimestamp, 'YYYY_MM')"));
        assert!(parts.iter().any(|p| p.starts_with(&this_month)), "{this_month} missing: {parts:?}");
    }
    // An event inserted now lands in this month's partition, not the default.
    db.execute("INSERT INTO lic_schema.user_events (event_type) VALUES ('login')");
    let home = db.scalar("SELECT tableoid::regclass::text FROM lic_schema.user_events");
    assert!(home.contains(&db.scalar("SELECT to_char(localtimestamp, 'YYYY_MM')")), "{home}");
}

#[test]
fn every_function_runs_and_the_dashboard_refreshes() {
    let (db, _ws) = provisioned_pair();
    db.execute(include_str!("sql/one_policy.sql"));
    let found = db.strings("SELECT policy_number FROM lic_schema.search_policies_optimized('Ramanathan')");
    assert_eq!(found, ["LIC-0001"]);
    let by_number = db.strings("SELECT policyholder_name FROM lic_schema.search_policies_optimized('LIC-0001', status_filter => ARRAY['active'])");
    assert_eq!(by_number, ["Priya Ramanathan"]);
    db.execute("SELECT lic_schema.refresh_agent_metrics()");
    assert_eq!(db.scalar("SELECT total_policies::text FROM lic_schema.agent_dashboard_metrics"), "1");
    let secret = db.scalar("SELECT lic_schema.encrypt_sensitive_data('ABCDE1234F', 'k3y')");
    assert!(!secret.contains("ABCDE1234F"));
    assert_eq!(db.scalar(&format!("SELECT lic_schema.decrypt_sensitive_data('{secret}', 'k3y')")), "ABCDE1234F");
    let health = db.strings("SELECT metric_name FROM lic_schema.monitor_database_health() ORDER BY 1");
    assert_eq!(health, ["active_connections", "database_size", "long_running_queries"]);
    let tenant = db.scalar("SELECT tenant_id::text FROM shared.tenants WHERE tenant_code = 'lic'");
    let score = db.scalar(
        "SELECT portal.calculate_callback_priority_score(gen_random_uuid(), 'policy_issue', 'high', 'gold', 5)::text",
    );
    let category = db.scalar(&format!("SELECT portal.get_callback_priority_category({score})::text"));
    assert!(["high", "medium", "low"].contains(&category.as_str()), "{category}");
    let due = db.scalar("SELECT (portal.calculate_callback_due_date(localtimestamp, 'high') > localtimestamp)::text");
    assert_eq!(due, "true");
    db.execute(&format!(
        "INSERT INTO portal.callback_requests (tenant_id, customer_id, description, customer_name, customer_phone, request_type, priority) \
         VALUES ('{tenant}', gen_random_uuid(), 'premium not reflected', 'Priya', '+919800000001', 'policy_issue', 'high')"
    ));
    assert_eq!(db.scalar("SELECT (due_at IS NOT NULL)::text FROM portal.callback_requests"), "true");
}

#[test]
fn reference_roles_and_admin_exist_once_and_no_plaintext_password_is_stored() {
    let (db, ws) = provisioned_pair();
    let counts = "SELECT (SELECT count(*) FROM shared.countries) || ' ' || (SELECT count(*) FROM shared.languages) || ' ' || \
                  (SELECT count(*) FROM shared.insurance_categories) || ' ' || (SELECT count(*) FROM shared.insurance_providers) || ' ' || \
                  (SELECT count(*) FROM shared.whatsapp_templates) || ' ' || (SELECT count(*) FROM lic_schema.roles) || ' ' || \
                  (SELECT count(*) FROM lic_schema.role_permissions) || ' ' || (SELECT count(*) FROM lic_schema.users)";
    let before = db.scalar(counts);
    let numbers: Vec<i64> = before.split(' ').map(|n| n.parse().unwrap()).collect();
    assert!(numbers[0] >= 5 && numbers[1] >= 10 && numbers[2] >= 4 && numbers[3] >= 4 && numbers[4] >= 3, "{before}");
    assert_eq!(numbers[5], 8, "eight system roles");
    assert_eq!(numbers[7], 1, "one admin user");
    assert_eq!(db.scalar("SELECT country_code FROM shared.countries WHERE country_name ILIKE 'India%'"), "IND");
    assert_eq!(db.scalar("SELECT native_name FROM shared.languages WHERE language_code = 'ta'"), "தமிழ்");
    db.provision().in_workspace(&ws).args(["up", "--admin-password", "another one"]).success();
    assert_eq!(db.scalar(counts), before, "a second up duplicated rows");
    let admin = "SELECT password_hash FROM lic_schema.users WHERE email = 'admin@lic.example'";
    let hash = db.scalar(admin);
    assert!(hash.starts_with("$2a$"), "bcrypt hash expected: {hash}");
    assert_eq!(db.scalar(&format!("SELECT (crypt('correct horse battery', ({admin})) = ({admin}))::text")), "true");
    assert_eq!(db.scalar(&format!("SELECT (crypt('another one', ({admin})) = ({admin}))::text")), "false");
    let plaintext = db.scalar("SELECT count(*)::text FROM lic_schema.users WHERE password_hash LIKE '%correct horse%'");
    assert_eq!(plaintext, "0");
    assert_eq!(db.scalar("SELECT r.role_name FROM lic_schema.user_roles ur JOIN lic_schema.roles r USING (role_id) JOIN lic_schema.users u USING (user_id) WHERE u.email = 'admin@lic.example'"), "super_admin");
    assert!(db.catalog().iter().all(|row| !row.contains("Admin123")));
}

#[test]
fn without_a_password_elsewhere_the_admin_has_no_usable_one() {
    let db = TestDb::new();
    let ws = Workspace::new("[tenants.lic]\nname = \"LIC\"\n");
    db.provision().in_workspace(&ws).args(["tenant", "add", "lic"]).success().stderr_has("no usable password");
    assert_eq!(db.scalar("SELECT password_hash FROM lic_schema.users WHERE email = 'admin@lic.example'"), "!");
}

/// `up` over many new tenants says it once, not once per tenant.
#[test]
fn up_warns_once_for_all_administrators_without_a_password() {
    let db = TestDb::new();
    let ws = Workspace::new(
        "[tenants.lic]\nname = \"LIC\"\n[tenants.hdfc]\nname = \"HDFC\"\n[tenants.icici]\nname = \"ICICI\"\n",
    );
    let out = db.provision().in_workspace(&ws).args(["up", "--no-verify"]).success();
    let warnings: Vec<&str> = out.stderr.lines().filter(|l| l.contains("no usable password")).collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(warnings[0].contains("3 administrators (admin@hdfc.example … admin@lic.example) have"), "{}", warnings[0]);
    for code in ["lic", "hdfc", "icici"] {
        let hash =
            db.scalar(&format!("SELECT password_hash FROM {code}_schema.users WHERE email = 'admin@{code}.example'"));
        assert_eq!(hash, "!", "{code}");
    }
}
