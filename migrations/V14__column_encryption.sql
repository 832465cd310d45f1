-- Column encryption for any blueprint that declares encrypted columns (PHI,
-- personal data). provision never stores key material: every function here
-- takes the key as an argument, which callers pass as a bind parameter.
--
-- The envelope is text, `enc1:<key id>:<base64>`:
--   enc1     the envelope version, so a later format can live beside this one;
--   key id   12 lower-case hex digits of sha256('provision key id:' || key),
--            which names the key without revealing it (keys are high-entropy
--            files, see `provision keys`), so rotation can tell which rows
--            still carry the old key without decrypting them;
--   base64   a pgcrypto OpenPGP symmetric message (AES-256, integrity-
--            protected), base64 without line breaks.
-- S2K mode 1 (salted, one hash) rather than pgcrypto's default iterated S2K:
-- the key is random, not a password, so stretching it buys nothing and costs
-- ~100x per value. Functions have SQL-standard bodies (RETURN …): names are
-- bound when they are created, so they need no pinned search_path, and
-- without a SET clause the planner can inline them (a SET costs more per call
-- than the encryption itself).

CREATE FUNCTION shared.key_id(key text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN left(encode(public.digest('provision key id:' || key, 'sha256'), 'hex'), 12);

CREATE FUNCTION shared.is_envelope(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN value ~ '^enc1:[0-9a-f]{12}:[A-Za-z0-9+/]+={0,2}$';

CREATE FUNCTION shared.envelope_key_id(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN value ~ '^enc1:[0-9a-f]{12}:' THEN substr(value, 6, 12) END;

-- Columns that hold ciphertext use this domain: its CHECK refuses plaintext.
CREATE DOMAIN shared.ciphertext AS text
    CONSTRAINT ciphertext_is_envelope CHECK (shared.is_envelope(VALUE));

CREATE FUNCTION shared.encrypt(plain text, key text) RETURNS shared.ciphertext
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    RETURN ('enc1:' || shared.key_id(key) || ':'
        || translate(encode(public.pgp_sym_encrypt(plain, key, 'cipher-algo=aes256, s2k-mode=1'), 'base64'), E'\n', ''))::shared.ciphertext;

-- Raises when the key is not the one the envelope names (before trying it,
-- so a wrong key fails the same way whatever the data); pgcrypto raises when
-- the message was tampered with.
CREATE FUNCTION shared.wrong_key(envelope text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION 'the key given is not the key this value was encrypted with'
        USING ERRCODE = '28P01', HINT = 'pass the key whose id is ' || coalesce(shared.envelope_key_id(envelope), '(not an envelope)');
END
$$;

CREATE FUNCTION shared.decrypt(envelope text, key text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN shared.envelope_key_id(envelope) = shared.key_id(key)
        THEN public.pgp_sym_decrypt(decode(substr(envelope, 19), 'base64'), key)
        ELSE shared.wrong_key(envelope) END;

-- The key versions of each tenant: ids and lifetimes, never key material.
-- A row appears when provision first encrypts for the tenant with a key
-- (seed, `keys rotate`) and is retired when no value carries it any more.
CREATE TABLE shared.tenant_keys (
    tenant_code VARCHAR(56) NOT NULL,
    key_id      text        NOT NULL CHECK (key_id ~ '^[0-9a-f]{12}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz,
    PRIMARY KEY (tenant_code, key_id)
);
-- At most one current key per tenant.
CREATE UNIQUE INDEX tenant_keys_one_current ON shared.tenant_keys (tenant_code) WHERE retired_at IS NULL;

REVOKE ALL ON FUNCTION shared.encrypt(text, text), shared.decrypt(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shared.encrypt(text, text), shared.decrypt(text, text)
    TO provision_tenant_owners, provision_tenant_apps;
