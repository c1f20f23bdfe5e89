-- PgBackMan catalog: grants of the privilege model (see sql/pgbackman.sql).
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Grants
-- =====================================================================================

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO pgbackman_role_rw, pgbackman_role_ro;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO pgbackman_role_rw;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO pgbackman_role_rw;
GRANT EXECUTE ON FUNCTION validate_cron_field(text, integer, integer) TO pgbackman_role_ro;

DO $grants$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v')
  LOOP
    IF r.relkind = 'r' THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.%I TO pgbackman_role_rw', r.relname);
    ELSE
      EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.%I FROM pgbackman_role_rw', r.relname);
      EXECUTE format('GRANT SELECT ON TABLE public.%I TO pgbackman_role_rw, pgbackman_role_ro', r.relname);
    END IF;
  END LOOP;
END
$grants$;

GRANT SELECT ON server_status, backup_code, job_definition_status, at_definition_status,
                job_execution_status, job_execution_method, alert_type, pgbackman_version
  TO pgbackman_role_ro;
