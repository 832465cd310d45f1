-- A session that carries a key keeps bind values out of the server log
-- (design: keys travel only as bind parameters). One statement per line:
-- each runs alone, so one a role may not set (most are superuser-only)
-- does not stop the others; log_parameter_max_length_on_error is for anyone.
SET log_parameter_max_length_on_error = 0
SET log_parameter_max_length = 0
SET log_statement = 'none'
SET log_min_duration_statement = -1
SET log_min_duration_sample = -1
