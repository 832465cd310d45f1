-- The template safety gate's memory (src/gate/memo.rs): blueprint contents
-- that passed the gate for a brand-new tenant on this database. The key is a
-- digest of every file of the blueprint, the provision binary and the
-- server's major version, so any change to what a new tenant would receive
-- misses it and the gate walks a reference tenant again. Rows are facts, not
-- configuration: deleting them is always safe (the next `tenant add` checks
-- again).
CREATE TABLE provision.gate_passed (
    blueprint  text        NOT NULL,
    digest     text        NOT NULL,
    passed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blueprint, digest)
);
