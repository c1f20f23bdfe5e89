-- PgBackMan catalog: the schema version this set of files builds.
-- Included by sql/pgbackman.sql (fresh install) and sql/pgbackman_5.sql (an upgrade from
-- PgBackMan 1.x builds the current schema from these same files, so it records the current
-- version too and the later numbered upgrades are skipped), as pgbackman_role_owner.
--
-- Numbering continues upstream's (1 = 1.0.0, 2 = 1.1.0, 3 = 1.2.0, 4 = master after 1.2.0):
-- 5 ('v_2_0_0') is this rewrite. A schema change edits the NN_<part>.sql files (fresh
-- install), adds sql/pgbackman_<n>.sql (the change for existing catalogs, which inserts its
-- own row) and adds the same row here, so that both paths end at the same version.

INSERT INTO pgbackman_version (version, tag) VALUES (5, 'v_2_0_0');
