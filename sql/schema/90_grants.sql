-- PgBackMan catalog: grants of the privilege model (see sql/pgbackman.sql).
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.
--
-- Nobody but the owner writes a table: the login roles read, and change the catalog only by
-- calling its functions. Every function that writes is SECURITY DEFINER (runs as
-- pgbackman_role_owner), pins search_path and validates its arguments.
--
--   pgbackman_role_rw      operators (the shell): SELECT, EXECUTE on every function.
--                          Member of pgbackman_role_server, so an upstream-style set-up
--                          where everything logs in as rw keeps working.
--   pgbackman_role_server  backup servers (control, maintenance, dump, restore): SELECT and
--                          EXECUTE on the functions listed below only. It records backups,
--                          restores, alerts and integrity, works the job queue and deletes
--                          what retention allows; it cannot register, change or delete
--                          servers, nodes, definitions (except purging a definition whose
--                          database was dropped and whose quarantine is over) or config.
--   pgbackman_role_ro      monitoring: SELECT on views, code tables and pgbackman_version.
--
-- A new function a backup server program calls must be added to the server list below (and
-- to the numbered upgrade file that creates it).

-- =====================================================================================
-- Grants
-- =====================================================================================

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, pgbackman_role_rw, pgbackman_role_server, pgbackman_role_ro;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, pgbackman_role_rw, pgbackman_role_server, pgbackman_role_ro;
GRANT USAGE ON SCHEMA public TO pgbackman_role_rw, pgbackman_role_server, pgbackman_role_ro;

-- Reading: every table and view for rw and server; views and code tables for ro.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO pgbackman_role_rw, pgbackman_role_server;
DO $grants$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'
  LOOP
    EXECUTE format('GRANT SELECT ON TABLE public.%I TO pgbackman_role_ro', r.relname);
  END LOOP;
END
$grants$;
GRANT SELECT ON server_status, backup_code, job_definition_status, at_definition_status,
                job_execution_status, job_execution_method, alert_type, pgbackman_version
  TO pgbackman_role_ro;

-- Functions: operators may call all of them (internal ones write nothing on their own:
-- they run as the caller, who cannot write tables).
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO pgbackman_role_rw;
GRANT EXECUTE ON FUNCTION validate_cron_field(text, integer, integer) TO pgbackman_role_ro;

-- Backup servers: lookups ...
GRANT EXECUTE ON FUNCTION
  validate_cron_field(text, integer, integer),
  retention_interval_ok(interval),
  safe_interval(text),
  retention_cutoff(interval),
  get_default_backup_server_parameter(text),
  get_default_pgsql_node_parameter(text),
  get_backup_server_config_value(integer, text),
  get_pgsql_node_config_value(bigint, text),
  get_backup_definition_def_value(bigint, text),
  get_pgsql_node_def_value(bigint, text),
  get_backup_server_def_value(integer, text),
  get_backup_server_fqdn(integer),
  get_pgsql_node_fqdn(bigint),
  get_backup_server_id(text),
  get_pgsql_node_id(text),
  get_pgsql_node_port(bigint),
  get_pgsql_node_admin_user(bigint),
  get_pgsql_node_conninfo(bigint),
  check_pgsql_node_status(bigint),
  get_dbname_from_bckid(bigint),
  get_backup_server_id_from_bckid(bigint),
  get_role_list_from_bckid(bigint),
  deleted_definition_retention(bigint),
  get_listen_channel_names(integer),
  get_crontab_backup_jobs(integer, bigint)
TO pgbackman_role_server;

-- ... and what their programs change.
GRANT EXECUTE ON FUNCTION
  -- pgbackman_dump / pgbackman_restore / pending results
  register_backup_catalog(bigint, integer, integer, bigint, text, timestamptz, timestamptz, interval,
                          text, bigint, text, text, bigint, text, text, bigint, text, text, text, text,
                          text, bigint, text[], text, text, uuid, text, text, text, bigint, text[],
                          text, boolean, text[], interval),
  register_restore_catalog(bigint, integer, integer, bigint, text, text, text, timestamptz,
                           timestamptz, interval, text, text, text, text, text[], text, text, uuid),
  -- alerts (raised by every program, delivered by pgbackman_alerts)
  raise_alert(text, integer, bigint, text, bigint, bigint, text, text, text, uuid, timestamptz),
  end_alert_episode(text),
  get_open_alert_episodes(integer, text),
  update_alert_sent(bigint, boolean),
  record_alert_delivery(bigint[], text, text[]),
  record_alert_delivery_failure(bigint[], text, text),
  sent_alerts_past_retention(integer, interval),
  delete_sent_alerts(integer, interval, integer),
  -- pgbackman_control
  pop_job_queue(integer),
  get_next_crontab_id_to_generate(integer),
  update_job_queue(integer, bigint),
  claim_waiting_snapshot(bigint),
  claim_waiting_restore(bigint),
  update_snapshot_status(bigint, text),
  update_restore_status(bigint, text),
  claim_waiting_clone(bigint),
  update_clone_status(bigint, text),
  get_due_restore_drills(integer),
  claim_due_restore_drill(bigint),
  update_restore_drill_queue_status(bigint, text),
  delete_pgsql_node_to_delete(integer, bigint),
  -- pgbackman_restore --drill / --clone
  register_restore_drill_run(bigint, bigint, bigint, integer, bigint, integer, text, text,
                             timestamptz, timestamptz, interval, text, text[], text[], text,
                             text, text, uuid),
  start_clone_snapshot(bigint),
  define_clone_restore(bigint, bigint),
  record_clone_error(bigint, text),
  -- pgbackman_maintenance
  delete_catalog_entries_to_delete(bigint),
  delete_restore_logs_to_delete(bigint),
  delete_backup_catalog(bigint),
  delete_backup_catalog_many(bigint[]),
  delete_snapshot_definition(bigint),
  record_backup_integrity(bigint, text, text),
  record_backup_integrity_many(bigint[], text[], text[]),
  set_backup_offsite_status(bigint, text, text, text, text),
  delete_offsite_copies_to_delete(bigint),
  record_disk_usage(integer, bigint, text, text, text, bigint, bigint, bigint, bigint, jsonb),
  update_backup_definition_status_to_delete(bigint),
  purge_deleted_backup_definition(bigint)
TO pgbackman_role_server;
