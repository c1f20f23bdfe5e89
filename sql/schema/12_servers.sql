-- PgBackMan catalog: backup server functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Backup servers
-- =====================================================================================

CREATE FUNCTION register_backup_server(p_hostname text, p_domain text, p_status text, p_remarks text)
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_domain text := nullif(p_domain, '');
  v_status text := upper(nullif(p_status, ''));
  v_id     integer;
BEGIN
  IF coalesce(p_hostname, '') = '' THEN
    RAISE EXCEPTION 'A hostname is required to register a backup server';
  END IF;
  v_domain := coalesce(v_domain, get_default_backup_server_parameter('domain'));
  v_status := coalesce(v_status, get_default_backup_server_parameter('backup_server_status'));
  IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_status) THEN
    RAISE EXCEPTION 'Invalid backup server status % (RUNNING or STOPPED)', v_status;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_server WHERE hostname = p_hostname AND domain_name = v_domain) THEN
    RAISE EXCEPTION 'Backup server %.% is already registered', p_hostname, v_domain;
  END IF;
  INSERT INTO backup_server (hostname, domain_name, status, remarks)
  VALUES (p_hostname, v_domain, v_status, p_remarks)
  RETURNING server_id INTO v_id;
  RETURN v_id;
END;
$$;

CREATE FUNCTION delete_backup_server(p_server_id integer) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_definition WHERE backup_server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % still has backup definitions; delete or move them first', p_server_id;
  END IF;
  IF EXISTS (SELECT 1 FROM snapshot_definition WHERE backup_server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % still has snapshot definitions; delete them first', p_server_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE backup_server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % still has backups in the catalog; delete them first', p_server_id;
  END IF;
  DELETE FROM backup_server WHERE server_id = p_server_id;   -- config rows cascade
END;
$$;

CREATE FUNCTION update_backup_server(p_server_id integer, p_remarks text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE backup_server SET remarks = p_remarks WHERE server_id = p_server_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
END;
$$;

-- Generic: one parameter at a time. Unknown parameters are an error, except new
-- pgsql_bin_<release> parameters (pgsql_bin_15, or pgsql_bin_9_6 as upstream named the 9.x
-- ones; catalogs upgraded from 1.x keep theirs), which are added.
CREATE FUNCTION update_backup_server_config(p_server_id integer, p_parameter text, p_value text)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_v text := p_value;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF v_v IS NULL THEN
    RAISE EXCEPTION 'A value is required for parameter %', p_parameter;
  END IF;
  IF v_v ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Value for parameter % contains control characters', p_parameter;
  END IF;
  -- Paths are checked for structure only: each backup server's own configuration file
  -- decides what its root daemon may touch (pgbackman_dump/pgbackman_restore are kept for
  -- upstream compatibility and are not used: the programs beside pgbackman_control run).
  IF p_parameter ~ '^pgsql_bin_[0-9]+(_[0-9]+)?$' OR p_parameter IN
     ('root_backup_partition', 'pgbackman_dump', 'pgbackman_restore', 'root_cron_file') THEN
    IF NOT safe_absolute_path(v_v) THEN
      RAISE EXCEPTION 'Invalid % value: % (a normalised absolute path below /, without . or ..)',
        p_parameter, v_v;
    END IF;
  ELSIF p_parameter = 'backup_user' THEN
    IF v_v !~ '^[a-z_][a-z0-9_-]{0,31}$' THEN
      RAISE EXCEPTION 'Invalid backup_user value: % (not a valid OS user name)', v_v;
    END IF;
  ELSIF p_parameter = 'backup_server_status' THEN
    v_v := upper(v_v);
    IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_v) THEN
      RAISE EXCEPTION 'Invalid backup server status % (RUNNING or STOPPED)', v_v;
    END IF;
  ELSIF p_parameter = 'min_free_disk_space' THEN
    IF NOT min_free_disk_space_ok(v_v) THEN
      RAISE EXCEPTION 'Invalid min_free_disk_space value: % (a percentage such as 10%% or a size such as 50 GB)', v_v;
    END IF;
  ELSIF p_parameter IN ('admin_user', 'domain') THEN
    IF v_v = '' OR v_v ~ '\s' THEN
      RAISE EXCEPTION 'Invalid % value: %', p_parameter, v_v;
    END IF;
  ELSIF p_parameter = 'encryption_recipients' THEN
    -- May become empty: the server's encrypted definitions then fail loudly (ERROR and an
    -- alert) instead of writing plaintext.
    v_v := validate_encryption_recipients(v_v);
  ELSIF p_parameter = 'offsite_url' THEN
    -- The same rule as core/offsite.parse_url ('' = offsite copies off).
    v_v := regexp_replace(btrim(v_v), '/+$', '');
    IF v_v <> '' AND (v_v !~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*''()-]+)*$'
                      OR split_part(substr(v_v, 6), '/', 1) ~ '\.\.'
                      OR v_v ~ '/\.\.?(/|$)' OR length(v_v) > 330) THEN
      RAISE EXCEPTION 'Invalid offsite_url value: % (expected s3://bucket/prefix)', v_v;
    END IF;
  ELSIF p_parameter = 'offsite_endpoint_url' THEN
    -- No credentials in the catalog: a user or password in the URL is refused.
    v_v := regexp_replace(btrim(v_v), '/+$', '');
    IF v_v <> '' AND v_v !~ '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$' THEN
      RAISE EXCEPTION 'Invalid offsite_endpoint_url value: % (expected http(s)://host[:port], no credentials)', v_v;
    END IF;
  ELSIF p_parameter = 'offsite_retention_period' THEN
    IF NOT retention_interval_ok(safe_interval(v_v)) THEN
      RAISE EXCEPTION 'Invalid offsite_retention_period value: % (expected an interval more than 0 and at most 100 years, e.g. 90 days)', v_v;
    END IF;
  ELSIF p_parameter = 'max_parallel_backups' THEN
    v_v := validate_max_parallel_backups(v_v, true);
  END IF;

  UPDATE backup_server_config SET value = v_v
   WHERE server_id = p_server_id AND parameter = p_parameter;
  IF NOT FOUND THEN
    IF p_parameter ~ '^pgsql_bin_[0-9]+(_[0-9]+)?$' THEN
      INSERT INTO backup_server_config (server_id, parameter, value, description)
      VALUES (p_server_id, p_parameter, v_v,
              'PostgreSQL ' || replace(substr(p_parameter, 11), '_', '.') || ' bin directory');
    ELSIF EXISTS (SELECT 1 FROM backup_server_default_config WHERE parameter = p_parameter) THEN
      -- A parameter added after this server was registered.
      INSERT INTO backup_server_config (server_id, parameter, value, description)
      SELECT p_server_id, parameter, v_v, description
        FROM backup_server_default_config WHERE parameter = p_parameter;
    ELSE
      RAISE EXCEPTION 'Unknown backup server parameter %', p_parameter;
    END IF;
  END IF;
END;
$$;
