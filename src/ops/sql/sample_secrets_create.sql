-- Where sample files put secrets to show once (generated passwords …):
-- INSERT INTO pg_temp.sample_secrets (label, secret) VALUES (…). Read back
-- before commit in insertion order; dropped with the transaction.
CREATE TEMP TABLE sample_secrets (label text NOT NULL, secret text NOT NULL) ON COMMIT DROP
