-- Before a session carries a sample key: bind values never reach the server
-- log, not even in the context of an error. Settings only a superuser may
-- change are tried one by one and skipped when refused. Session-wide
-- (is_local false), like the key itself.
DO $$
BEGIN
    PERFORM set_config('log_parameter_max_length_on_error', '0', false);
    BEGIN
        PERFORM set_config('log_parameter_max_length', '0', false);
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM set_config('log_statement', 'none', false);
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM set_config('log_min_duration_statement', '-1', false);
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END
$$;
