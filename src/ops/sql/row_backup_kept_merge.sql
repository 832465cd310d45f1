INSERT INTO {{ table }} ({{ columns }}) SELECT {{ columns }} FROM {{ scratch }} ON CONFLICT DO NOTHING;
