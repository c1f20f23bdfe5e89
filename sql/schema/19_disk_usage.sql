-- PgBackMan catalog: disk usage of the backup servers (docs/manual.rst "Disk space").
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- min_free_disk_space: a percentage of the partition ('10%', 0 to 99) or a size that
-- pg_size_bytes() reads ('50 GB', '500MB', '1TB', bytes).
CREATE FUNCTION min_free_disk_space_ok(p_value text) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp
AS $$
BEGIN
  IF p_value ~ '^\s*[0-9]{1,2}(\.[0-9]+)?\s*%\s*$' THEN
    RETURN true;
  END IF;
  IF NOT p_value ~* '^\s*[0-9]+(\.[0-9]+)?\s*([kmgtp]?b|bytes)?\s*$' THEN
    RETURN false;
  END IF;
  RETURN pg_size_bytes(p_value) >= 0;
EXCEPTION WHEN invalid_parameter_value OR numeric_value_out_of_range THEN
  RETURN false;
END;
$$;

-- pgbackman_maintenance: today's measurement of one node partition of this server (rewritten
-- at every measurement of the day); rows older than 90 days are pruned.
CREATE FUNCTION record_disk_usage(
    p_server_id integer, p_node_id bigint, p_partition_path text, p_fs_id text, p_fs_path text,
    p_fs_size_bytes bigint, p_fs_free_bytes bigint, p_disk_bytes bigint, p_other_bytes bigint,
    p_job_bytes jsonb)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RETURN;                    -- deleted meanwhile: nothing to record
  END IF;
  IF least(p_fs_size_bytes, p_fs_free_bytes, p_disk_bytes, p_other_bytes) < 0
     OR p_other_bytes > p_disk_bytes THEN
    RAISE EXCEPTION 'Invalid disk usage figures for PgSQL node %', p_node_id;
  END IF;
  IF jsonb_typeof(coalesce(p_job_bytes, '{}')) <> 'object'
     OR EXISTS (SELECT 1 FROM jsonb_each(coalesce(p_job_bytes, '{}')) j
                 WHERE j.key !~ '^(def|snapshot):[0-9]+$' OR jsonb_typeof(j.value) <> 'number') THEN
    RAISE EXCEPTION 'Invalid per-job disk usage for PgSQL node %', p_node_id;
  END IF;
  IF coalesce(p_partition_path, '') !~ '^/' OR coalesce(p_fs_path, '') !~ '^/'
     OR p_partition_path ~ '[\x01-\x1f\x7f]' OR p_fs_path ~ '[\x01-\x1f\x7f]'
     OR coalesce(p_fs_id, '') !~ '^[0-9]+$' THEN
    RAISE EXCEPTION 'Invalid partition for PgSQL node %', p_node_id;
  END IF;
  INSERT INTO disk_usage (backup_server_id, pgsql_node_id, day, measured, partition_path, fs_id, fs_path,
                          fs_size_bytes, fs_free_bytes, disk_bytes, other_bytes, job_bytes)
  VALUES (p_server_id, p_node_id, (now() AT TIME ZONE 'UTC')::date, now(), p_partition_path, p_fs_id,
          p_fs_path, p_fs_size_bytes, p_fs_free_bytes, p_disk_bytes, p_other_bytes,
          coalesce(p_job_bytes, '{}'))
  ON CONFLICT (backup_server_id, pgsql_node_id, day) DO UPDATE
     SET measured = EXCLUDED.measured, partition_path = EXCLUDED.partition_path,
         fs_id = EXCLUDED.fs_id, fs_path = EXCLUDED.fs_path, fs_size_bytes = EXCLUDED.fs_size_bytes,
         fs_free_bytes = EXCLUDED.fs_free_bytes, disk_bytes = EXCLUDED.disk_bytes,
         other_bytes = EXCLUDED.other_bytes, job_bytes = EXCLUDED.job_bytes;
  DELETE FROM disk_usage WHERE backup_server_id = p_server_id AND day < (now() AT TIME ZONE 'UTC')::date - 90;
END;
$$;

-- A node partition no longer used by this server (no definition, snapshot or drill left):
-- its rows go, so the reports do not show it forever.
CREATE FUNCTION forget_disk_usage(p_server_id integer, p_node_id bigint) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  DELETE FROM disk_usage WHERE backup_server_id = p_server_id AND pgsql_node_id = p_node_id
$$;
