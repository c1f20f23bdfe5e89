-- PgBackMan catalog: backup definition functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Backup definitions
-- =====================================================================================

CREATE FUNCTION register_backup_definition(
    p_server_id integer, p_node_id bigint, p_dbname text, p_minutes_cron text, p_hours_cron text,
    p_day_month_cron text, p_month_cron text, p_weekday_cron text, p_backup_code text,
    p_encryption boolean, p_retention_period interval, p_retention_redundancy integer,
    p_extra_backup_parameters text, p_job_status text, p_remarks text,
    p_backup_compression text DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_code   text := upper(nullif(p_backup_code, ''));
  v_dbname text := coalesce(p_dbname, '');
  v_min    text := nullif(p_minutes_cron, '');
  v_hour   text := nullif(p_hours_cron, '');
  v_dom    text := nullif(p_day_month_cron, '');
  v_mon    text := nullif(p_month_cron, '');
  v_dow    text := nullif(p_weekday_cron, '');
  v_ret    interval := p_retention_period;
  v_red    integer := p_retention_redundancy;
  v_extra  text := p_extra_backup_parameters;
  v_status text := upper(nullif(p_job_status, ''));
  v_comp   text := nullif(btrim(coalesce(p_backup_compression, '')), '');
  v_id     bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;

  v_code   := coalesce(v_code, get_pgsql_node_config_value(p_node_id, 'backup_code'));
  IF NOT EXISTS (SELECT 1 FROM backup_code WHERE code = v_code) THEN
    RAISE EXCEPTION 'Backup code % does not exist', v_code;
  END IF;
  IF v_code = 'CLUSTER' THEN
    v_dbname := '';
  ELSIF v_dbname = '' THEN
    RAISE EXCEPTION 'A database name is required for backup code %', v_code;
  END IF;
  IF v_dbname ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Database name contains control characters';
  END IF;

  v_min    := coalesce(v_min, get_minute_from_interval(get_pgsql_node_config_value(p_node_id, 'backup_minutes_interval')));
  v_hour   := coalesce(v_hour, get_hour_from_interval(get_pgsql_node_config_value(p_node_id, 'backup_hours_interval')));
  v_dom    := coalesce(v_dom, get_pgsql_node_config_value(p_node_id, 'backup_day_month_cron'));
  v_mon    := coalesce(v_mon, get_pgsql_node_config_value(p_node_id, 'backup_month_cron'));
  v_dow    := coalesce(v_dow, get_pgsql_node_config_value(p_node_id, 'backup_weekday_cron'));
  v_ret    := coalesce(v_ret, get_pgsql_node_config_value(p_node_id, 'retention_period')::interval);
  v_red    := coalesce(v_red, get_pgsql_node_config_value(p_node_id, 'retention_redundancy')::integer);
  v_extra  := coalesce(v_extra, get_pgsql_node_config_value(p_node_id, 'extra_backup_parameters'));
  v_status := coalesce(v_status, get_pgsql_node_config_value(p_node_id, 'backup_job_status'));

  IF NOT validate_cron_field(v_min, 0, 59) THEN RAISE EXCEPTION 'Invalid minutes cron field: %', v_min; END IF;
  IF NOT validate_cron_field(v_hour, 0, 23) THEN RAISE EXCEPTION 'Invalid hours cron field: %', v_hour; END IF;
  IF NOT validate_cron_field(v_dom, 1, 31) THEN RAISE EXCEPTION 'Invalid day-of-month cron field: %', v_dom; END IF;
  IF NOT validate_cron_field(v_mon, 1, 12) THEN RAISE EXCEPTION 'Invalid month cron field: %', v_mon; END IF;
  IF NOT validate_cron_field(v_dow, 0, 7) THEN RAISE EXCEPTION 'Invalid weekday cron field: %', v_dow; END IF;
  PERFORM check_retention_interval(v_ret, 'retention period');
  IF v_red < 1 THEN RAISE EXCEPTION 'Invalid retention redundancy % (integer >= 1)', v_red; END IF;
  IF v_extra ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Extra backup parameters contain control characters'; END IF;
  IF dataless_backup_options(v_code, v_extra) IS NOT NULL THEN
    RAISE EXCEPTION 'Extra backup parameters [%]: %', v_extra, dataless_backup_options(v_code, v_extra);
  END IF;
  IF v_status NOT IN ('ACTIVE', 'STOPPED') THEN
    RAISE EXCEPTION 'Invalid backup job status % (ACTIVE or STOPPED)', v_status;
  END IF;
  -- NULL / '' / 'default': the node's backup_compression when the job runs.
  IF lower(v_comp) = 'default' THEN
    v_comp := NULL;
  END IF;
  v_comp := validate_backup_compression(v_comp);

  BEGIN
    INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron,
                                   day_month_cron, month_cron, weekday_cron, backup_code, encryption,
                                   retention_period, retention_redundancy, extra_backup_parameters,
                                   job_status, remarks, backup_compression)
    VALUES (p_server_id, p_node_id, v_dbname, v_min, v_hour, v_dom, v_mon, v_dow, v_code,
            coalesce(p_encryption, get_pgsql_node_config_value(p_node_id, 'encryption')::boolean, false),
            v_ret, v_red, v_extra, v_status, p_remarks, v_comp)
    RETURNING def_id INTO v_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'An identical backup definition already exists for database % on node % and server %',
      v_dbname, p_node_id, p_server_id USING ERRCODE = 'unique_violation';
  END;
  RETURN v_id;
END;
$$;

-- NULL keeps the current value; p_backup_compression 'default' goes back to the node's.
CREATE FUNCTION update_backup_definition(
    p_def_id bigint, p_minutes_cron text, p_hours_cron text, p_day_month_cron text, p_month_cron text,
    p_weekday_cron text, p_retention_period interval, p_retention_redundancy integer,
    p_extra_backup_parameters text, p_job_status text, p_remarks text,
    p_backup_compression text DEFAULT NULL, p_encryption boolean DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  d backup_definition%ROWTYPE;
BEGIN
  SELECT * INTO d FROM backup_definition WHERE def_id = p_def_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  d.minutes_cron   := coalesce(nullif(p_minutes_cron, ''), d.minutes_cron);
  d.hours_cron     := coalesce(nullif(p_hours_cron, ''), d.hours_cron);
  d.day_month_cron := coalesce(nullif(p_day_month_cron, ''), d.day_month_cron);
  d.month_cron     := coalesce(nullif(p_month_cron, ''), d.month_cron);
  d.weekday_cron   := coalesce(nullif(p_weekday_cron, ''), d.weekday_cron);
  d.retention_period := coalesce(p_retention_period, d.retention_period);
  d.retention_redundancy := coalesce(p_retention_redundancy, d.retention_redundancy);
  d.extra_backup_parameters := coalesce(p_extra_backup_parameters, d.extra_backup_parameters);
  d.job_status     := coalesce(upper(nullif(p_job_status, '')), d.job_status);
  d.remarks        := coalesce(p_remarks, d.remarks);
  d.encryption     := coalesce(p_encryption, d.encryption);
  IF lower(btrim(p_backup_compression)) = 'default' THEN
    d.backup_compression := NULL;
  ELSIF nullif(btrim(p_backup_compression), '') IS NOT NULL THEN
    d.backup_compression := validate_backup_compression(p_backup_compression);
  END IF;

  IF NOT validate_cron_field(d.minutes_cron, 0, 59) THEN RAISE EXCEPTION 'Invalid minutes cron field: %', d.minutes_cron; END IF;
  IF NOT validate_cron_field(d.hours_cron, 0, 23) THEN RAISE EXCEPTION 'Invalid hours cron field: %', d.hours_cron; END IF;
  IF NOT validate_cron_field(d.day_month_cron, 1, 31) THEN RAISE EXCEPTION 'Invalid day-of-month cron field: %', d.day_month_cron; END IF;
  IF NOT validate_cron_field(d.month_cron, 1, 12) THEN RAISE EXCEPTION 'Invalid month cron field: %', d.month_cron; END IF;
  IF NOT validate_cron_field(d.weekday_cron, 0, 7) THEN RAISE EXCEPTION 'Invalid weekday cron field: %', d.weekday_cron; END IF;
  PERFORM check_retention_interval(d.retention_period, 'retention period');
  IF d.retention_redundancy < 1 THEN RAISE EXCEPTION 'Invalid retention redundancy % (integer >= 1)', d.retention_redundancy; END IF;
  IF d.extra_backup_parameters ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Extra backup parameters contain control characters'; END IF;
  IF dataless_backup_options(d.backup_code, d.extra_backup_parameters) IS NOT NULL THEN
    RAISE EXCEPTION 'Extra backup parameters [%]: %', d.extra_backup_parameters,
      dataless_backup_options(d.backup_code, d.extra_backup_parameters);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM job_definition_status WHERE code = d.job_status) THEN
    RAISE EXCEPTION 'Invalid backup job status % (ACTIVE, STOPPED or DELETED)', d.job_status;
  END IF;

  BEGIN
    UPDATE backup_definition
       SET minutes_cron = d.minutes_cron, hours_cron = d.hours_cron, day_month_cron = d.day_month_cron,
           month_cron = d.month_cron, weekday_cron = d.weekday_cron,
           retention_period = d.retention_period, retention_redundancy = d.retention_redundancy,
           extra_backup_parameters = d.extra_backup_parameters, job_status = d.job_status,
           remarks = d.remarks, encryption = d.encryption, backup_compression = d.backup_compression
     WHERE def_id = p_def_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'An identical backup definition already exists' USING ERRCODE = 'unique_violation';
  END;
END;
$$;

CREATE FUNCTION delete_backup_definition_id(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % has backups in the catalog; use force-deletion', p_def_id;
  END IF;
  DELETE FROM backup_definition WHERE def_id = p_def_id;
END;
$$;

CREATE FUNCTION delete_backup_definition_dbname(p_node_id bigint, p_dbname text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname) THEN
    RAISE EXCEPTION 'No backup definitions for database % on PgSQL node %', p_dbname, p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog c JOIN backup_definition d ON d.def_id = c.def_id
              WHERE d.pgsql_node_id = p_node_id AND d.dbname = p_dbname) THEN
    RAISE EXCEPTION 'Backup definitions for database % on PgSQL node % have backups in the catalog; use force-deletion',
      p_dbname, p_node_id;
  END IF;
  DELETE FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname;
END;
$$;

CREATE FUNCTION delete_force_backup_definition_id(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  WITH del AS (
    DELETE FROM backup_catalog WHERE def_id = p_def_id
    RETURNING def_id, bck_id, backup_server_id, pgsql_node_id, dbname, backup_code, snapshot_id,
              pg_dump_file, pg_dump_log_file, pg_dump_roles_file,
              pg_dump_roles_log_file, pg_dump_dbconfig_file, pg_dump_dbconfig_log_file, pg_dump_manifest_file
  )
  INSERT INTO catalog_entries_to_delete (def_id, bck_id, backup_server_id, pgsql_node_id, dbname,
                                         backup_code, snapshot_id, pg_dump_file, pg_dump_log_file,
                                         pg_dump_roles_file, pg_dump_roles_log_file, pg_dump_dbconfig_file,
                                         pg_dump_dbconfig_log_file, pg_dump_manifest_file)
  SELECT * FROM del;
  DELETE FROM backup_definition WHERE def_id = p_def_id;
END;
$$;

CREATE FUNCTION delete_force_backup_definition_dbname(p_node_id bigint, p_dbname text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname) THEN
    RAISE EXCEPTION 'No backup definitions for database % on PgSQL node %', p_dbname, p_node_id;
  END IF;
  WITH del AS (
    DELETE FROM backup_catalog
     WHERE def_id IN (SELECT def_id FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname)
    RETURNING def_id, bck_id, backup_server_id, pgsql_node_id, dbname, backup_code, snapshot_id,
              pg_dump_file, pg_dump_log_file, pg_dump_roles_file,
              pg_dump_roles_log_file, pg_dump_dbconfig_file, pg_dump_dbconfig_log_file, pg_dump_manifest_file
  )
  INSERT INTO catalog_entries_to_delete (def_id, bck_id, backup_server_id, pgsql_node_id, dbname,
                                         backup_code, snapshot_id, pg_dump_file, pg_dump_log_file,
                                         pg_dump_roles_file, pg_dump_roles_log_file, pg_dump_dbconfig_file,
                                         pg_dump_dbconfig_log_file, pg_dump_manifest_file)
  SELECT * FROM del;
  DELETE FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname;
END;
$$;

-- A dropped database's definition: DELETED (maintenance). Only ACTIVE/STOPPED definitions
-- of this kind can be marked; the quarantine clock (deleted_at) starts now.
CREATE FUNCTION update_backup_definition_status_to_delete(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_dbname text;
BEGIN
  SELECT dbname INTO v_dbname FROM backup_definition WHERE def_id = p_def_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  IF v_dbname = '' THEN
    RAISE EXCEPTION 'Backup definition % is a CLUSTER definition: it has no database to be dropped', p_def_id;
  END IF;
  UPDATE backup_definition SET job_status = 'DELETED'
   WHERE def_id = p_def_id AND job_status <> 'DELETED';
END;
$$;

-- Maintenance's end of the quarantine of a dropped database: the force deletion of a
-- definition that has been DELETED for longer than its node's automatic_deletion_retention.
-- Unlike delete_force_backup_definition_id (operators), it refuses any other definition, so
-- the backup servers' role can purge quarantined definitions but delete no live one.
CREATE FUNCTION purge_deleted_backup_definition(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  d backup_definition%ROWTYPE;
  v_retention interval;
BEGIN
  SELECT * INTO d FROM backup_definition WHERE def_id = p_def_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  v_retention := deleted_definition_retention(d.pgsql_node_id);
  IF d.job_status <> 'DELETED' OR d.deleted_at IS NULL
     OR NOT d.deleted_at < retention_cutoff(v_retention) THEN
    RAISE EXCEPTION 'Backup definition % is not DELETED for longer than its automatic_deletion_retention (%)',
      p_def_id, coalesce(v_retention::text, 'invalid');
  END IF;
  PERFORM delete_force_backup_definition_id(p_def_id);
END;
$$;

-- Move definitions to another backup server (move_backup_definition); returns how many moved.
-- NULL filters match everything. The update_job_queue trigger queues both servers.
CREATE FUNCTION move_backup_definitions(p_from_server integer, p_to_server integer,
                                        p_node_ids bigint[], p_dbnames text[], p_def_ids bigint[])
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_n integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_from_server) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_from_server;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_to_server) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_to_server;
  END IF;
  UPDATE backup_definition SET backup_server_id = p_to_server
   WHERE backup_server_id = p_from_server
     AND (p_node_ids IS NULL OR pgsql_node_id = ANY (p_node_ids))
     AND (p_dbnames IS NULL OR dbname = ANY (p_dbnames))
     AND (p_def_ids IS NULL OR def_id = ANY (p_def_ids));
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END;
$$;
