-- Seed 001 §1.2 / §4.1: extensions and the database-wide schemas.
-- Runs once per database through refinery (one transaction): no BEGIN/COMMIT, no CONCURRENTLY.

-- seed: CREATE EXTENSION IF NOT EXISTS pgcrypto (in §4.1, unqualified); pinned to schema public so its functions land in a known place
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

-- seed: CREATE SCHEMA shared AUTHORIZATION agent_mitra; that role need not exist, so the schema is owned by the migrating role
CREATE SCHEMA IF NOT EXISTS shared;

-- seed: CREATE SCHEMA audit AUTHORIZATION agent_mitra; that role need not exist, so the schema is owned by the migrating role
CREATE SCHEMA IF NOT EXISTS audit;
