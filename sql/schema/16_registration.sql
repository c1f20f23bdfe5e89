-- PgBackMan catalog: catalog registration functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Catalog registration (idempotent on run_uuid)
-- =====================================================================================

CREATE FUNCTION register_backup_catalog(
    p_def_id bigint, p_procpid integer, p_server_id integer, p_node_id bigint, p_dbname text,
    p_started timestamptz, p_finished timestamptz, p_duration interval,
    p_pg_dump_file text, p_pg_dump_file_size bigint, p_pg_dump_log_file text,
    p_pg_dump_roles_file text, p_pg_dump_roles_file_size bigint, p_pg_dump_roles_log_file text,
    p_pg_dump_dbconfig_file text, p_pg_dump_dbconfig_file_size bigint, p_pg_dump_dbconfig_log_file text,
    p_global_log_file text, p_execution_status text, p_execution_method text, p_error_message text,
    p_snapshot_id bigint, p_role_list text[], p_pgsql_node_release text, p_pg_dump_release text,
    p_run_uuid uuid DEFAULT NULL, p_backup_code text DEFAULT NULL, p_checksum text DEFAULT NULL,
    p_pg_dump_manifest_file text DEFAULT NULL, p_dbname_size bigint DEFAULT NULL,
    p_excluded_tables text[] DEFAULT NULL, p_compression text DEFAULT NULL,
    p_encrypted boolean DEFAULT NULL, p_encryption_recipients text[] DEFAULT NULL,
    p_wait_duration interval DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_id        bigint;
  v_code      text := upper(nullif(p_backup_code, ''));
  v_status    text := upper(p_execution_status);
  v_integrity text;
BEGIN
  -- Every run of pgbackman_dump has a run_uuid: a row without one can only come from an
  -- import of upstream backups (D41: LEGACY), never through this function.
  IF p_run_uuid IS NULL THEN
    RAISE EXCEPTION 'A run_uuid is required to register a backup';
  END IF;
  SELECT bck_id INTO v_id FROM backup_catalog WHERE run_uuid = p_run_uuid;
  IF FOUND THEN
    RETURN v_id;
  END IF;
  IF p_checksum IS NOT NULL AND p_checksum !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'Invalid checksum % (a SHA-256 in hex)', p_checksum;
  END IF;
  IF (p_def_id IS NULL) = (p_snapshot_id IS NULL) THEN
    RAISE EXCEPTION 'A backup belongs to exactly one backup definition or snapshot';
  END IF;
  -- pgbackman_dump verified what it wrote (read-back, manifest) just before registering it.
  IF v_status = 'SUCCEEDED' THEN
    v_integrity := CASE WHEN p_checksum IS NOT NULL AND nullif(p_pg_dump_manifest_file, '') IS NOT NULL
                        THEN 'INTACT' ELSE 'UNVERIFIED' END;
  END IF;
  IF v_code IS NULL THEN
    IF p_def_id IS NOT NULL THEN
      SELECT backup_code INTO v_code FROM backup_definition WHERE def_id = p_def_id;
    ELSE
      SELECT backup_code INTO v_code FROM snapshot_definition WHERE snapshot_id = p_snapshot_id;
    END IF;
  END IF;
  INSERT INTO backup_catalog (def_id, procpid, backup_server_id, pgsql_node_id, dbname, started, finished,
                              duration, pg_dump_file, pg_dump_file_size, pg_dump_log_file,
                              pg_dump_roles_file, pg_dump_roles_file_size, pg_dump_roles_log_file,
                              pg_dump_dbconfig_file, pg_dump_dbconfig_file_size, pg_dump_dbconfig_log_file,
                              global_log_file, execution_status, execution_method, error_message,
                              snapshot_id, role_list, pgsql_node_release, pg_dump_release,
                              run_uuid, backup_code, checksum, pg_dump_manifest_file, dbname_size,
                              excluded_tables, compression, encrypted, encryption_recipients,
                              offsite_status, offsite_updated,
                              integrity, integrity_checked, integrity_detail, wait_duration)
  VALUES (p_def_id, p_procpid, p_server_id, p_node_id, p_dbname, p_started, p_finished,
          coalesce(p_duration, p_finished - p_started), p_pg_dump_file, p_pg_dump_file_size,
          p_pg_dump_log_file, p_pg_dump_roles_file, p_pg_dump_roles_file_size, p_pg_dump_roles_log_file,
          p_pg_dump_dbconfig_file, p_pg_dump_dbconfig_file_size, p_pg_dump_dbconfig_log_file,
          p_global_log_file, v_status, upper(p_execution_method), p_error_message,
          p_snapshot_id, p_role_list, p_pgsql_node_release, p_pg_dump_release,
          p_run_uuid, v_code, p_checksum, p_pg_dump_manifest_file, p_dbname_size,
          p_excluded_tables, p_compression, coalesce(p_encrypted, false), p_encryption_recipients,
          -- A good backup with a manifest, taken where offsite copies are on, waits for its
          -- upload (pgbackman_maintenance); the dump job never waits for it.
          CASE WHEN upper(p_execution_status) = 'SUCCEEDED' AND p_pg_dump_manifest_file IS NOT NULL
                    AND coalesce((SELECT value FROM backup_server_config
                                   WHERE server_id = p_server_id AND parameter = 'offsite_url'), '') <> ''
               THEN 'PENDING' END,
          CASE WHEN upper(p_execution_status) = 'SUCCEEDED' AND p_pg_dump_manifest_file IS NOT NULL
                    AND coalesce((SELECT value FROM backup_server_config
                                   WHERE server_id = p_server_id AND parameter = 'offsite_url'), '') <> ''
               THEN now() END,
          v_integrity, CASE WHEN v_integrity IS NOT NULL THEN coalesce(p_finished, now()) END,
          CASE v_integrity WHEN 'INTACT' THEN 'verified by pgbackman_dump when written'
                           WHEN 'UNVERIFIED' THEN 'no checksum manifest recorded' END,
          p_wait_duration)
  ON CONFLICT (run_uuid) DO NOTHING
  RETURNING bck_id INTO v_id;
  IF v_id IS NULL THEN          -- lost a race with a concurrent ingest of the same run
    SELECT bck_id INTO v_id FROM backup_catalog WHERE run_uuid = p_run_uuid;
  END IF;
  RETURN v_id;
END;
$$;

CREATE FUNCTION register_restore_catalog(
    p_restore_def bigint, p_procpid integer, p_server_id integer, p_target_node_id bigint,
    p_source_dbname text, p_target_dbname text, p_renamed_dbname text, p_started timestamptz,
    p_finished timestamptz, p_duration interval, p_restore_log_file text, p_global_log_file text,
    p_execution_status text, p_error_message text, p_role_list text[],
    p_target_pgsql_node_release text, p_backup_pg_release text, p_run_uuid uuid DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE v_id bigint;
BEGIN
  IF p_run_uuid IS NOT NULL THEN
    SELECT restore_id INTO v_id FROM restore_catalog WHERE run_uuid = p_run_uuid;
    IF FOUND THEN
      RETURN v_id;
    END IF;
  END IF;
  INSERT INTO restore_catalog (restore_def, procpid, backup_server_id, target_pgsql_node_id, source_dbname,
                               target_dbname, renamed_dbname, started, finished, duration, restore_log_file,
                               global_log_file, execution_status, error_message, role_list,
                               target_pgsql_node_release, backup_pg_release, run_uuid)
  VALUES (p_restore_def, p_procpid, p_server_id, p_target_node_id, p_source_dbname, p_target_dbname,
          nullif(p_renamed_dbname, ''), p_started, p_finished, coalesce(p_duration, p_finished - p_started),
          p_restore_log_file, p_global_log_file, upper(p_execution_status), p_error_message, p_role_list,
          p_target_pgsql_node_release, p_backup_pg_release, p_run_uuid)
  ON CONFLICT (run_uuid) DO NOTHING
  RETURNING restore_id INTO v_id;
  IF v_id IS NULL THEN
    SELECT restore_id INTO v_id FROM restore_catalog WHERE run_uuid = p_run_uuid;
  END IF;
  RETURN v_id;
END;
$$;
