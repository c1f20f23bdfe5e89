-- PgBackMan catalog: pgsql node functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- PgSQL nodes
-- =====================================================================================

CREATE FUNCTION register_pgsql_node(p_hostname text, p_domain text, p_pgport integer, p_admin_user text,
                                    p_status text, p_remarks text)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_domain text := nullif(p_domain, '');
  v_port   integer := nullif(p_pgport, 0);
  v_user   text := nullif(p_admin_user, '');
  v_status text := upper(nullif(p_status, ''));
  v_id     bigint;
BEGIN
  IF coalesce(p_hostname, '') = '' THEN
    RAISE EXCEPTION 'A hostname is required to register a PgSQL node';
  END IF;
  v_domain := coalesce(v_domain, get_default_pgsql_node_parameter('domain'));
  v_port   := coalesce(v_port, get_default_pgsql_node_parameter('pgport')::integer);
  v_user   := coalesce(v_user, get_default_pgsql_node_parameter('admin_user'));
  v_status := coalesce(v_status, get_default_pgsql_node_parameter('pgsql_node_status'));
  IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_status) THEN
    RAISE EXCEPTION 'Invalid PgSQL node status % (RUNNING or STOPPED)', v_status;
  END IF;
  IF v_port NOT BETWEEN 1 AND 65535 THEN
    RAISE EXCEPTION 'Invalid port %', v_port;
  END IF;
  IF EXISTS (SELECT 1 FROM pgsql_node WHERE hostname = p_hostname AND domain_name = v_domain
                                        AND pgport = v_port) THEN
    RAISE EXCEPTION 'PgSQL node %.%:% is already registered', p_hostname, v_domain, v_port;
  END IF;
  INSERT INTO pgsql_node (hostname, domain_name, pgport, admin_user, status, remarks)
  VALUES (p_hostname, v_domain, v_port, v_user, v_status, p_remarks)
  RETURNING node_id INTO v_id;
  RETURN v_id;
END;
$$;

CREATE FUNCTION delete_pgsql_node(p_node_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_definition WHERE pgsql_node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % still has backup definitions; delete them first', p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM snapshot_definition WHERE pgsql_node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % still has snapshot definitions; delete them first', p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE pgsql_node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % still has backups in the catalog; delete them first', p_node_id;
  END IF;
  DELETE FROM pgsql_node WHERE node_id = p_node_id;   -- config and job_queue rows cascade
END;
$$;

CREATE FUNCTION update_pgsql_node(p_node_id bigint, p_pgport integer, p_admin_user text, p_status text,
                                  p_remarks text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_status text := upper(nullif(p_status, ''));
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  IF v_status IS NOT NULL AND NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_status) THEN
    RAISE EXCEPTION 'Invalid PgSQL node status % (RUNNING or STOPPED)', v_status;
  END IF;
  IF nullif(p_pgport, 0) IS NOT NULL AND p_pgport NOT BETWEEN 1 AND 65535 THEN
    RAISE EXCEPTION 'Invalid port %', p_pgport;
  END IF;
  UPDATE pgsql_node
     SET pgport     = coalesce(nullif(p_pgport, 0), pgport),
         admin_user = coalesce(nullif(p_admin_user, ''), admin_user),
         status     = coalesce(v_status, status),
         remarks    = coalesce(p_remarks, remarks)
   WHERE node_id = p_node_id;
END;
$$;

-- Generic: one parameter at a time, validated; unknown parameter -> error.
CREATE FUNCTION update_pgsql_node_config(p_node_id bigint, p_parameter text, p_value text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_v text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node_config WHERE node_id = p_node_id AND parameter = p_parameter) THEN
    RAISE EXCEPTION 'Unknown PgSQL node parameter %', p_parameter;
  END IF;
  v_v := validate_pgsql_node_config_value(p_parameter, p_value);
  UPDATE pgsql_node_config SET value = v_v WHERE node_id = p_node_id AND parameter = p_parameter;
END;
$$;

-- Upstream 20-argument form (SQL argument order of upstream); NULL keeps the current value.
CREATE FUNCTION update_pgsql_node_config(
    p_node_id bigint, p_backup_minutes_interval text, p_backup_hours_interval text,
    p_backup_weekday_cron text, p_backup_month_cron text, p_backup_day_month_cron text,
    p_backup_code text, p_retention_period interval, p_retention_redundancy integer,
    p_automatic_deletion_retention interval, p_extra_backup_parameters text,
    p_extra_restore_parameters text, p_backup_job_status text, p_domain text, p_logs_email text,
    p_admin_user text, p_pgport integer, p_pgnode_backup_partition text, p_pgnode_crontab_file text,
    p_pgsql_node_status text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_names  text[] := ARRAY['backup_minutes_interval', 'backup_hours_interval', 'backup_weekday_cron',
                           'backup_month_cron', 'backup_day_month_cron', 'backup_code', 'retention_period',
                           'retention_redundancy', 'automatic_deletion_retention',
                           'extra_backup_parameters', 'extra_restore_parameters', 'backup_job_status',
                           'domain', 'logs_email', 'admin_user', 'pgport', 'pgnode_backup_partition',
                           'pgnode_crontab_file', 'pgsql_node_status'];
  v_values text[] := ARRAY[p_backup_minutes_interval, p_backup_hours_interval, p_backup_weekday_cron,
                           p_backup_month_cron, p_backup_day_month_cron, p_backup_code,
                           p_retention_period::text, p_retention_redundancy::text,
                           p_automatic_deletion_retention::text, p_extra_backup_parameters,
                           p_extra_restore_parameters, p_backup_job_status, p_domain, p_logs_email,
                           p_admin_user, p_pgport::text, p_pgnode_backup_partition,
                           p_pgnode_crontab_file, p_pgsql_node_status];
BEGIN
  FOR i IN 1 .. cardinality(v_names) LOOP
    IF v_values[i] IS NOT NULL THEN
      PERFORM update_pgsql_node_config(p_node_id, v_names[i], v_values[i]);
    END IF;
  END LOOP;
END;
$$;
