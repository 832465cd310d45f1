-- Makes the tenant's hashing salt once (random, kept in the database; core
-- V16 says why). Its value never leaves the server.
-- $1 tenant code.
INSERT INTO shared.retention_salts (tenant_code) VALUES ($1::text) ON CONFLICT (tenant_code) DO NOTHING
