-- Records the sources of a blueprint's tenant versions (one row per distinct source; a known one is left alone).
-- $1 blueprint, $2 versions, $3 migration names, $4 sources, in the same order.
INSERT INTO shared.template_sources (blueprint, version, name, source_sha256, source)
SELECT $1, s.version, s.name, encode(sha256(convert_to(s.source, 'UTF8')), 'hex'), s.source
FROM unnest($2::int[], $3::text[], $4::text[]) AS s(version, name, source)
ON CONFLICT (blueprint, version, source_sha256) DO NOTHING
