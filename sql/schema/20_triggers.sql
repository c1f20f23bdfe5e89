-- PgBackMan catalog: trigger functions and triggers.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Trigger functions and triggers
-- =====================================================================================

-- Encryption and compression of backup and snapshot definitions, whoever writes them
-- (register, update, move): a definition that must be encrypted needs a backup server with
-- encryption_recipients (checked when encryption is switched on or the definition moves to
-- another server; recipients removed later make its runs fail loudly, never plaintext), and
-- the compression is a setting of its own, not a -Z/--compress hidden in the extra
-- parameters (the shell folds those into the setting; see core/compression.fold_extra).
CREATE FUNCTION trg_check_backup_protection() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_what text := CASE TG_TABLE_NAME WHEN 'snapshot_definition' THEN 'snapshot' ELSE 'backup definition' END;
BEGIN
  IF NEW.encryption AND (TG_OP = 'INSERT' OR NOT OLD.encryption
                         OR NEW.backup_server_id <> OLD.backup_server_id) THEN
    IF coalesce((SELECT value FROM backup_server_config
                  WHERE server_id = NEW.backup_server_id AND parameter = 'encryption_recipients'), '') = '' THEN
      RAISE EXCEPTION 'A % with encryption needs encryption_recipients on backup server % (age public keys: update_backup_server_config)',
        v_what, get_backup_server_fqdn(NEW.backup_server_id);
    END IF;
  END IF;
  IF (TG_OP = 'INSERT' OR NEW.extra_backup_parameters IS DISTINCT FROM OLD.extra_backup_parameters)
     AND NEW.extra_backup_parameters ~ '(^|\s)(-Z|--compress(=|\s|$))' THEN
    RAISE EXCEPTION 'Extra backup parameters [%]: -Z/--compress is set with the backup compression of the %, not in the extra parameters',
      NEW.extra_backup_parameters, v_what;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER check_backup_definition_protection BEFORE INSERT OR UPDATE ON backup_definition
  FOR EACH ROW EXECUTE FUNCTION trg_check_backup_protection();
CREATE TRIGGER check_snapshot_definition_protection BEFORE INSERT OR UPDATE ON snapshot_definition
  FOR EACH ROW EXECUTE FUNCTION trg_check_backup_protection();

CREATE FUNCTION trg_notify_pgsql_node_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
    RETURN NULL;
  END IF;
  IF NEW.status = 'RUNNING' THEN
    DELETE FROM pgsql_node_stopped WHERE pgsql_node_id = NEW.node_id;
    PERFORM pg_notify('channel_pgsql_node_running', 'PgSQL node running');
  ELSIF NEW.status = 'STOPPED' THEN
    INSERT INTO pgsql_node_stopped (pgsql_node_id) VALUES (NEW.node_id)
    ON CONFLICT (pgsql_node_id) DO NOTHING;
    PERFORM pg_notify('channel_pgsql_node_stopped', 'PgSQL node stopped');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER notify_pgsql_node_change AFTER INSERT OR UPDATE ON pgsql_node
  FOR EACH ROW EXECUTE FUNCTION trg_notify_pgsql_node_change();

CREATE FUNCTION trg_notify_pgsql_node_deleted() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM pg_notify('channel_pgsql_node_deleted', 'PgSQL node deleted');
  RETURN NULL;
END;
$$;
CREATE TRIGGER notify_pgsql_node_deleted AFTER DELETE ON pgsql_node
  FOR EACH ROW EXECUTE FUNCTION trg_notify_pgsql_node_deleted();

CREATE FUNCTION trg_update_pgsql_nodes_to_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO pgsql_node_to_delete (backup_server_id, pgsql_node_id)
  SELECT server_id, OLD.node_id FROM backup_server
  ON CONFLICT (backup_server_id, pgsql_node_id) DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE TRIGGER update_pgsql_nodes_to_delete AFTER DELETE ON pgsql_node
  FOR EACH ROW EXECUTE FUNCTION trg_update_pgsql_nodes_to_delete();

CREATE FUNCTION trg_delete_pgsql_nodes_stopped() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM pgsql_node_stopped WHERE pgsql_node_id = OLD.node_id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER delete_pgsql_nodes_stopped AFTER DELETE ON pgsql_node
  FOR EACH ROW EXECUTE FUNCTION trg_delete_pgsql_nodes_stopped();

CREATE FUNCTION trg_update_pgsql_node_configuration() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO pgsql_node_config (node_id, parameter, value, description)
  SELECT NEW.node_id, parameter, replace(value, '%%pgnode%%', NEW.node_id::text), description
    FROM pgsql_node_default_config;
  RETURN NULL;
END;
$$;
CREATE TRIGGER update_pgsql_node_configuration AFTER INSERT ON pgsql_node
  FOR EACH ROW EXECUTE FUNCTION trg_update_pgsql_node_configuration();

CREATE FUNCTION trg_update_backup_server_configuration() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO backup_server_config (server_id, parameter, value, description)
  SELECT NEW.server_id, parameter, value, description FROM backup_server_default_config;
  RETURN NULL;
END;
$$;
CREATE TRIGGER update_backup_server_configuration AFTER INSERT ON backup_server
  FOR EACH ROW EXECUTE FUNCTION trg_update_backup_server_configuration();

CREATE FUNCTION trg_update_backup_definition_registration() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  NEW.registered := now();
  RETURN NEW;
END;
$$;
CREATE TRIGGER update_backup_definition_registration BEFORE UPDATE ON backup_definition
  FOR EACH ROW EXECUTE FUNCTION trg_update_backup_definition_registration();

-- D35: deleted_at is stamped when a definition becomes DELETED and cleared when it leaves that
-- status; later updates keep it (an explicit new value wins). Unlike "registered", which every
-- UPDATE resets, it is a stable start for automatic_deletion_retention.
CREATE FUNCTION trg_backup_definition_deleted_at() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.job_status <> 'DELETED' THEN
    NEW.deleted_at := NULL;
  ELSIF TG_OP = 'UPDATE' AND OLD.job_status = 'DELETED' THEN
    NEW.deleted_at := coalesce(NEW.deleted_at, OLD.deleted_at, now());
  ELSIF TG_OP = 'UPDATE' THEN
    NEW.deleted_at := now();
  ELSE
    NEW.deleted_at := coalesce(NEW.deleted_at, now());
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER backup_definition_deleted_at BEFORE INSERT OR UPDATE ON backup_definition
  FOR EACH ROW EXECUTE FUNCTION trg_backup_definition_deleted_at();

CREATE FUNCTION trg_update_job_queue() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_payload text;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT 'Backup jobs for ' || n.hostname || '.' || n.domain_name || ' updated on '
           || s.hostname || '.' || s.domain_name
      INTO v_payload
      FROM pgsql_node n, backup_server s
     WHERE n.node_id = NEW.pgsql_node_id AND s.server_id = NEW.backup_server_id;
    PERFORM enqueue_crontab_job(NEW.backup_server_id, NEW.pgsql_node_id, coalesce(v_payload, 'Backup jobs updated'));
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.backup_server_id, OLD.pgsql_node_id)
                                               IS DISTINCT FROM (NEW.backup_server_id, NEW.pgsql_node_id)) THEN
    SELECT 'Backup jobs for ' || n.hostname || '.' || n.domain_name || ' updated on '
           || s.hostname || '.' || s.domain_name
      INTO v_payload
      FROM pgsql_node n, backup_server s
     WHERE n.node_id = OLD.pgsql_node_id AND s.server_id = OLD.backup_server_id;
    -- the node/server may be being deleted in the same statement: then nothing to rewrite
    IF FOUND THEN
      PERFORM enqueue_crontab_job(OLD.backup_server_id, OLD.pgsql_node_id, v_payload);
    END IF;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER update_job_queue AFTER INSERT OR UPDATE OR DELETE ON backup_definition
  FOR EACH ROW EXECUTE FUNCTION trg_update_job_queue();

-- D15: a change of a node's configuration (crontab file, backup partition, ...) must be seen by
-- every backup server that schedules backups of that node.
CREATE FUNCTION trg_pgsql_node_config_changed() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT DISTINCT backup_server_id FROM backup_definition WHERE pgsql_node_id = NEW.node_id LOOP
    PERFORM enqueue_crontab_job(r.backup_server_id, NEW.node_id,
                                'Configuration of PgSQL node ' || NEW.node_id || ' changed');
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE TRIGGER pgsql_node_config_changed AFTER UPDATE ON pgsql_node_config
  FOR EACH ROW WHEN (OLD.value IS DISTINCT FROM NEW.value)
  EXECUTE FUNCTION trg_pgsql_node_config_changed();

CREATE FUNCTION trg_backup_server_config_changed() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT DISTINCT pgsql_node_id FROM backup_definition WHERE backup_server_id = NEW.server_id LOOP
    PERFORM enqueue_crontab_job(NEW.server_id, r.pgsql_node_id,
                                'Configuration of backup server ' || NEW.server_id || ' changed');
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE TRIGGER backup_server_config_changed AFTER UPDATE ON backup_server_config
  FOR EACH ROW WHEN (OLD.value IS DISTINCT FROM NEW.value)
  EXECUTE FUNCTION trg_backup_server_config_changed();

CREATE FUNCTION trg_notify_new_snapshot() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM pg_notify('channel_snapshot_defined', 'Snapshot defined');
  RETURN NULL;
END;
$$;
CREATE TRIGGER notify_new_snapshot AFTER INSERT ON snapshot_definition
  FOR EACH ROW EXECUTE FUNCTION trg_notify_new_snapshot();

CREATE FUNCTION trg_notify_new_restore() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM pg_notify('channel_restore_defined', 'Restore defined');
  RETURN NULL;
END;
$$;
CREATE TRIGGER notify_new_restore AFTER INSERT ON restore_definition
  FOR EACH ROW EXECUTE FUNCTION trg_notify_new_restore();

CREATE FUNCTION trg_update_restore_logs_to_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF OLD.restore_log_file IS NOT NULL AND OLD.restore_log_file <> '' THEN
    INSERT INTO restore_logs_to_delete (backup_server_id, restore_log_file, restore_def,
                                        target_pgsql_node_id, target_dbname)
    VALUES (OLD.backup_server_id, OLD.restore_log_file, OLD.restore_def,
            OLD.target_pgsql_node_id, OLD.target_dbname);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER update_restore_logs_to_delete AFTER DELETE ON restore_catalog
  FOR EACH ROW EXECUTE FUNCTION trg_update_restore_logs_to_delete();

CREATE FUNCTION trg_generate_backup_catalog_alert() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.execution_status = 'ERROR'
     AND (TG_OP = 'INSERT' OR OLD.execution_status IS DISTINCT FROM NEW.execution_status) THEN
    PERFORM raise_alert(CASE WHEN NEW.snapshot_id IS NULL THEN 'Backup-def' ELSE 'Snapshot-def' END,
                        NEW.backup_server_id, NEW.pgsql_node_id, NEW.dbname,
                        coalesce(NEW.def_id, NEW.snapshot_id), NEW.bck_id, NEW.execution_status,
                        NEW.error_message);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER generate_backup_catalog_alert AFTER INSERT OR UPDATE ON backup_catalog
  FOR EACH ROW EXECUTE FUNCTION trg_generate_backup_catalog_alert();

-- Upstream had the Restore-def alert type but nothing raised it: a failed restore now alerts
-- like a failed backup. The alert is about the target node (its logs_email is told), the
-- target database and the backup that was being restored.
CREATE FUNCTION trg_generate_restore_catalog_alert() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.execution_status = 'ERROR'
     AND (TG_OP = 'INSERT' OR OLD.execution_status IS DISTINCT FROM NEW.execution_status) THEN
    PERFORM raise_alert('Restore-def', NEW.backup_server_id, NEW.target_pgsql_node_id,
                        NEW.target_dbname, NEW.restore_def,
                        (SELECT bck_id FROM restore_definition WHERE restore_def = NEW.restore_def),
                        NEW.execution_status,
                        format('Restore of %s into %s failed: %s', NEW.source_dbname,
                               NEW.target_dbname, coalesce(NEW.error_message, 'no error message')));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER generate_restore_catalog_alert AFTER INSERT OR UPDATE ON restore_catalog
  FOR EACH ROW EXECUTE FUNCTION trg_generate_restore_catalog_alert();

-- A deleted catalog row whose offsite copy exists (UPLOADED, or ERROR: a partial upload)
-- leaves the facts its object keys derive from, so that maintenance deletes the objects.
-- Offsite retention sets EXPIRED before it deletes a row: nothing is queued then.
CREATE FUNCTION trg_queue_offsite_copy_deletion() RETURNS trigger
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO offsite_copies_to_delete (bck_id, backup_server_id, def_id, snapshot_id, dbname, finished,
                                        server_fqdn, node_fqdn, node_port, pg_dump_file,
                                        pg_dump_roles_file, pg_dump_dbconfig_file, pg_dump_manifest_file,
                                        offsite_status, offsite_location, offsite_endpoint)
  SELECT OLD.bck_id, OLD.backup_server_id, OLD.def_id, OLD.snapshot_id, OLD.dbname, OLD.finished,
         bs.hostname || '.' || bs.domain_name, pn.hostname || '.' || pn.domain_name, pn.pgport,
         OLD.pg_dump_file, OLD.pg_dump_roles_file, OLD.pg_dump_dbconfig_file, OLD.pg_dump_manifest_file,
         OLD.offsite_status, OLD.offsite_location, OLD.offsite_endpoint
    FROM backup_server bs, pgsql_node pn
   WHERE bs.server_id = OLD.backup_server_id AND pn.node_id = OLD.pgsql_node_id;
  RETURN OLD;
END;
$$;
CREATE TRIGGER queue_offsite_copy_deletion BEFORE DELETE ON backup_catalog
  FOR EACH ROW WHEN (OLD.offsite_location IS NOT NULL AND OLD.offsite_status IN ('UPLOADED', 'ERROR'))
  EXECUTE FUNCTION trg_queue_offsite_copy_deletion();

-- A drill run's log file goes like a restore's when its row goes (drill deleted, or older than
-- the newest 50 runs of its drill): pgbackman_maintenance deletes the queued file.
CREATE FUNCTION trg_restore_drill_run_log_to_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF OLD.drill_log_file IS NOT NULL AND OLD.drill_log_file <> '' THEN
    -- The identity of the log (D42): the drill's scratch restore, as pgbackman_restore
    -- named it (restore/plan.log_file_name with job 'drill').
    INSERT INTO restore_logs_to_delete (backup_server_id, restore_log_file, restore_def,
                                        target_pgsql_node_id, target_dbname, restore_job)
    VALUES (OLD.backup_server_id, OLD.drill_log_file, OLD.drill_id, OLD.drill_node_id,
            OLD.scratch_dbname, 'drill');
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER restore_drill_run_log_to_delete AFTER DELETE ON restore_drill_run
  FOR EACH ROW EXECUTE FUNCTION trg_restore_drill_run_log_to_delete();
