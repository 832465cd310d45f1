-- Moving a tenant to another server (`provision tenant move`, README "Moving a tenant to another server").
-- seed: status was 'active', 'inactive' or 'suspended'; two states are added for a move. 'moving' marks the target's
-- copy while it is being filled (it serves nobody and `up`/`verify` leave it alone, as they leave every tenant that is
-- not active); 'moved' marks the source's entry once the target has taken over, so the registry still says where the
-- tenant went instead of forgetting it had been here.
ALTER TABLE shared.tenants DROP CONSTRAINT IF EXISTS tenants_status_check;
-- Compared as text: PostgreSQL then prints the CHECK the same way before and after a pg_dump round trip.
ALTER TABLE shared.tenants ADD CONSTRAINT tenants_status_check
    CHECK (status::text IN ('active', 'inactive', 'suspended', 'moving', 'moved'));

-- seed: no such table; a move spans two servers and several transactions, so the source records how far it got: a
-- re-run resumes from there and `tenant move --abort` knows what to clean up. One row per tenant moved away from this
-- database (a tenant that comes back and leaves again reuses its row). The step is written in the same transaction
-- as the work it names where there is one (the switch), so the row never claims more than happened.
CREATE TABLE IF NOT EXISTS shared.tenant_moves (
    tenant_code VARCHAR(56) PRIMARY KEY,
    -- the target's name in tenants.toml ([servers.<name>])
    target_server VARCHAR(40) NOT NULL,
    offline BOOLEAN NOT NULL DEFAULT false,
    step VARCHAR(20) NOT NULL
        CHECK (step::text IN ('started', 'provisioned', 'published', 'subscribed', 'caught_up', 'switched', 'cleaned', 'done')),
    publication_name NAME,
    subscription_name NAME,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

COMMENT ON TABLE shared.tenant_moves IS
    'Tenant moves away from this database and how far each got (provision tenant move); finished_at is set once the '
    'move is complete, and a row without it is resumed by the next `tenant move` or cleaned up by `tenant move --abort`.';
