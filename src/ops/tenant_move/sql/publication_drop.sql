-- $1 publication.
SELECT format('DROP PUBLICATION IF EXISTS %I', $1::text)
