-- Rows of a kept table ([row] keep: the audit trail) that the database may still hold, because `tenant remove` keeps
-- them: loaded into a temporary table beside it, then added where absent.
CREATE TEMPORARY TABLE {{ scratch }} (LIKE {{ table }}) ON COMMIT DROP;
