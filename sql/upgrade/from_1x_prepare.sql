-- PgBackMan 1.x -> current: step 1, clear schema public for the install's objects.
-- Included by sql/pgbackman_5.sql inside its transaction, as a superuser.
--
-- The 1.x tables move (with their rows, indexes, constraints and sequences) to schema
-- pgbackman_upstream, where from_1x_copy.sql reads them; every 1.x function, view and
-- trigger is dropped (the install creates the new ones). Tables that 1.x never created are
-- refused: they would be lost or in the way, and the operator must decide about them.

SET LOCAL search_path = public, pg_temp;

-- Notes collected before upgrade_not_carried exists (copied into it by from_1x_copy.sql).
CREATE TEMP TABLE pgb_notes (
  seq    serial,
  object text NOT NULL,
  ref    text NOT NULL,
  value  text,
  reason text NOT NULL
) ON COMMIT DROP;

-- The tables of PgBackMan 1.0.0 .. master (upstream-behaviour.md section 1).
CREATE TEMP TABLE pgb_upstream_tables (name text PRIMARY KEY) ON COMMIT DROP;
INSERT INTO pgb_upstream_tables VALUES
  ('backup_server'), ('pgsql_node'), ('pgsql_node_to_delete'), ('pgsql_node_stopped'),
  ('server_status'), ('backup_code'), ('job_definition_status'), ('job_execution_status'),
  ('job_execution_method'), ('at_definition_status'), ('alert_type'),
  ('backup_server_default_config'), ('pgsql_node_default_config'), ('backup_server_config'),
  ('pgsql_node_config'), ('job_queue'), ('backup_definition'), ('snapshot_definition'),
  ('backup_catalog'), ('restore_definition'), ('restore_catalog'), ('alerts'),
  ('catalog_entries_to_delete'), ('restore_logs_to_delete'), ('pgbackman_version');

DO $prepare$
DECLARE
  v_other text;
  r       record;
BEGIN
  SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO v_other
    FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'm', 'f')
     AND c.relname NOT IN (SELECT name FROM pgb_upstream_tables)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                       AND d.objid = c.oid AND d.deptype = 'e');
  IF v_other IS NOT NULL THEN
    RAISE EXCEPTION 'Database % holds tables that PgBackMan 1.x does not create: %. Move them out of schema public (or drop them), then run the upgrade again; nothing was changed',
      current_database(), v_other;
  END IF;
  IF to_regnamespace('pgbackman_upstream') IS NOT NULL THEN
    RAISE EXCEPTION 'Schema pgbackman_upstream already exists in database %: the upgrade needs that name for the 1.x tables; drop or rename it first',
      current_database();
  END IF;

  -- No PgBackMan 1.x program may change anything from here on (lock_timeout applies).
  FOR r IN SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
            ORDER BY c.relname LOOP
    EXECUTE format('LOCK TABLE public.%I IN ACCESS EXCLUSIVE MODE', r.relname);
  END LOOP;

  CREATE SCHEMA pgbackman_upstream;
  FOR r IN SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
              AND c.relname IN (SELECT name FROM pgb_upstream_tables) LOOP
    EXECUTE format('ALTER TABLE public.%I SET SCHEMA pgbackman_upstream', r.relname);
  END LOOP;

  -- Everything else 1.x put in schema public: views, functions (their triggers go with
  -- them), sequences not owned by a table. Objects of extensions stay.
  FOR r IN SELECT c.oid, c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner
             FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'S')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY c.relkind DESC, c.relname LOOP
    IF to_regclass(format('public.%I', r.relname)) IS NULL THEN
      CONTINUE;                                   -- gone with an earlier CASCADE
    END IF;
    IF r.owner <> 'pgbackman_role_rw' THEN
      INSERT INTO pgb_notes (object, ref, value, reason)
      VALUES (CASE r.relkind WHEN 'v' THEN 'view' ELSE 'sequence' END, r.relname, 'owner ' || r.owner,
              'not created by PgBackMan 1.x (not owned by pgbackman_role_rw) but in schema public: dropped');
    END IF;
    EXECUTE format('DROP %s public.%I CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' ELSE 'SEQUENCE' END,
                   r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure::text AS sig, p.prokind, pg_get_userbyid(p.proowner) AS owner
             FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                AND d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1 LOOP
    IF r.owner <> 'pgbackman_role_rw' THEN
      INSERT INTO pgb_notes (object, ref, value, reason)
      VALUES ('function', r.sig, 'owner ' || r.owner,
              'not created by PgBackMan 1.x (not owned by pgbackman_role_rw) but in schema public: dropped');
    END IF;
    EXECUTE format('DROP %s %s CASCADE',
                   CASE r.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                   r.sig);
  END LOOP;
END
$prepare$;
