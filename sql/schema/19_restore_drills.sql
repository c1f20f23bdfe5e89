-- PgBackMan catalog: restore drills (docs/manual.rst "Restore drills").
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.
--
-- Every function that writes is SECURITY DEFINER (runs as the owner), pins its search_path
-- and validates its arguments: the login roles change drills only through these.

-- =====================================================================================
-- Definitions (shell)
-- =====================================================================================

-- Only FULL, SCHEMA and RDS backups restore into a database of their own: a DATA backup
-- needs an existing database holding the schema, a CLUSTER backup a node without databases.
CREATE FUNCTION restore_drill_code_ok(p_code text) RETURNS boolean
  LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp
AS $$
  SELECT upper(coalesce(p_code, '')) IN ('FULL', 'SCHEMA', 'RDS')
$$;

CREATE FUNCTION check_restore_drill_interval(p_interval interval) RETURNS interval
  LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp
AS $$
BEGIN
  IF p_interval IS NULL OR p_interval < interval '1 hour' OR p_interval > interval '3650 days' THEN
    RAISE EXCEPTION 'Invalid drill interval % (from 1 hour to 3650 days, e.g. 7 days)', p_interval;
  END IF;
  RETURN p_interval;
END;
$$;

CREATE FUNCTION register_restore_drill(p_def_id bigint, p_drill_node_id bigint, p_interval interval,
                                       p_remarks text DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_def backup_definition%ROWTYPE;
  v_id  bigint;
BEGIN
  SELECT * INTO v_def FROM backup_definition WHERE def_id = p_def_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  IF v_def.job_status = 'DELETED' THEN
    RAISE EXCEPTION 'Backup definition % is DELETED: nothing to drill', p_def_id;
  END IF;
  IF NOT restore_drill_code_ok(v_def.backup_code) THEN
    RAISE EXCEPTION 'Backup definition % has code %: only FULL, SCHEMA and RDS backups restore into a scratch database',
      p_def_id, v_def.backup_code;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_drill_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_drill_node_id;
  END IF;
  IF p_remarks ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Remarks contain control characters';
  END IF;
  IF EXISTS (SELECT 1 FROM restore_drill WHERE def_id = p_def_id AND drill_node_id = p_drill_node_id) THEN
    RAISE EXCEPTION 'Backup definition % already has a restore drill on PgSQL node %', p_def_id, p_drill_node_id;
  END IF;
  INSERT INTO restore_drill (def_id, drill_node_id, drill_interval, remarks)
  VALUES (p_def_id, p_drill_node_id, check_restore_drill_interval(p_interval), nullif(p_remarks, ''))
  RETURNING drill_id INTO v_id;
  PERFORM pg_notify('channel_restore_defined', 'Restore drill defined');
  RETURN v_id;
END;
$$;

-- NULL keeps a value.
CREATE FUNCTION update_restore_drill(p_drill_id bigint, p_drill_node_id bigint, p_interval interval,
                                     p_status text, p_remarks text)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_status text := upper(nullif(p_status, ''));
BEGIN
  IF NOT EXISTS (SELECT 1 FROM restore_drill WHERE drill_id = p_drill_id) THEN
    RAISE EXCEPTION 'Restore drill % does not exist', p_drill_id;
  END IF;
  IF p_drill_node_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_drill_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_drill_node_id;
  END IF;
  IF v_status IS NOT NULL AND v_status NOT IN ('ACTIVE', 'STOPPED') THEN
    RAISE EXCEPTION 'Invalid restore drill status % (ACTIVE or STOPPED)', p_status;
  END IF;
  IF p_remarks ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Remarks contain control characters';
  END IF;
  IF p_drill_node_id IS NOT NULL AND EXISTS (
       SELECT 1 FROM restore_drill d
        WHERE d.drill_node_id = p_drill_node_id AND d.drill_id <> p_drill_id
          AND d.def_id = (SELECT def_id FROM restore_drill WHERE drill_id = p_drill_id)) THEN
    RAISE EXCEPTION 'The backup definition of restore drill % already has a drill on PgSQL node %',
      p_drill_id, p_drill_node_id;
  END IF;
  UPDATE restore_drill
     SET drill_node_id = coalesce(p_drill_node_id, drill_node_id),
         drill_interval = CASE WHEN p_interval IS NULL THEN drill_interval
                               ELSE check_restore_drill_interval(p_interval) END,
         status = coalesce(v_status, status),
         remarks = CASE WHEN p_remarks IS NULL THEN remarks ELSE nullif(p_remarks, '') END
   WHERE drill_id = p_drill_id;
  PERFORM pg_notify('channel_restore_defined', 'Restore drill updated');
END;
$$;

CREATE FUNCTION delete_restore_drill(p_drill_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM restore_drill WHERE drill_id = p_drill_id;   -- its runs go with it
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Restore drill % does not exist', p_drill_id;
  END IF;
END;
$$;

-- =====================================================================================
-- Scheduling (pgbackman_control of the definition's backup server)
-- =====================================================================================

-- A drill is due when it is ACTIVE, its definition is ACTIVE and has a SUCCEEDED backup, its
-- drill node is RUNNING, and neither an at job queued for it nor its last run (a run started
-- by hand counts too) is younger than its interval.
CREATE FUNCTION restore_drill_is_due(p_drill_id bigint) RETURNS boolean
  LANGUAGE sql STABLE SET search_path = public, pg_temp
AS $$
  SELECT EXISTS (
    SELECT 1
      FROM restore_drill r
      JOIN backup_definition d ON d.def_id = r.def_id
      JOIN pgsql_node n ON n.node_id = r.drill_node_id
     WHERE r.drill_id = p_drill_id
       AND r.status = 'ACTIVE' AND d.job_status = 'ACTIVE' AND n.status = 'RUNNING'
       AND EXISTS (SELECT 1 FROM backup_catalog b
                    WHERE b.def_id = r.def_id AND b.execution_status = 'SUCCEEDED')
       AND coalesce(greatest(r.queued_at,
                             (SELECT max(x.started) FROM restore_drill_run x
                               WHERE x.drill_id = r.drill_id)),
                    '-infinity') <= now() - r.drill_interval)
$$;

CREATE FUNCTION get_due_restore_drills(p_server_id integer) RETURNS SETOF bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT r.drill_id
    FROM restore_drill r
    JOIN backup_definition d ON d.def_id = r.def_id
   WHERE d.backup_server_id = p_server_id AND r.status = 'ACTIVE' AND d.job_status = 'ACTIVE'
     AND restore_drill_is_due(r.drill_id)
   ORDER BY r.queued_at NULLS FIRST, r.drill_id
$$;

-- Lock one due drill for the time it takes to queue its at job (same transaction as
-- update_restore_drill_queue_status): its time (now), or NULL when another process holds it
-- or it is no longer due.
CREATE FUNCTION claim_due_restore_drill(p_drill_id bigint) RETURNS timestamptz
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM 1 FROM restore_drill WHERE drill_id = p_drill_id FOR UPDATE SKIP LOCKED;
  IF NOT FOUND OR NOT restore_drill_is_due(p_drill_id) THEN
    RETURN NULL;
  END IF;
  RETURN now();
END;
$$;

-- DEFINED: at accepted the run; ERROR: at refused it (retried one interval later).
CREATE FUNCTION update_restore_drill_queue_status(p_drill_id bigint, p_status text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF upper(p_status) NOT IN ('DEFINED', 'ERROR') THEN
    RAISE EXCEPTION 'Invalid restore drill queue status %', p_status;
  END IF;
  UPDATE restore_drill SET queued_at = now(), queue_status = upper(p_status)
   WHERE drill_id = p_drill_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Restore drill % does not exist', p_drill_id;
  END IF;
END;
$$;

-- =====================================================================================
-- Results (pgbackman_restore --drill, or a pending result ingested by maintenance)
-- =====================================================================================

-- Idempotent on run_uuid. The newest 50 runs of a drill are kept; older rows go (their log
-- files through restore_logs_to_delete, see the trigger).
CREATE FUNCTION register_restore_drill_run(
    p_drill_id bigint, p_def_id bigint, p_bck_id bigint, p_server_id integer, p_drill_node_id bigint,
    p_procpid integer, p_dbname text, p_scratch_dbname text, p_started timestamptz,
    p_finished timestamptz, p_duration interval, p_execution_status text, p_checks text[],
    p_roles_created text[], p_error_message text, p_drill_log_file text, p_global_log_file text,
    p_run_uuid uuid)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_id bigint;
BEGIN
  IF p_run_uuid IS NULL THEN
    RAISE EXCEPTION 'A drill result needs its run_uuid';
  END IF;
  SELECT drill_run_id INTO v_id FROM restore_drill_run WHERE run_uuid = p_run_uuid;
  IF FOUND THEN
    RETURN v_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM restore_drill WHERE drill_id = p_drill_id) THEN
    RAISE EXCEPTION 'Restore drill % does not exist', p_drill_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM job_execution_status WHERE code = upper(p_execution_status)) THEN
    RAISE EXCEPTION 'Invalid execution status %', p_execution_status;
  END IF;
  IF p_bck_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backup_catalog WHERE bck_id = p_bck_id) THEN
    p_bck_id := NULL;           -- deleted by retention meanwhile: the run is kept
  END IF;
  INSERT INTO restore_drill_run (drill_id, def_id, bck_id, backup_server_id, drill_node_id, procpid,
                                 dbname, scratch_dbname, started, finished, duration, execution_status,
                                 checks, roles_created, error_message, drill_log_file, global_log_file,
                                 run_uuid)
  VALUES (p_drill_id, p_def_id, p_bck_id, p_server_id, p_drill_node_id, p_procpid, p_dbname,
          p_scratch_dbname, p_started, p_finished, coalesce(p_duration, p_finished - p_started),
          upper(p_execution_status), p_checks, p_roles_created, left(p_error_message, 8000),
          nullif(p_drill_log_file, ''), coalesce(p_global_log_file, ''), p_run_uuid)
  ON CONFLICT (run_uuid) DO NOTHING
  RETURNING drill_run_id INTO v_id;
  IF v_id IS NULL THEN
    SELECT drill_run_id INTO v_id FROM restore_drill_run WHERE run_uuid = p_run_uuid;
  END IF;
  DELETE FROM restore_drill_run
   WHERE drill_id = p_drill_id
     AND drill_run_id NOT IN (SELECT drill_run_id FROM restore_drill_run
                               WHERE drill_id = p_drill_id
                               ORDER BY started DESC NULLS LAST, drill_run_id DESC LIMIT 50);
  RETURN v_id;
END;
$$;
