-- PgBackMan catalog: pgbackman_control functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- pgbackman_control support
-- =====================================================================================

CREATE FUNCTION get_listen_channel_names(p_server_id integer) RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
  SELECT unnest(ARRAY['channel_pgsql_node_running', 'channel_pgsql_node_stopped',
                      'channel_pgsql_node_deleted', 'channel_snapshot_defined',
                      'channel_restore_defined'])
  UNION ALL
  (SELECT 'channel_bs' || p_server_id || '_pg' || node_id FROM pgsql_node
    WHERE status = 'RUNNING' ORDER BY node_id)
$$;

-- Re-queue a node after a failed crontab write (function form of the trigger).
CREATE FUNCTION update_job_queue(p_server_id integer, p_node_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM enqueue_crontab_job(p_server_id, p_node_id, 'Backup job inserted after crontab generation error');
END;
$$;

-- queue_classic style: pop the oldest queued node of a server (NULL when empty).
CREATE FUNCTION get_next_crontab_id_to_generate(p_server_id integer) RETURNS bigint
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  DELETE FROM job_queue
   WHERE id = (SELECT id FROM job_queue
                WHERE backup_server_id = p_server_id AND is_assigned IS FALSE
                ORDER BY registered, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
  RETURNING pgsql_node_id
$$;

-- Drain: delete and return every queued node id of a server in one statement.
CREATE FUNCTION pop_job_queue(p_server_id integer) RETURNS SETOF bigint
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  DELETE FROM job_queue q
   USING (SELECT id FROM job_queue
           WHERE backup_server_id = p_server_id AND is_assigned IS FALSE
           FOR UPDATE SKIP LOCKED) s
   WHERE q.id = s.id
  RETURNING q.pgsql_node_id
$$;

-- Rows for the crontab of (server, node): ACTIVE definitions of a RUNNING node, upstream order.
CREATE FUNCTION get_crontab_backup_jobs(p_server_id integer, p_node_id bigint)
  RETURNS TABLE (def_id bigint, minutes_cron text, hours_cron text, day_month_cron text,
                 month_cron text, weekday_cron text)
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
  SELECT d.def_id, d.minutes_cron::text, d.hours_cron::text, d.day_month_cron::text,
         d.month_cron::text, d.weekday_cron::text
    FROM backup_definition d
    JOIN pgsql_node n ON n.node_id = d.pgsql_node_id
   WHERE d.backup_server_id = p_server_id
     AND d.pgsql_node_id = p_node_id
     AND d.job_status = 'ACTIVE'
     AND n.status = 'RUNNING'
   ORDER BY d.dbname, d.minutes_cron, d.hours_cron, d.day_month_cron, d.month_cron, d.weekday_cron,
            d.backup_code, d.def_id
$$;
