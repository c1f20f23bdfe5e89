-- PgBackMan catalog: clone_database (docs/manual.rst "Cloning a database").
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.
--
-- A clone is one at job (pgbackman_restore --clone N) queued by pgbackman_control like a
-- restore: the run takes a FULL snapshot of the source database (start_clone_snapshot), then
-- restores it through an ordinary restore definition (define_clone_restore), so the result
-- is a restore_catalog row like any other. Both rows are created DEFINED (already in the
-- clone's at job): control never queues them a second time.

CREATE FUNCTION register_clone_definition(
    p_at_time timestamptz, p_server_id integer, p_source_node_id bigint, p_source_dbname text,
    p_target_node_id bigint, p_target_dbname text, p_renamed_dbname text,
    p_extra_restore_parameters text, p_roles_to_restore text[], p_remarks text DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_id      bigint;
  v_renamed text := nullif(p_renamed_dbname, '');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_source_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_source_node_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_target_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_target_node_id;
  END IF;
  IF coalesce(p_source_dbname, '') = '' OR coalesce(p_target_dbname, '') = '' THEN
    RAISE EXCEPTION 'A source and a target database name are required';
  END IF;
  IF p_source_dbname ~ '[\x01-\x1f\x7f]' OR p_target_dbname ~ '[\x01-\x1f\x7f]'
     OR v_renamed ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Database name contains control characters';
  END IF;
  IF octet_length(p_source_dbname) > 63 OR octet_length(p_target_dbname) > 63
     OR octet_length(v_renamed) > 63 THEN
    RAISE EXCEPTION 'Database names are at most 63 bytes long';
  END IF;
  IF v_renamed = p_target_dbname THEN
    RAISE EXCEPTION 'The renamed database name must differ from the target database name';
  END IF;
  IF p_source_node_id = p_target_node_id AND p_source_dbname = p_target_dbname AND v_renamed IS NULL THEN
    RAISE EXCEPTION 'A clone on the same PgSQL node needs another target database name (or a Renamed DBname)';
  END IF;
  IF coalesce(p_extra_restore_parameters, '') ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Extra restore parameters contain control characters';
  END IF;
  IF array_to_string(p_roles_to_restore, ',') ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Role names contain control characters';
  END IF;
  IF p_remarks ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Remarks contain control characters';
  END IF;
  INSERT INTO clone_definition (backup_server_id, source_pgsql_node_id, source_dbname,
                                target_pgsql_node_id, target_dbname, renamed_dbname,
                                roles_to_restore, extra_restore_parameters, at_time, remarks)
  VALUES (p_server_id, p_source_node_id, p_source_dbname, p_target_node_id, p_target_dbname,
          v_renamed, coalesce(p_roles_to_restore, '{}'), coalesce(p_extra_restore_parameters, ''),
          coalesce(p_at_time, now()), nullif(p_remarks, ''))
  RETURNING clone_id INTO v_id;
  PERFORM pg_notify('channel_restore_defined', 'Clone defined');
  RETURN v_id;
END;
$$;

-- pgbackman_control: lock one WAITING clone while its at job is queued (its at_time), NULL
-- when another process holds it or it is no longer WAITING.
CREATE FUNCTION claim_waiting_clone(p_clone_id bigint) RETURNS timestamptz
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT at_time FROM clone_definition
   WHERE clone_id = p_clone_id AND status = 'WAITING'
     FOR UPDATE SKIP LOCKED
$$;

CREATE FUNCTION update_clone_status(p_clone_id bigint, p_status text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM at_definition_status WHERE code = upper(p_status)) THEN
    RAISE EXCEPTION 'Invalid clone status %', p_status;
  END IF;
  UPDATE clone_definition SET status = upper(p_status) WHERE clone_id = p_clone_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Clone % does not exist', p_clone_id;
  END IF;
END;
$$;

-- The run's first step: a FULL snapshot of the source database, now, with no extra backup
-- parameters (nothing excluded: a clone is the whole database) and the source node's
-- retention period. Returns the snapshot id.
CREATE FUNCTION start_clone_snapshot(p_clone_id bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_c  clone_definition%ROWTYPE;
  v_id bigint;
BEGIN
  SELECT * INTO v_c FROM clone_definition WHERE clone_id = p_clone_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Clone % does not exist', p_clone_id;
  END IF;
  INSERT INTO snapshot_definition (backup_server_id, pgsql_node_id, dbname, at_time, backup_code,
                                   retention_period, extra_backup_parameters, status, remarks)
  VALUES (v_c.backup_server_id, v_c.source_pgsql_node_id, v_c.source_dbname, clock_timestamp(), 'FULL',
          get_pgsql_node_config_value(v_c.source_pgsql_node_id, 'retention_period')::interval, '',
          'DEFINED', 'clone ' || p_clone_id)
  RETURNING snapshot_id INTO v_id;
  UPDATE clone_definition SET snapshot_id = v_id, restore_def = NULL, error_message = NULL
   WHERE clone_id = p_clone_id;
  RETURN v_id;
END;
$$;

-- The run's second step: an ordinary restore definition of the snapshot's backup onto the
-- clone's target. Roles: '{#all#}' = every role the backup carries (those that exist on the
-- target are left as they are by pgbackman_restore). Returns the restore definition id.
CREATE FUNCTION define_clone_restore(p_clone_id bigint, p_bck_id bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_c     clone_definition%ROWTYPE;
  v_b     backup_catalog%ROWTYPE;
  v_roles text[];
  v_id    bigint;
BEGIN
  SELECT * INTO v_c FROM clone_definition WHERE clone_id = p_clone_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Clone % does not exist', p_clone_id;
  END IF;
  SELECT * INTO v_b FROM backup_catalog WHERE bck_id = p_bck_id;
  IF NOT FOUND OR v_b.snapshot_id IS DISTINCT FROM v_c.snapshot_id THEN
    RAISE EXCEPTION 'Backup % is not the snapshot of clone %', p_bck_id, p_clone_id;
  END IF;
  v_roles := CASE WHEN v_c.roles_to_restore = ARRAY['#all#'] THEN coalesce(v_b.role_list, '{}')
                  ELSE v_c.roles_to_restore END;
  INSERT INTO restore_definition (at_time, backup_server_id, target_pgsql_node_id, bck_id,
                                  target_dbname, renamed_dbname, extra_restore_parameters,
                                  roles_to_restore, status, remarks)
  VALUES (clock_timestamp(), v_c.backup_server_id, v_c.target_pgsql_node_id, p_bck_id,
          v_c.target_dbname, v_c.renamed_dbname, v_c.extra_restore_parameters, v_roles, 'DEFINED',
          'clone ' || p_clone_id)
  RETURNING restore_def INTO v_id;
  UPDATE clone_definition SET restore_def = v_id WHERE clone_id = p_clone_id;
  RETURN v_id;
END;
$$;

-- A run that could not reach its restore (no snapshot result in the catalog) says why here.
CREATE FUNCTION record_clone_error(p_clone_id bigint, p_error_message text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE clone_definition SET error_message = left(p_error_message, 8000) WHERE clone_id = p_clone_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Clone % does not exist', p_clone_id;
  END IF;
END;
$$;
