-- Row tenancy: one table's rows of one tenant, for its backup. Identifiers quoted, {{ code }} a quoted literal
-- (COPY takes no parameters). For the tenant table itself, {{ column }} is its key.
COPY (SELECT {{ columns }} FROM {{ table }}
      WHERE {{ column }} = (SELECT {{ key }} FROM {{ tenant_table }} WHERE {{ code_column }} = {{ code }})) TO STDOUT
