-- =====================================================================================
-- PgBackMan catalog upgrade to schema version 5 ('v_2_0_0')
--
-- Run as a superuser, inside the catalog database (pgbackman_upgrade_catalog does this):
--     psql -X -v ON_ERROR_STOP=1 -U postgres -d pgbackman -f sql/pgbackman_5.sql
-- Optional: -v pgb_dry_run=on does everything, prints the report, and rolls back.
--
-- What it does depends on the newest row of pgbackman_version:
--   (1..4, 'v_1_x_0')  a PgBackMan 1.x catalog (1.0.0, 1.1.0, 1.2.0, master): converted in
--                      place, in ONE transaction, to the CURRENT schema of this software;
--   (1, 'v_2_0_0')     a catalog of this rewrite before the numbering followed upstream's:
--                      renumbered to 5 (same schema);
--   (>= 5, 'v_2_...')  already there: nothing is done;
--   anything else      (e.g. a fork's (5, 'v_1_3_1')): refused, nothing is done.
-- A failure anywhere leaves the catalog exactly as it was (one transaction; roles are
-- created inside it too). Running it again after success does nothing.
--
-- The 1.x conversion re-uses the fresh install's own files, so both paths build the same
-- catalog (tests/integration/upgrade/test_upgrade_equivalence.py compares them):
--   1. upgrade/from_1x_prepare.sql   lock the old tables, refuse tables 1.x never had, move
--                                    1.x's tables to schema pgbackman_upstream, drop 1.x's
--                                    functions, views and triggers;
--   2. schema/00_roles.sql, 00_database.sql, tables.sql, code.sql   the install's objects,
--                                    owned by pgbackman_role_owner;
--   3. upgrade/from_1x_copy.sql      copy every row with its id into the new tables (triggers
--                                    off), mapping what changed; what cannot be carried over
--                                    is recorded in upgrade_not_carried, with the reason;
--   4. schema/version.sql, 90_grants.sql   the current version row, the privilege model;
--   5. DROP SCHEMA pgbackman_upstream.
-- Because the install's files build the CURRENT schema, this file records the current
-- version (schema/version.sql) and later numbered upgrades are then skipped.
--
-- Dump files on the backup servers are not touched: the rows keep their paths, and
-- pgbackman_restore restores them as legacy backups (no checksum manifest: unverified).
-- =====================================================================================

\set ON_ERROR_STOP 1
\set QUIET 1
\if :{?pgb_dry_run}
\else
\set pgb_dry_run off
\endif
SET client_min_messages = warning;

SELECT current_database() AS pgb_dbname \gset

-- What kind of catalog is this? Raises (nothing changed) when it must not be touched.
CREATE FUNCTION pg_temp.pgb_catalog_state() RETURNS text
  LANGUAGE plpgsql
AS $$
DECLARE
  v_version integer;
  v_tag     text;
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'The catalog upgrade must run as a superuser (it creates roles and changes owners); connected as %',
      current_user;
  END IF;
  IF current_setting('server_version_num')::integer < 110000 THEN
    RAISE EXCEPTION 'PostgreSQL % is too old for this PgBackMan catalog: move the database % to PostgreSQL 11 or later first (pg_dump/pg_restore), then upgrade',
      current_setting('server_version'), current_database();
  END IF;
  IF to_regclass('public.pgbackman_version') IS NULL THEN
    RAISE EXCEPTION 'Database % holds no PgBackMan catalog (no pgbackman_version table)', current_database();
  END IF;
  SELECT version, tag INTO v_version, v_tag
    FROM public.pgbackman_version ORDER BY version DESC, registered DESC LIMIT 1;
  IF v_version IS NULL THEN
    RAISE EXCEPTION 'The PgBackMan catalog in database % has no pgbackman_version row: its version is unknown',
      current_database();
  END IF;
  IF v_tag ~ '^v_1_' AND v_version BETWEEN 1 AND 4 THEN
    RETURN 'upstream';
  ELSIF v_version = 1 AND v_tag = 'v_2_0_0' THEN
    RETURN 'renumber';
  ELSIF v_version >= 5 AND v_tag ~ '^v_([2-9]|[1-9][0-9]+)_' THEN
    RETURN 'current';
  END IF;
  RAISE EXCEPTION 'The catalog in database % has schema version % (%), which is neither PgBackMan 1.x (versions 1-4) nor this software''s: not upgraded (a catalog of a PgBackMan fork must be migrated by hand)',
    current_database(), v_version, v_tag;
END;
$$;

SELECT pg_temp.pgb_catalog_state() AS pgb_state \gset
SELECT :'pgb_state' = 'current' AS pgb_current, :'pgb_state' = 'renumber' AS pgb_renumber,
       (SELECT format('%s (%s)', version, tag) FROM public.pgbackman_version
         ORDER BY version DESC, registered DESC LIMIT 1) AS pgb_from \gset

\if :pgb_current
SELECT format('PgBackMan catalog in database %s is at schema version %s: nothing to do',
              current_database(), :'pgb_from') AS pgb_msg \gset
\echo :pgb_msg
\quit
\endif

BEGIN;
-- A PgBackMan program still connected would block (or be broken by) the upgrade: give up
-- cleanly instead of waiting forever.
SET LOCAL lock_timeout = '30s';

\if :pgb_renumber
-- Same schema, numbered after upstream's 1..4 now.
LOCK TABLE public.pgbackman_version IN ACCESS EXCLUSIVE MODE;
UPDATE public.pgbackman_version SET version = 5 WHERE version = 1 AND tag = 'v_2_0_0';
\else
\ir upgrade/from_1x_prepare.sql
\ir schema/00_roles.sql
\ir schema/00_database.sql
\ir schema/tables.sql
\ir schema/code.sql
RESET ROLE;
\o /dev/null
\ir upgrade/from_1x_copy.sql
\o
SET LOCAL ROLE pgbackman_role_owner;
SET LOCAL search_path = public, pg_temp;
\ir schema/version.sql
\ir schema/90_grants.sql
RESET ROLE;
DROP SCHEMA pgbackman_upstream CASCADE;
\endif

SELECT format('PgBackMan catalog in database %s upgraded from schema version %s to %s (%s)%s',
              current_database(), :'pgb_from', version, tag,
              CASE WHEN :'pgb_dry_run'::boolean THEN ' -- dry run: rolled back, nothing changed' ELSE '' END)
         AS pgb_msg
  FROM public.pgbackman_version ORDER BY version DESC, registered DESC LIMIT 1 \gset

\if :pgb_renumber
\else
\echo
\echo 'Rows carried over, per table:'
SELECT table_name AS "Table", rows AS "Rows", not_carried AS "Not carried over"
  FROM pg_temp.pgb_copied ORDER BY seq;
\echo 'Not carried over (kept in table upgrade_not_carried):'
SELECT object AS "Object", ref AS "Which", value AS "Value", reason AS "Why"
  FROM public.upgrade_not_carried WHERE registered = now() ORDER BY id;
\endif

\if :pgb_dry_run
ROLLBACK;
\else
COMMIT;
\endif

\echo :pgb_msg
