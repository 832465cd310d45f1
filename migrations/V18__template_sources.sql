-- Edited templates show what changed (issue 16). A tenant's applied version is known by refinery's checksum only,
-- which says that a template changed, not how. What a version ran is a pure function of its template's source and
-- the tenant's identity (templates see nothing else), so keeping each source a version ever had is enough to render
-- again, for any tenant, exactly what it applied, and to diff it with what the template renders today. One row per
-- distinct source, shared by every tenant and database object: far less than the rendered SQL per tenant, and
-- compressed by TOAST like any long text.
CREATE TABLE IF NOT EXISTS shared.template_sources (
    blueprint VARCHAR(63) NOT NULL,
    version INTEGER NOT NULL,
    -- refinery's migration name: V<n>__<label>
    name VARCHAR(255) NOT NULL,
    source_sha256 CHAR(64) NOT NULL,
    source TEXT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (blueprint, version, source_sha256)
);

COMMENT ON TABLE shared.template_sources IS
    'Every source a tenant template version had when provision applied it; status and upgrade render the one a tenant '
    'ran (matched by its checksum) to show a diff against today''s template.';
