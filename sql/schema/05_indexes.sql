-- PgBackMan catalog: indexes.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Indexes (fleet scale: 10 000 definitions, 1 000 000 catalog rows)
-- =====================================================================================

CREATE INDEX ON backup_server (status);
CREATE INDEX ON pgsql_node (status);
CREATE INDEX ON backup_definition (backup_server_id, pgsql_node_id);
CREATE INDEX ON backup_definition (pgsql_node_id, dbname);
CREATE INDEX ON backup_definition (job_status);
CREATE INDEX ON snapshot_definition (backup_server_id, status);
CREATE INDEX ON snapshot_definition (pgsql_node_id, dbname);
CREATE INDEX ON backup_catalog (def_id, finished DESC);
CREATE INDEX backup_catalog_succeeded_idx ON backup_catalog (def_id, finished DESC, bck_id DESC)
  WHERE execution_status = 'SUCCEEDED';
CREATE INDEX ON backup_catalog (pgsql_node_id, dbname);
CREATE INDEX ON backup_catalog (backup_server_id);
CREATE INDEX ON backup_catalog (snapshot_id);
CREATE INDEX ON backup_catalog (execution_status);
CREATE INDEX ON backup_catalog (finished DESC);
CREATE INDEX ON restore_definition (backup_server_id, status);
CREATE INDEX ON restore_definition (bck_id);
CREATE INDEX ON restore_catalog (restore_def);
CREATE INDEX ON restore_catalog (backup_server_id);
CREATE INDEX ON restore_catalog (target_pgsql_node_id);
CREATE INDEX ON alerts (registered);
CREATE INDEX ON alerts (alert_sent);
CREATE INDEX ON alerts (bck_id);
CREATE INDEX ON alerts (backup_server_id, alert_sent);
CREATE INDEX ON catalog_entries_to_delete (backup_server_id);
CREATE INDEX ON offsite_copies_to_delete (backup_server_id);
-- Offsite uploads and retention look up this server's copies by status.
CREATE INDEX ON backup_catalog (backup_server_id, offsite_status) WHERE offsite_status IS NOT NULL;
CREATE INDEX ON restore_logs_to_delete (backup_server_id);
CREATE INDEX ON restore_drill (drill_node_id);
CREATE INDEX ON restore_drill_run (drill_id, started DESC);
CREATE INDEX restore_drill_run_succeeded_idx ON restore_drill_run (def_id, finished DESC)
  WHERE execution_status = 'SUCCEEDED';
CREATE INDEX ON restore_drill_run (bck_id);
CREATE INDEX ON clone_definition (backup_server_id, status);
