-- PgBackMan catalog: maintenance functions.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Maintenance deletions
-- =====================================================================================

CREATE FUNCTION delete_catalog_entries_to_delete(p_del_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM catalog_entries_to_delete WHERE del_id = p_del_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Catalog entry to delete % does not exist', p_del_id;
  END IF;
END;
$$;

CREATE FUNCTION delete_restore_logs_to_delete(p_del_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM restore_logs_to_delete WHERE del_id = p_del_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Restore log to delete % does not exist', p_del_id;
  END IF;
END;
$$;

CREATE FUNCTION delete_backup_catalog(p_bck_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM backup_catalog WHERE bck_id = p_bck_id;   -- cascades to restores and alerts
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup % does not exist in the catalog', p_bck_id;
  END IF;
END;
$$;

-- Deletes the snapshot's catalog rows and the definition (the caller removes the files first).
CREATE FUNCTION delete_snapshot_definition(p_snapshot_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM snapshot_definition WHERE snapshot_id = p_snapshot_id) THEN
    RAISE EXCEPTION 'Snapshot definition % does not exist', p_snapshot_id;
  END IF;
  DELETE FROM backup_catalog WHERE snapshot_id = p_snapshot_id;
  DELETE FROM snapshot_definition WHERE snapshot_id = p_snapshot_id;
END;
$$;

CREATE FUNCTION delete_pgsql_node_to_delete(p_server_id integer, p_node_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM pgsql_node_to_delete WHERE backup_server_id = p_server_id AND pgsql_node_id = p_node_id;
END;
$$;

CREATE FUNCTION update_alert_sent(p_alert_id bigint, p_sent boolean) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE alerts SET alert_sent = p_sent WHERE alert_id = p_alert_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Alert % does not exist', p_alert_id;
  END IF;
END;
$$;

CREATE FUNCTION delete_alert(p_alert_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM alerts WHERE alert_id = p_alert_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Alert % does not exist', p_alert_id;
  END IF;
END;
$$;
