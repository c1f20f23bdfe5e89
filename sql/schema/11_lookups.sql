-- PgBackMan catalog: lookup functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Lookup functions
-- =====================================================================================

CREATE FUNCTION get_default_backup_server_parameter(p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM backup_server_default_config WHERE parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup server default parameter % does not exist', p_parameter;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_default_pgsql_node_parameter(p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM pgsql_node_default_config WHERE parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'PgSQL node default parameter % does not exist', p_parameter;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_server_config_value(p_server_id integer, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM backup_server_config WHERE server_id = p_server_id AND parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Parameter % does not exist for backup server %', p_parameter, p_server_id;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_pgsql_node_config_value(p_node_id bigint, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM pgsql_node_config WHERE node_id = p_node_id AND parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Parameter % does not exist for PgSQL node %', p_parameter, p_node_id;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_definition_def_value(p_def_id bigint, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  IF p_parameter NOT IN ('minutes_cron', 'hours_cron', 'day_month_cron', 'month_cron', 'weekday_cron',
                         'retention_period', 'retention_redundancy', 'extra_backup_parameters',
                         'job_status', 'remarks', 'dbname', 'backup_code', 'backup_server_id',
                         'pgsql_node_id', 'encryption') THEN
    RAISE EXCEPTION 'Unknown backup definition parameter %', p_parameter;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  EXECUTE format('SELECT (%I)::text FROM backup_definition WHERE def_id = $1', p_parameter)
    INTO v USING p_def_id;
  RETURN v;
END;
$$;

CREATE FUNCTION get_pgsql_node_def_value(p_node_id bigint, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  IF p_parameter NOT IN ('pgport', 'admin_user', 'status', 'remarks', 'hostname', 'domain_name') THEN
    RAISE EXCEPTION 'Unknown PgSQL node parameter %', p_parameter;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  EXECUTE format('SELECT (%I)::text FROM pgsql_node WHERE node_id = $1', p_parameter)
    INTO v USING p_node_id;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_server_def_value(p_server_id integer, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  IF p_parameter NOT IN ('remarks', 'status', 'hostname', 'domain_name') THEN
    RAISE EXCEPTION 'Unknown backup server parameter %', p_parameter;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  EXECUTE format('SELECT (%I)::text FROM backup_server WHERE server_id = $1', p_parameter)
    INTO v USING p_server_id;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_server_fqdn(p_server_id integer) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT hostname || '.' || domain_name FROM backup_server WHERE server_id = p_server_id $$;

CREATE FUNCTION get_pgsql_node_fqdn(p_node_id bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT hostname || '.' || domain_name FROM pgsql_node WHERE node_id = p_node_id $$;

-- 'host.domain' -> server_id, NULL when not registered.
CREATE FUNCTION get_backup_server_id(p_fqdn text) RETURNS integer
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT server_id FROM backup_server WHERE hostname || '.' || domain_name = p_fqdn $$;

-- 'host.domain' or 'host.domain:port' -> node_id; NULL when not registered; error when the
-- FQDN without port matches several nodes.
CREATE FUNCTION get_pgsql_node_id(p_fqdn text) RETURNS bigint
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_m    text[];
  v_ids  bigint[];
BEGIN
  v_m := regexp_match(p_fqdn, '^(.+):([0-9]{1,5})$');
  IF v_m IS NOT NULL THEN
    SELECT array_agg(node_id) INTO v_ids FROM pgsql_node
     WHERE hostname || '.' || domain_name = v_m[1] AND pgport = v_m[2]::integer;
  ELSE
    SELECT array_agg(node_id ORDER BY node_id) INTO v_ids FROM pgsql_node
     WHERE hostname || '.' || domain_name = p_fqdn;
  END IF;
  IF v_ids IS NULL THEN
    RETURN NULL;
  END IF;
  IF cardinality(v_ids) > 1 THEN
    RAISE EXCEPTION 'PgSQL node FQDN % is ambiguous (NodeIDs %); use FQDN:port or the NodeID',
      p_fqdn, array_to_string(v_ids, ',');
  END IF;
  RETURN v_ids[1];
END;
$$;

CREATE FUNCTION get_pgsql_node_port(p_node_id bigint) RETURNS integer
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT pgport FROM pgsql_node WHERE node_id = p_node_id $$;

CREATE FUNCTION get_pgsql_node_admin_user(p_node_id bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT admin_user FROM pgsql_node WHERE node_id = p_node_id $$;

-- Connection data of a node (Python builds the connection kwargs; no DSN strings).
CREATE FUNCTION get_pgsql_node_conninfo(p_node_id bigint)
  RETURNS TABLE (fqdn text, pgport integer, admin_user text)
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
  SELECT n.hostname || '.' || n.domain_name, n.pgport, n.admin_user
    FROM pgsql_node n WHERE n.node_id = p_node_id
$$;

CREATE FUNCTION check_pgsql_node_status(p_node_id bigint) RETURNS void
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT status INTO v FROM pgsql_node WHERE node_id = p_node_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  ELSIF v <> 'RUNNING' THEN
    RAISE EXCEPTION 'PgSQL node % is %', p_node_id, v;
  END IF;
END;
$$;

CREATE FUNCTION get_dbname_from_bckid(p_bck_id bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT dbname FROM backup_catalog WHERE bck_id = p_bck_id $$;

CREATE FUNCTION get_backup_server_id_from_bckid(p_bck_id bigint) RETURNS integer
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT backup_server_id FROM backup_catalog WHERE bck_id = p_bck_id $$;

CREATE FUNCTION get_role_list_from_bckid(p_bck_id bigint) RETURNS text[]
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT coalesce(role_list, '{}') FROM backup_catalog WHERE bck_id = p_bck_id $$;

-- 'MM-MM' / 'HH-HH' -> uniformly random zero-padded value inside the closed interval.
CREATE FUNCTION get_minute_from_interval(p_interval text) RETURNS text
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v_m text[];
BEGIN
  v_m := regexp_match(p_interval, '^([0-9]{1,2})-([0-9]{1,2})$');
  IF v_m IS NULL OR v_m[1]::int > v_m[2]::int OR v_m[2]::int > 59 THEN
    RAISE EXCEPTION 'Invalid minutes interval: % (expected a-b within 0-59)', p_interval;
  END IF;
  RETURN lpad((v_m[1]::int + floor(random() * (v_m[2]::int - v_m[1]::int + 1)))::int::text, 2, '0');
END;
$$;

CREATE FUNCTION get_hour_from_interval(p_interval text) RETURNS text
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v_m text[];
BEGIN
  v_m := regexp_match(p_interval, '^([0-9]{1,2})-([0-9]{1,2})$');
  IF v_m IS NULL OR v_m[1]::int > v_m[2]::int OR v_m[2]::int > 23 THEN
    RAISE EXCEPTION 'Invalid hours interval: % (expected a-b within 0-23)', p_interval;
  END IF;
  RETURN lpad((v_m[1]::int + floor(random() * (v_m[2]::int - v_m[1]::int + 1)))::int::text, 2, '0');
END;
$$;

-- A node's automatic_deletion_retention (node config, else the default, else 14 days); NULL
-- when the configured text is not an interval (then nothing is purged: retention_cutoff).
CREATE FUNCTION deleted_definition_retention(p_node_id bigint) RETURNS interval
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
  SELECT safe_interval(coalesce(
           (SELECT value FROM pgsql_node_config
             WHERE node_id = p_node_id AND parameter = 'automatic_deletion_retention'),
           (SELECT value FROM pgsql_node_default_config WHERE parameter = 'automatic_deletion_retention'),
           '14 days'))
$$;
