-- A dry run's count: the rows a job would change now. $1 is the cutoff (text).
SELECT count(*) FROM {rel} AS t WHERE {predicate}
