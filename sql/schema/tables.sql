-- PgBackMan catalog: every table, with its code rows, default configuration and indexes.
-- Included by sql/pgbackman.sql (fresh install) and sql/pgbackman_5.sql (upgrade from
-- PgBackMan 1.x, which then copies the old rows into these tables), as pgbackman_role_owner.
-- A new part holding tables, code rows or indexes is added HERE, once, for both paths.

\ir 01_helpers.sql
\ir 02_codes.sql
\ir 03_default_config.sql
\ir 04_tables.sql
\ir 05_indexes.sql
