-- The sources version $2 of blueprint $1 has had, newest first.
SELECT source FROM shared.template_sources WHERE blueprint = $1 AND version = $2 ORDER BY first_seen DESC
