-- PgBackMan catalog: maintenance functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Maintenance deletions
-- =====================================================================================

CREATE FUNCTION delete_catalog_entries_to_delete(p_del_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM catalog_entries_to_delete WHERE del_id = p_del_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Catalog entry to delete % does not exist', p_del_id;
  END IF;
END;
$$;

CREATE FUNCTION delete_restore_logs_to_delete(p_del_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM restore_logs_to_delete WHERE del_id = p_del_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Restore log to delete % does not exist', p_del_id;
  END IF;
END;
$$;

-- Retention's deletion of catalog rows (maintenance deletes their files first), many in one
-- call. Each row is judged on its own and a refused one stops none of the others: it is
-- refused unless it has expired: older than its definition's / snapshot's retention period
-- and, for a backup definition, with a newer SUCCEEDED backup of the same definition recorded
-- INTACT. Maintenance decides with keep = max(redundancy, 1) on verified files; this is the
-- catalog's own floor: whoever calls it, the newest intact backup row of a definition stays.
-- Every row is judged against the catalog as it was when the call began (one statement): a
-- protector deleted by the same call protected only rows older than itself, and the newest
-- intact row, which nothing protects, is never deleted, so every deleted row still has a
-- newer intact row afterwards.
-- Returns one row per distinct id asked: refusal NULL when it was deleted (or, with an
-- UPLOADED offsite copy, kept with local_deleted_at set), else why it was not.
CREATE FUNCTION delete_backup_catalog_many(p_bck_ids bigint[])
  RETURNS TABLE (bck_id bigint, refusal text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF p_bck_ids IS NULL OR array_position(p_bck_ids, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'delete_backup_catalog_many: every backup id must be given (no NULL)';
  END IF;
  -- Lock first, in id order (two callers never deadlock); the verdict below is a new
  -- statement, so it sees what committed while it waited.
  PERFORM 1 FROM backup_catalog a WHERE a.bck_id = ANY (p_bck_ids) ORDER BY a.bck_id
    FOR UPDATE;
  RETURN QUERY
  WITH asked AS (
    SELECT DISTINCT x.id FROM unnest(p_bck_ids) AS x(id)
  ), verdict AS (
    SELECT q.id, a.offsite_status,
           CASE
             WHEN a.bck_id IS NULL THEN
               format('Backup %s does not exist in the catalog', q.id)
             WHEN a.finished IS NULL OR NOT a.finished < retention_cutoff(p.period) THEN
               format('Backup %s has not expired (retention period %s)', q.id,
                      coalesce(p.period::text, 'unknown'))
             WHEN a.def_id IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM backup_catalog g
                     WHERE g.def_id = a.def_id
                       AND g.execution_status = 'SUCCEEDED'
                       AND g.integrity = 'INTACT'
                       AND g.local_deleted_at IS NULL
                       AND (g.finished, g.bck_id) > (a.finished, a.bck_id)) THEN
               format('Backup %s is not followed by an intact backup of definition %s: kept',
                      q.id, a.def_id)
           END AS refusal
      FROM asked q
      LEFT JOIN backup_catalog a ON a.bck_id = q.id
      LEFT JOIN LATERAL (
        SELECT CASE WHEN a.def_id IS NOT NULL
                    THEN (SELECT b.retention_period FROM backup_definition b
                           WHERE b.def_id = a.def_id)
                    ELSE (SELECT s.retention_period FROM snapshot_definition s
                           WHERE s.snapshot_id = a.snapshot_id)
               END AS period) p ON true
  ), episodes AS (
    DELETE FROM alert_episode e USING verdict v
     WHERE v.refusal IS NULL AND e.episode_key = 'integrity:bck:' || v.id
  ), offsite_kept AS (
    -- A backup whose offsite copy is UPLOADED lives on after its local files (removed by
    -- the caller first): the row stays, marked, until offsite retention expires the copy
    -- (set_backup_offsite_status(.., 'EXPIRED', ..) deletes it then).
    UPDATE backup_catalog a SET local_deleted_at = coalesce(a.local_deleted_at, now())
      FROM verdict v
     WHERE v.refusal IS NULL AND v.offsite_status = 'UPLOADED' AND a.bck_id = v.id
  ), deleted AS (
    DELETE FROM backup_catalog a USING verdict v      -- cascades to restores and alerts
     WHERE v.refusal IS NULL AND v.offsite_status IS DISTINCT FROM 'UPLOADED'
       AND a.bck_id = v.id
  )
  SELECT v.id, v.refusal FROM verdict v ORDER BY v.id;
END;
$$;

-- One row: the same rules (delete_backup_catalog_many), a refusal raised as an error.
CREATE FUNCTION delete_backup_catalog(p_bck_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_refusal text;
BEGIN
  SELECT m.refusal INTO v_refusal FROM delete_backup_catalog_many(ARRAY[p_bck_id]) m;
  IF v_refusal IS NOT NULL THEN
    RAISE EXCEPTION '%', v_refusal;
  END IF;
END;
$$;

-- The objects of a queued offsite copy are deleted (pgbackman_maintenance).
CREATE FUNCTION delete_offsite_copies_to_delete(p_del_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM offsite_copies_to_delete WHERE del_id = p_del_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Offsite copy to delete % does not exist', p_del_id;
  END IF;
END;
$$;

-- The offsite copy of one backup (pgbackman_maintenance's offsite tasks). Transitions:
--   PENDING/ERROR -> UPLOADED (p_location and p_endpoint: where every file now is),
--   PENDING/ERROR/UPLOADED -> ERROR (p_error: why; an UPLOADED copy that fails verification),
--   ERROR -> PENDING (retry by hand), UPLOADED/ERROR -> EXPIRED (objects deleted by offsite
--   retention; a row whose local files are gone too is deleted then).
-- Returns the new status (NULL when the row was deleted).
CREATE FUNCTION set_backup_offsite_status(p_bck_id bigint, p_status text, p_location text,
                                          p_endpoint text, p_error text)
  RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  r        backup_catalog%ROWTYPE;
  v_status text := upper(coalesce(p_status, ''));
BEGIN
  SELECT * INTO r FROM backup_catalog WHERE bck_id = p_bck_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup % does not exist in the catalog', p_bck_id;
  END IF;
  IF r.execution_status IS DISTINCT FROM 'SUCCEEDED' THEN
    RAISE EXCEPTION 'Backup % is not SUCCEEDED: it has no offsite copy', p_bck_id;
  END IF;
  IF v_status NOT IN ('PENDING', 'UPLOADED', 'ERROR', 'EXPIRED') THEN
    RAISE EXCEPTION 'Invalid offsite status % (PENDING, UPLOADED, ERROR or EXPIRED)', p_status;
  END IF;
  IF NOT (   (v_status = 'UPLOADED' AND r.offsite_status IN ('PENDING', 'ERROR'))
          OR (v_status = 'ERROR' AND r.offsite_status IN ('PENDING', 'ERROR', 'UPLOADED'))
          OR (v_status = 'PENDING' AND r.offsite_status = 'ERROR' AND r.local_deleted_at IS NULL)
          OR (v_status = 'EXPIRED' AND r.offsite_status IN ('UPLOADED', 'ERROR'))) THEN
    RAISE EXCEPTION 'Backup %: offsite status % cannot become %', p_bck_id,
      coalesce(r.offsite_status, 'none'), v_status;
  END IF;
  IF v_status = 'UPLOADED' AND (p_location IS NULL OR p_location !~ '^s3://') THEN
    RAISE EXCEPTION 'Backup %: an uploaded copy needs its s3:// location', p_bck_id;
  END IF;
  IF v_status = 'EXPIRED' AND r.local_deleted_at IS NOT NULL THEN
    -- EXPIRED first: the objects are gone, nothing to queue (queue_offsite_copy_deletion).
    UPDATE backup_catalog SET offsite_status = 'EXPIRED' WHERE bck_id = p_bck_id;
    DELETE FROM backup_catalog WHERE bck_id = p_bck_id;   -- no copy left anywhere
    DELETE FROM alert_episode WHERE episode_key = 'offsite:bck:' || p_bck_id;
    RETURN NULL;
  END IF;
  UPDATE backup_catalog
     SET offsite_status = v_status,
         offsite_location = coalesce(p_location, offsite_location),
         offsite_endpoint = CASE WHEN p_location IS NOT NULL THEN nullif(p_endpoint, '')
                                 ELSE offsite_endpoint END,
         offsite_updated = now(),
         offsite_error = CASE WHEN v_status = 'ERROR'
                              THEN left(regexp_replace(coalesce(p_error, 'unknown error'),
                                                       '[\x01-\x1f\x7f]+', ' ', 'g'), 2000) END
   WHERE bck_id = p_bck_id;
  RETURN v_status;
END;
$$;

-- A snapshot definition that is over: handed to at, past its retention period, no backup
-- left in the catalog (maintenance deletes those first, files and rows).
CREATE FUNCTION delete_snapshot_definition(p_snapshot_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  sn snapshot_definition%ROWTYPE;
BEGIN
  SELECT * INTO sn FROM snapshot_definition WHERE snapshot_id = p_snapshot_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Snapshot definition % does not exist', p_snapshot_id;
  END IF;
  IF sn.status = 'WAITING' OR NOT sn.at_time < retention_cutoff(sn.retention_period) THEN
    RAISE EXCEPTION 'Snapshot definition % is not over (status %, retention period %)',
      p_snapshot_id, sn.status, sn.retention_period;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE snapshot_id = p_snapshot_id) THEN
    RAISE EXCEPTION 'Snapshot definition % still has backups in the catalog', p_snapshot_id;
  END IF;
  DELETE FROM snapshot_definition WHERE snapshot_id = p_snapshot_id;
END;
$$;

-- What maintenance found about the files of SUCCEEDED backups (D41), a batch at a time:
-- element n of p_bck_ids gets state p_integrity[n] and detail p_details[n]. Each row is
-- judged on its own and refused with the reason (the others are still recorded): INTACT
-- needs a recorded checksum; LEGACY only exists for rows without run_uuid (imported from
-- upstream); a row this software wrote can never be declared LEGACY.
CREATE FUNCTION record_backup_integrity_many(p_bck_ids bigint[], p_integrity text[],
                                             p_details text[])
  RETURNS TABLE (bck_id bigint, refusal text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  n integer;
  r backup_catalog%ROWTYPE;
  v_state text;
  v_detail text;
  v_refusal text;
BEGIN
  IF p_bck_ids IS NULL OR p_integrity IS NULL OR p_details IS NULL
     OR array_position(p_bck_ids, NULL) IS NOT NULL
     OR coalesce(array_ndims(p_bck_ids), 1) <> 1
     OR coalesce(array_ndims(p_integrity), 1) <> 1
     OR coalesce(array_ndims(p_details), 1) <> 1
     OR cardinality(p_integrity) <> cardinality(p_bck_ids)
     OR cardinality(p_details) <> cardinality(p_bck_ids) THEN
    RAISE EXCEPTION 'record_backup_integrity_many: one backup id (no NULL), state and detail each';
  END IF;
  -- Lock in id order (two callers never deadlock).
  PERFORM 1 FROM backup_catalog a WHERE a.bck_id = ANY (p_bck_ids) ORDER BY a.bck_id
    FOR UPDATE;
  FOR n IN 1 .. coalesce(cardinality(p_bck_ids), 0) LOOP
    v_state := p_integrity[n];
    v_detail := coalesce(p_details[n], '');
    v_refusal := NULL;
    SELECT * INTO r FROM backup_catalog a WHERE a.bck_id = p_bck_ids[n];
    IF NOT FOUND THEN
      v_refusal := format('Backup %s does not exist in the catalog', p_bck_ids[n]);
    ELSIF r.execution_status IS DISTINCT FROM 'SUCCEEDED' THEN
      v_refusal := format('Backup %s did not succeed: it has no files to check', p_bck_ids[n]);
    ELSIF v_state IS NULL OR v_state NOT IN ('INTACT', 'MISSING', 'CORRUPT', 'UNVERIFIED', 'LEGACY') THEN
      v_refusal := format('Invalid integrity state %s (INTACT, MISSING, CORRUPT, UNVERIFIED or LEGACY)',
                          coalesce(v_state, 'NULL'));
    ELSIF v_state = 'INTACT' AND r.checksum IS NULL THEN
      v_refusal := format('Backup %s has no checksum: it cannot be INTACT', p_bck_ids[n]);
    ELSIF v_state = 'LEGACY' AND r.run_uuid IS NOT NULL THEN
      v_refusal := format('Backup %s was written by this software: it cannot be LEGACY', p_bck_ids[n]);
    ELSE
      UPDATE backup_catalog a
         SET integrity = v_state, integrity_checked = now(),
             integrity_detail = left(regexp_replace(v_detail, '[\x01-\x1f\x7f]', ' ', 'g'), 2000)
       WHERE a.bck_id = p_bck_ids[n];
    END IF;
    bck_id := p_bck_ids[n];
    refusal := v_refusal;
    RETURN NEXT;
  END LOOP;
END;
$$;

-- One row: the same rules (record_backup_integrity_many), a refusal raised as an error.
CREATE FUNCTION record_backup_integrity(p_bck_id bigint, p_integrity text, p_detail text)
  RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_refusal text;
BEGIN
  SELECT m.refusal INTO v_refusal
    FROM record_backup_integrity_many(ARRAY[p_bck_id], ARRAY[p_integrity], ARRAY[p_detail]) m;
  IF v_refusal IS NOT NULL THEN
    RAISE EXCEPTION '%', v_refusal;
  END IF;
END;
$$;

CREATE FUNCTION delete_pgsql_node_to_delete(p_server_id integer, p_node_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM pgsql_node_to_delete WHERE backup_server_id = p_server_id AND pgsql_node_id = p_node_id;
END;
$$;

CREATE FUNCTION update_alert_sent(p_alert_id bigint, p_sent boolean) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE alerts SET alert_sent = p_sent WHERE alert_id = p_alert_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Alert % does not exist', p_alert_id;
  END IF;
END;
$$;

CREATE FUNCTION delete_alert(p_alert_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM alerts WHERE alert_id = p_alert_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Alert % does not exist', p_alert_id;
  END IF;
END;
$$;

-- The one way to raise an alert (programs, triggers and maintenance alike).
--   p_episode_key: when given, the alert is raised only if that episode is not open yet
--                  (returns NULL otherwise); end_alert_episode() closes it.
--   p_run_uuid:    idempotence for alerts spooled while the catalog was down (same id back).
-- Recipients: the node's logs_email (upstream), when the alert concerns a node.
CREATE FUNCTION raise_alert(
    p_alert_type text, p_server_id integer, p_node_id bigint, p_dbname text, p_ref_id bigint,
    p_bck_id bigint, p_execution_status text, p_error_message text,
    p_episode_key text DEFAULT NULL, p_run_uuid uuid DEFAULT NULL, p_registered timestamptz DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_id     bigint;
  v_sendto text;
BEGIN
  IF p_run_uuid IS NOT NULL THEN
    SELECT alert_id INTO v_id FROM alerts WHERE run_uuid = p_run_uuid;
    IF FOUND THEN
      RETURN v_id;
    END IF;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM alert_type WHERE code = p_alert_type) THEN
    RAISE EXCEPTION 'Unknown alert type: %', p_alert_type;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF p_node_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    p_node_id := NULL;          -- the node was deleted meanwhile: keep the alert, server-wide
  END IF;
  IF p_bck_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backup_catalog WHERE bck_id = p_bck_id) THEN
    p_bck_id := NULL;
  END IF;
  IF p_episode_key IS NOT NULL THEN
    INSERT INTO alert_episode (episode_key, backup_server_id)
    VALUES (p_episode_key, p_server_id)
    ON CONFLICT (episode_key) DO NOTHING;
    IF NOT FOUND THEN
      RETURN NULL;               -- already alerted for this episode
    END IF;
  END IF;
  IF p_node_id IS NOT NULL THEN
    v_sendto := nullif(coalesce(
        (SELECT value FROM pgsql_node_config WHERE node_id = p_node_id AND parameter = 'logs_email'),
        (SELECT value FROM pgsql_node_default_config WHERE parameter = 'logs_email')), '');
  END IF;
  INSERT INTO alerts (registered, alert_type, ref_id, bck_id, backup_server_id, pgsql_node_id, dbname,
                      execution_status, error_message, sendto, run_uuid, episode_key)
  VALUES (coalesce(p_registered, now()), p_alert_type, p_ref_id, p_bck_id, p_server_id, p_node_id,
          p_dbname, upper(nullif(p_execution_status, '')), left(p_error_message, 8000), v_sendto,
          p_run_uuid, p_episode_key)
  ON CONFLICT (run_uuid) DO NOTHING
  RETURNING alert_id INTO v_id;
  IF v_id IS NULL THEN          -- lost a race with a concurrent ingest of the same alert
    SELECT alert_id INTO v_id FROM alerts WHERE run_uuid = p_run_uuid;
  ELSIF p_episode_key IS NOT NULL THEN
    UPDATE alert_episode SET alert_id = v_id WHERE episode_key = p_episode_key;
  END IF;
  RETURN v_id;
END;
$$;

-- Close an episode: the trouble is over; its next occurrence raises a new alert.
CREATE FUNCTION end_alert_episode(p_episode_key text) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM alert_episode WHERE episode_key = p_episode_key;
  RETURN FOUND;
END;
$$;

-- pgbackman_alerts: record that a channel ('mail' or 'urls') delivered these alerts. An alert
-- is sent (alert_sent, sent_at) once every channel in p_required has delivered it; NULL
-- p_channel with an empty p_required marks them sent without delivery (smtp_alerts = OFF and
-- no notify_urls: upstream's "do not pile up old alerts"). Returns the number of rows changed.
CREATE FUNCTION record_alert_delivery(p_alert_ids bigint[], p_channel text, p_required text[])
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_count integer;
BEGIN
  IF p_channel IS NOT NULL AND p_channel NOT IN ('mail', 'urls') THEN
    RAISE EXCEPTION 'Unknown alert delivery channel: %', p_channel;
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(coalesce(p_required, '{}')) r WHERE r NOT IN ('mail', 'urls')) THEN
    RAISE EXCEPTION 'Unknown alert delivery channel in %', p_required;
  END IF;
  UPDATE alerts a
     SET delivered = d.delivered,
         alert_sent = coalesce(p_required, '{}') <@ d.delivered,
         sent_at = CASE WHEN coalesce(p_required, '{}') <@ d.delivered THEN now() END,
         last_delivery_error = CASE WHEN coalesce(p_required, '{}') <@ d.delivered
                                    THEN NULL ELSE a.last_delivery_error END
    FROM (SELECT alert_id,
                 CASE WHEN p_channel IS NULL OR p_channel = ANY (delivered) THEN delivered
                      ELSE delivered || p_channel END AS delivered
            FROM alerts WHERE alert_id = ANY (p_alert_ids) AND NOT alert_sent) d
   WHERE a.alert_id = d.alert_id;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END;
$$;

-- pgbackman_alerts: a channel failed to deliver these alerts; they stay unsent (retried next
-- cycle) and show_alerts / pgbackman_check show why.
CREATE FUNCTION record_alert_delivery_failure(p_alert_ids bigint[], p_channel text, p_error text)
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_count integer;
BEGIN
  IF p_channel NOT IN ('mail', 'urls') THEN
    RAISE EXCEPTION 'Unknown alert delivery channel: %', p_channel;
  END IF;
  UPDATE alerts
     SET delivery_attempts = delivery_attempts + 1,
         last_delivery_error = left(p_channel || ': ' || regexp_replace(coalesce(p_error, ''),
                                                                        '[\x01-\x1f\x7f]+', ' ', 'g'), 1000)
   WHERE alert_id = ANY (p_alert_ids) AND NOT alert_sent;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END;
$$;

-- Open episodes of this server whose key starts with p_prefix (e.g. 'stale:def:'), so a pass
-- can end those whose trouble is over.
CREATE FUNCTION get_open_alert_episodes(p_server_id integer, p_prefix text)
  RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT episode_key FROM alert_episode
   WHERE backup_server_id = p_server_id AND left(episode_key, length(p_prefix)) = p_prefix
   ORDER BY episode_key;
$$;

-- Alert retention (pgbackman_maintenance, local config [pgbackman_maintenance]
-- alert_retention): the alerts of a server that were delivered (alert_sent) longer than
-- p_retention ago, oldest first. Never an unsent alert (it still has to reach a person) nor
-- one whose episode is open (raise_alert() keys the episode's next alerts on it, and the
-- trouble is still going on). The one rule for the dry run's listing and the deletion.
CREATE FUNCTION sent_alerts_past_retention(p_server_id integer, p_retention interval)
  RETURNS SETOF bigint
  LANGUAGE sql STABLE SET search_path = public, pg_temp
AS $$
  SELECT a.alert_id
    FROM alerts a
   WHERE a.backup_server_id = p_server_id
     AND a.alert_sent
     AND greatest(a.registered, coalesce(a.sent_at, a.registered)) <= retention_cutoff(p_retention)
     AND NOT EXISTS (SELECT 1 FROM alert_episode e
                      WHERE e.alert_id = a.alert_id OR e.episode_key = a.episode_key)
   ORDER BY a.alert_id
$$;

-- Delete at most p_limit of those alerts (their delivery records are columns of the row);
-- returns how many went. Batches keep one call well inside statement_timeout on a catalog
-- that kept every alert for years.
CREATE FUNCTION delete_sent_alerts(p_server_id integer, p_retention interval,
                                   p_limit integer DEFAULT 10000)
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_count integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  PERFORM check_retention_interval(p_retention, 'alert retention');
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
    RAISE EXCEPTION 'Invalid batch size % (from 1 to 100000)', p_limit;
  END IF;
  DELETE FROM alerts
   WHERE alert_id IN (SELECT s.alert_id
                        FROM sent_alerts_past_retention(p_server_id, p_retention) AS s(alert_id)
                       LIMIT p_limit);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END;
$$;
