-- Row tenancy: the tenant's roles get USAGE on the pack's schema in this database, beside what their group roles
-- carry. Redundant as a privilege, it is what keeps the roles alive while another database of the cluster still has
-- a tenant of the same code: roles are cluster-wide, a membership is no dependency, but a privilege is one, so
-- `tenant remove` here (DROP OWNED BY, then DROP ROLE) keeps roles another database still grants to.
-- {{ schema }}, {{ app }} and {{ ro }} are quoted identifiers.
GRANT USAGE ON SCHEMA {{ schema }} TO {{ app }}, {{ ro }}
