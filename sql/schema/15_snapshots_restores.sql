-- PgBackMan catalog: snapshot and restore definition functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Snapshots and restores
-- =====================================================================================

CREATE FUNCTION register_snapshot_definition(
    p_server_id integer, p_node_id bigint, p_dbname text, p_at_time timestamptz, p_backup_code text,
    p_retention_period interval, p_extra_backup_parameters text, p_remarks text, p_pg_dump_release text,
    p_backup_compression text DEFAULT NULL, p_encryption boolean DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_code   text := upper(nullif(p_backup_code, ''));
  v_dbname text := coalesce(p_dbname, '');
  v_ret    interval := p_retention_period;
  v_extra  text := p_extra_backup_parameters;
  v_rel    text := nullif(p_pg_dump_release, '');
  v_comp   text := nullif(btrim(coalesce(p_backup_compression, '')), '');
  v_id     bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  v_code  := coalesce(v_code, get_pgsql_node_config_value(p_node_id, 'backup_code'));
  v_ret   := coalesce(v_ret, get_pgsql_node_config_value(p_node_id, 'retention_period')::interval);
  v_extra := coalesce(v_extra, get_pgsql_node_config_value(p_node_id, 'extra_backup_parameters'));
  IF NOT EXISTS (SELECT 1 FROM backup_code WHERE code = v_code) THEN
    RAISE EXCEPTION 'Backup code % does not exist', v_code;
  END IF;
  IF v_code = 'CLUSTER' THEN
    v_dbname := '';
  ELSIF v_dbname = '' THEN
    RAISE EXCEPTION 'A database name is required for backup code %', v_code;
  END IF;
  IF v_dbname ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Database name contains control characters'; END IF;
  IF v_extra ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Extra backup parameters contain control characters'; END IF;
  IF dataless_backup_options(v_code, v_extra) IS NOT NULL THEN
    RAISE EXCEPTION 'Extra backup parameters [%]: %', v_extra, dataless_backup_options(v_code, v_extra);
  END IF;
  PERFORM check_retention_interval(v_ret, 'retention period');
  IF v_rel IS NOT NULL AND v_rel !~ '^[0-9]+([._][0-9]+)?$' THEN
    RAISE EXCEPTION 'Invalid pg_dump release % (e.g. 15)', v_rel;
  END IF;
  IF lower(v_comp) = 'default' THEN
    v_comp := NULL;
  END IF;
  v_comp := validate_backup_compression(v_comp);
  BEGIN
    INSERT INTO snapshot_definition (backup_server_id, pgsql_node_id, dbname, at_time, backup_code,
                                     retention_period, extra_backup_parameters, remarks, pg_dump_release,
                                     backup_compression, encryption)
    VALUES (p_server_id, p_node_id, v_dbname, coalesce(p_at_time, now()), v_code, v_ret, v_extra,
            p_remarks, v_rel, v_comp,
            coalesce(p_encryption, get_pgsql_node_config_value(p_node_id, 'encryption')::boolean, false))
    RETURNING snapshot_id INTO v_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'An identical snapshot definition already exists for database % at %', v_dbname, p_at_time
      USING ERRCODE = 'unique_violation';
  END;
  RETURN v_id;
END;
$$;

CREATE FUNCTION update_snapshot_status(p_snapshot_id bigint, p_status text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM at_definition_status WHERE code = upper(p_status)) THEN
    RAISE EXCEPTION 'Invalid snapshot status %', p_status;
  END IF;
  UPDATE snapshot_definition SET status = upper(p_status) WHERE snapshot_id = p_snapshot_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Snapshot definition % does not exist', p_snapshot_id;
  END IF;
END;
$$;

CREATE FUNCTION update_restore_status(p_restore_def bigint, p_status text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM at_definition_status WHERE code = upper(p_status)) THEN
    RAISE EXCEPTION 'Invalid restore status %', p_status;
  END IF;
  UPDATE restore_definition SET status = upper(p_status) WHERE restore_def = p_restore_def;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Restore definition % does not exist', p_restore_def;
  END IF;
END;
$$;

CREATE FUNCTION register_restore_definition(
    p_at_time timestamptz, p_server_id integer, p_target_node_id bigint, p_bck_id bigint,
    p_target_dbname text, p_renamed_dbname text, p_extra_restore_parameters text,
    p_roles_to_restore text[])
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE v_id bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_target_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_target_node_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_catalog WHERE bck_id = p_bck_id) THEN
    RAISE EXCEPTION 'Backup % does not exist in the catalog', p_bck_id;
  END IF;
  IF coalesce(p_target_dbname, '') = '' THEN
    RAISE EXCEPTION 'A target database name is required';
  END IF;
  IF p_target_dbname ~ '[\x01-\x1f\x7f]' OR p_renamed_dbname ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Database name contains control characters';
  END IF;
  IF p_extra_restore_parameters ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Extra restore parameters contain control characters';
  END IF;
  IF array_to_string(p_roles_to_restore, ',') ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Role names contain control characters';
  END IF;
  INSERT INTO restore_definition (at_time, backup_server_id, target_pgsql_node_id, bck_id, target_dbname,
                                  renamed_dbname, extra_restore_parameters, roles_to_restore)
  VALUES (coalesce(p_at_time, now()), p_server_id, p_target_node_id, p_bck_id, p_target_dbname,
          nullif(p_renamed_dbname, ''), p_extra_restore_parameters, p_roles_to_restore)
  RETURNING restore_def INTO v_id;
  RETURN v_id;
END;
$$;

-- pgbackman_control claims a WAITING snapshot / restore while it hands it to at: the row stays
-- locked until the caller's transaction ends (it sets the status DEFINED or ERROR inside it),
-- so two control processes never queue it twice. Returns its at_time, or NULL when another
-- process holds it or it is no longer WAITING. (A function, because SELECT ... FOR UPDATE
-- needs UPDATE rights that the login roles do not have.)
CREATE FUNCTION claim_waiting_snapshot(p_snapshot_id bigint) RETURNS timestamptz
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT at_time FROM snapshot_definition
   WHERE snapshot_id = p_snapshot_id AND status = 'WAITING'
     FOR UPDATE SKIP LOCKED
$$;

CREATE FUNCTION claim_waiting_restore(p_restore_def bigint) RETURNS timestamptz
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT at_time FROM restore_definition
   WHERE restore_def = p_restore_def AND status = 'WAITING'
     FOR UPDATE SKIP LOCKED
$$;
