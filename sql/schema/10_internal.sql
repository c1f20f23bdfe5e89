-- PgBackMan catalog: internal helper functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Internal helpers
-- =====================================================================================

-- Queue "(server, node) crontab must be regenerated" (deduplicated) and wake up that server.
CREATE FUNCTION enqueue_crontab_job(p_server_id integer, p_node_id bigint, p_payload text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO job_queue (backup_server_id, pgsql_node_id, is_assigned)
  VALUES (p_server_id, p_node_id, false)
  ON CONFLICT (backup_server_id, pgsql_node_id, is_assigned) DO NOTHING;
  PERFORM pg_notify('channel_bs' || p_server_id || '_pg' || p_node_id, p_payload);
END;
$$;

-- Why extra pg_dump parameters would leave a FULL/DATA/RDS backup without any table data
-- (NULL when they do not): --section without "data", or a table/schema exclusion whose
-- pattern matches every name (-T '*', --exclude-table-data=*.*, -N '*'). The same rule as
-- core/tablefilter.dataless_reason (which parses the text like a shell); this is the
-- catalog's own guard on the raw text.
CREATE FUNCTION dataless_backup_options(p_code text, p_extra text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_code     text := upper(coalesce(p_code, ''));
  v_sections text[];
  v_m        text[];
BEGIN
  IF v_code NOT IN ('FULL', 'DATA', 'RDS') OR coalesce(p_extra, '') = '' THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(m[2]) INTO v_sections
    FROM regexp_matches(p_extra, '(^|\s)--section(?:=|\s+)[''"]?([A-Za-z-]+)', 'g') AS m;
  IF v_sections IS NOT NULL AND NOT ('data' = ANY (v_sections)) THEN
    RETURN format('--section=%s leaves out the data section: a %s backup must hold table data '
                  '(use backup code SCHEMA for the schema alone)',
                  array_to_string(v_sections, ', '), v_code);
  END IF;
  v_m := regexp_match(p_extra,
    '(^|\s)(-T|-N|--exclude-table|--exclude-table-data|--exclude-schema|--exclude-table-and-children'
    '|--exclude-table-data-and-children)(?:=|\s*)([''"]?)((?:[*?]+\.)*[*?]*\*[*?]*)\3(\s|$)');
  IF v_m IS NOT NULL THEN
    RETURN format('%s %s excludes every table: a %s backup must hold table data '
                  '(use backup code SCHEMA for the schema alone)', v_m[2], v_m[4], v_code);
  END IF;
  RETURN NULL;
END;
$$;

-- Validate/normalise a value for a pgsql_node_config parameter; raises on bad input.
CREATE FUNCTION validate_pgsql_node_config_value(p_parameter text, p_value text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_m text[];
  v_i integer;
  v_v text := p_value;
BEGIN
  IF v_v IS NULL THEN
    RAISE EXCEPTION 'A value is required for parameter %', p_parameter;
  END IF;
  IF v_v ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Value for parameter % contains control characters', p_parameter;
  END IF;
  CASE p_parameter
    WHEN 'backup_minutes_interval', 'backup_hours_interval' THEN
      v_i := CASE WHEN p_parameter = 'backup_minutes_interval' THEN 59 ELSE 23 END;
      v_m := regexp_match(v_v, '^([0-9]{1,2})-([0-9]{1,2})$');
      IF v_m IS NULL OR v_m[1]::int > v_m[2]::int OR v_m[2]::int > v_i THEN
        RAISE EXCEPTION 'Invalid % value: % (expected a-b, e.g. 01-59)', p_parameter, v_v;
      END IF;
    WHEN 'backup_day_month_cron' THEN
      IF NOT validate_cron_field(v_v, 1, 31) THEN RAISE EXCEPTION 'Invalid day-of-month cron field: %', v_v; END IF;
    WHEN 'backup_month_cron' THEN
      IF NOT validate_cron_field(v_v, 1, 12) THEN RAISE EXCEPTION 'Invalid month cron field: %', v_v; END IF;
    WHEN 'backup_weekday_cron' THEN
      IF NOT validate_cron_field(v_v, 0, 7) THEN RAISE EXCEPTION 'Invalid weekday cron field: %', v_v; END IF;
    WHEN 'backup_code' THEN
      v_v := upper(v_v);
      IF NOT EXISTS (SELECT 1 FROM backup_code WHERE code = v_v) THEN
        RAISE EXCEPTION 'Backup code % does not exist', v_v;
      END IF;
    WHEN 'backup_job_status' THEN
      v_v := upper(v_v);
      IF v_v NOT IN ('ACTIVE', 'STOPPED') THEN
        RAISE EXCEPTION 'Invalid backup job status % (ACTIVE or STOPPED)', v_v;
      END IF;
    WHEN 'pgsql_node_status' THEN
      v_v := upper(v_v);
      IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_v) THEN
        RAISE EXCEPTION 'Invalid PgSQL node status % (RUNNING or STOPPED)', v_v;
      END IF;
    WHEN 'retention_period', 'automatic_deletion_retention' THEN
      IF NOT retention_interval_ok(safe_interval(v_v)) THEN
        RAISE EXCEPTION 'Invalid % value: % (an interval more than 0 and at most 100 years, e.g. 7 days)',
          p_parameter, v_v;
      END IF;
    WHEN 'stale_backup_grace' THEN
      BEGIN
        IF v_v::interval < interval '0' THEN
          RAISE EXCEPTION USING ERRCODE = '22007';
        END IF;
      EXCEPTION WHEN others THEN
        RAISE EXCEPTION 'Invalid % value: % (expected an interval >= 0, e.g. 4 hours)', p_parameter, v_v;
      END;
    WHEN 'backup_timeout' THEN
      BEGIN
        IF v_v::interval < interval '1 second' OR v_v::interval > interval '365 days' THEN
          RAISE EXCEPTION USING ERRCODE = '22007';
        END IF;
      EXCEPTION WHEN others THEN
        RAISE EXCEPTION 'Invalid backup_timeout value: % (expected an interval from 1 second to 365 days, e.g. 6 hours)', v_v;
      END;
    WHEN 'max_parallel_backups' THEN
      v_v := validate_max_parallel_backups(v_v, false);
    WHEN 'retention_redundancy' THEN
      IF v_v !~ '^[0-9]{1,6}$' OR v_v::int < 1 THEN
        RAISE EXCEPTION 'Invalid retention_redundancy value: % (integer >= 1)', v_v;
      END IF;
    WHEN 'pgport' THEN
      IF v_v !~ '^[0-9]{1,5}$' OR v_v::int NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'Invalid pgport value: %', v_v;
      END IF;
    WHEN 'encryption' THEN
      v_v := lower(v_v);
      IF v_v NOT IN ('true', 'false') THEN
        RAISE EXCEPTION 'Invalid encryption value: % (true or false)', v_v;
      END IF;
    WHEN 'backup_compression' THEN
      v_v := validate_backup_compression(v_v);
    WHEN 'pgnode_backup_partition', 'pgnode_crontab_file' THEN
      -- Structure only: whether root may write there is decided by each backup server's
      -- own configuration file (crontab_dir, root_backup_partition), not by the catalog.
      IF NOT safe_absolute_path(v_v) THEN
        RAISE EXCEPTION 'Invalid % value: % (a normalised absolute path below /, without . or ..)',
          p_parameter, v_v;
      END IF;
      IF p_parameter = 'pgnode_crontab_file'
         AND replace(regexp_replace(v_v, '^.*/', ''), '%%pgnode%%', '1') !~ '^[A-Za-z0-9_-]+$' THEN
        RAISE EXCEPTION 'Invalid pgnode_crontab_file value: % (cron ignores file names other than letters, digits, _ and -)',
          v_v;
      END IF;
    WHEN 'admin_user', 'domain' THEN
      IF v_v = '' OR v_v ~ '\s' THEN
        RAISE EXCEPTION 'Invalid % value: %', p_parameter, v_v;
      END IF;
    ELSE
      NULL;
  END CASE;
  RETURN v_v;
END;
$$;
