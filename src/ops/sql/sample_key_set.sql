-- The sample key for this session, which sample files read with
-- current_setting('provision.sample_key'). A bind parameter: the key is never
-- part of any statement's text. Cleared with '' after the load.
-- $1 the key ('' to clear).
SELECT set_config('provision.sample_key', $1::text, false)
