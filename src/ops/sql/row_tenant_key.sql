-- Row tenancy: the key (as text) of the tenant row whose code column holds $1. {{ table }}, {{ key }} and
-- {{ code }} are quoted identifiers from the pack's [row].
SELECT {{ key }}::text FROM {{ table }} WHERE {{ code }} = $1
