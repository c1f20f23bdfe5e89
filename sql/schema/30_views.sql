-- PgBackMan catalog: views.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Views
-- =====================================================================================

CREATE VIEW show_backup_servers AS
SELECT lpad(server_id::text, 5, '0') AS "SrvID",
       hostname || '.' || domain_name AS "FQDN",
       status AS "Status",
       remarks AS "Remarks"
  FROM backup_server
 ORDER BY domain_name, hostname, status;

CREATE VIEW show_pgsql_nodes AS
SELECT lpad(node_id::text, 6, '0') AS "NodeID",
       hostname || '.' || domain_name AS "FQDN",
       pgport AS "Pgport",
       admin_user AS "Admin user",
       status AS "Status",
       remarks AS "Remarks"
  FROM pgsql_node
 ORDER BY domain_name, hostname, pgport, admin_user, status;

CREATE VIEW show_backup_definitions AS
SELECT lpad(d.def_id::text, 11, '0') AS "DefID",
       d.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       d.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       d.dbname AS "DBname",
       d.minutes_cron || ' ' || d.hours_cron || ' ' || d.day_month_cron || ' ' || d.month_cron || ' '
         || d.weekday_cron AS "Schedule",
       d.backup_code AS "Code",
       d.encryption::text AS "Encryption",
       d.retention_period::text || ' (' || d.retention_redundancy::text || ')' AS "Retention",
       d.job_status AS "Status",
       d.extra_backup_parameters AS "Parameters"
  FROM backup_definition d
  JOIN backup_server s ON s.server_id = d.backup_server_id
  JOIN pgsql_node n ON n.node_id = d.pgsql_node_id
 ORDER BY d.backup_server_id, d.pgsql_node_id, d.dbname, d.backup_code, d.job_status, d.def_id;

CREATE VIEW show_backup_catalog AS
SELECT lpad(a.bck_id::text, 12, '0') AS "BckID",
       CASE WHEN a.def_id IS NOT NULL THEN lpad(a.def_id::text, 11, '0') ELSE '' END AS "DefID",
       a.def_id,
       CASE WHEN a.snapshot_id IS NOT NULL THEN lpad(a.snapshot_id::text, 11, '0') ELSE '' END AS "SnapshotID",
       a.snapshot_id,
       date_trunc('seconds', a.finished) AS "Finished",
       a.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       a.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       a.dbname AS "DBname",
       date_trunc('seconds', a.duration) AS "Duration",
       pg_size_pretty(coalesce(a.pg_dump_file_size, 0) + coalesce(a.pg_dump_roles_file_size, 0)
                      + coalesce(a.pg_dump_dbconfig_file_size, 0)) AS "Size",
       coalesce(a.backup_code, d.backup_code, sn.backup_code) AS "Code",
       a.execution_method AS "Execution",
       a.execution_status AS "Status",
       a.bck_id
  FROM backup_catalog a
  JOIN backup_server s ON s.server_id = a.backup_server_id
  JOIN pgsql_node n ON n.node_id = a.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = a.def_id
  LEFT JOIN snapshot_definition sn ON sn.snapshot_id = a.snapshot_id
 ORDER BY a.finished DESC NULLS LAST, a.bck_id DESC;

CREATE VIEW show_backup_details AS
SELECT lpad(a.bck_id::text, 12, '0') AS "BckID",
       a.bck_id,
       date_trunc('seconds', a.registered) AS "Registered",
       date_trunc('seconds', a.started) AS "Started",
       date_trunc('seconds', a.finished) AS "Finished",
       date_trunc('seconds', a.finished + coalesce(d.retention_period, sn.retention_period)) AS "Valid until",
       date_trunc('seconds', a.duration) AS "Duration",
       CASE WHEN a.def_id IS NOT NULL THEN lpad(a.def_id::text, 11, '0') ELSE '' END AS "DefID",
       CASE WHEN a.snapshot_id IS NOT NULL THEN lpad(a.snapshot_id::text, 11, '0') ELSE '' END AS "SnapshotID",
       a.procpid AS "ProcPID",
       CASE WHEN d.def_id IS NOT NULL
            THEN d.retention_period::text || ' (' || d.retention_redundancy::text || ')'
            ELSE sn.retention_period::text END AS "Retention",
       CASE WHEN d.def_id IS NOT NULL
            THEN d.minutes_cron || ' ' || d.hours_cron || ' ' || d.day_month_cron || ' ' || d.month_cron
                 || ' ' || d.weekday_cron
            ELSE '' END AS "Schedule",
       coalesce(to_char(sn.at_time, 'YYYYMMDDHH24MI'), '') AS "AT time",
       coalesce(d.encryption, sn.encryption)::text AS "Encryption",
       coalesce(d.extra_backup_parameters, sn.extra_backup_parameters) AS "Extra parameters",
       a.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       a.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       a.dbname AS "DBname",
       a.pg_dump_file AS "DB dump file",
       a.pg_dump_log_file AS "DB log file",
       pg_size_pretty(a.pg_dump_file_size) AS "DB dump size",
       a.pg_dump_roles_file AS "DB roles dump file",
       a.pg_dump_roles_log_file AS "DB roles log file",
       pg_size_pretty(a.pg_dump_roles_file_size) AS "DB roles dump size",
       a.pg_dump_dbconfig_file AS "DB config dump file",
       a.pg_dump_dbconfig_log_file AS "DB config log file",
       pg_size_pretty(a.pg_dump_dbconfig_file_size) AS "DB config dump size",
       pg_size_pretty(coalesce(a.pg_dump_file_size, 0) + coalesce(a.pg_dump_roles_file_size, 0)
                      + coalesce(a.pg_dump_dbconfig_file_size, 0)) AS "Total size",
       coalesce(a.backup_code, d.backup_code, sn.backup_code) AS "Code",
       a.execution_status AS "Status",
       a.execution_method AS "Execution",
       left(a.error_message, 60) AS "Error message",
       array_to_string(a.role_list, ',') AS "Role list",
       a.pgsql_node_release AS "PgSQL node release",
       a.pg_dump_release AS "pg_dump release",
       a.pg_dump_manifest_file AS "DB manifest file",
       a.checksum AS "Checksum",
       a.run_uuid AS "Run UUID",
       a.global_log_file AS "Global log file"
  FROM backup_catalog a
  JOIN backup_server s ON s.server_id = a.backup_server_id
  JOIN pgsql_node n ON n.node_id = a.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = a.def_id
  LEFT JOIN snapshot_definition sn ON sn.snapshot_id = a.snapshot_id;

CREATE VIEW show_snapshot_definitions AS
SELECT lpad(sn.snapshot_id::text, 11, '0') AS "SnapshotID",
       date_trunc('seconds', sn.registered) AS "Registered",
       sn.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       sn.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       sn.dbname AS "DBname",
       to_char(sn.at_time, 'YYYYMMDDHH24MI') AS "AT time",
       sn.backup_code || coalesce(' [' || sn.pg_dump_release || ']', '') AS "Code",
       sn.retention_period::text AS "Retention",
       sn.extra_backup_parameters AS "Parameters",
       sn.status AS "Status",
       sn.remarks AS "Remarks",
       sn.snapshot_id,
       sn.at_time
  FROM snapshot_definition sn
  JOIN backup_server s ON s.server_id = sn.backup_server_id
  JOIN pgsql_node n ON n.node_id = sn.pgsql_node_id
 ORDER BY sn.backup_server_id, sn.pgsql_node_id, sn.dbname, sn.backup_code, sn.at_time;

CREATE VIEW show_restore_definitions AS
SELECT lpad(r.restore_def::text, 8, '0') AS "RestoreDef",
       date_trunc('seconds', r.registered) AS "Registered",
       r.bck_id AS "BckID",
       r.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       r.target_pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "Target PgSQL node",
       r.target_dbname AS "Target DBname",
       r.renamed_dbname AS "Renamed database",
       to_char(r.at_time, 'YYYYMMDDHH24MI') AS "AT time",
       r.extra_restore_parameters AS "Extra parameters",
       r.status AS "Status",
       r.restore_def,
       r.at_time
  FROM restore_definition r
  JOIN backup_server s ON s.server_id = r.backup_server_id
  JOIN pgsql_node n ON n.node_id = r.target_pgsql_node_id
 ORDER BY r.backup_server_id, r.target_pgsql_node_id, r.target_dbname, r.at_time;

CREATE VIEW show_restore_catalog AS
SELECT lpad(c.restore_id::text, 10, '0') AS "RestoreID",
       lpad(c.restore_def::text, 10, '0') AS "RestoreDef",
       r.bck_id AS "BckID",
       date_trunc('seconds', c.finished) AS "Finished",
       c.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       c.target_pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "Target PgSQL node",
       c.target_dbname AS "Target DBname",
       c.renamed_dbname AS "Renamed DBname",
       date_trunc('seconds', c.duration) AS "Duration",
       c.execution_status AS "Status",
       c.restore_id
  FROM restore_catalog c
  JOIN backup_server s ON s.server_id = c.backup_server_id
  JOIN pgsql_node n ON n.node_id = c.target_pgsql_node_id
  LEFT JOIN restore_definition r ON r.restore_def = c.restore_def
 ORDER BY c.finished DESC NULLS LAST, c.restore_id DESC;

CREATE VIEW show_restore_details AS
SELECT lpad(c.restore_id::text, 10, '0') AS "RestoreID",
       c.restore_id,
       c.procpid AS "ProcPID",
       date_trunc('seconds', c.registered) AS "Registered",
       date_trunc('seconds', c.started) AS "Started",
       date_trunc('seconds', c.finished) AS "Finished",
       date_trunc('seconds', c.duration) AS "Duration",
       c.execution_status AS "Status",
       lpad(c.restore_def::text, 10, '0') AS "RestoreDef",
       r.bck_id AS "BckID",
       c.source_dbname AS "Source DBname",
       c.target_dbname AS "Target DBname",
       c.renamed_dbname AS "Renamed DBname",
       array_to_string(c.role_list, ',') AS "Roles restored",
       c.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       c.target_pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "Target PgSQL node",
       c.backup_pg_release AS "Pg_dump backup release",
       c.target_pgsql_node_release AS "Target PgSQL node release",
       to_char(r.at_time, 'YYYYMMDDHH24MI') AS "AT time",
       r.extra_restore_parameters AS "Extra parameters",
       c.restore_log_file AS "Restore log file",
       c.global_log_file AS "Global log file",
       c.error_message AS "Error message",
       c.run_uuid AS "Run UUID"
  FROM restore_catalog c
  JOIN backup_server s ON s.server_id = c.backup_server_id
  JOIN pgsql_node n ON n.node_id = c.target_pgsql_node_id
  LEFT JOIN restore_definition r ON r.restore_def = c.restore_def;

CREATE VIEW show_jobs_queue AS
SELECT q.id AS "JobID",
       date_trunc('seconds', q.registered) AS "Registered",
       q.backup_server_id AS "SrvID",
       s.hostname || '.' || s.domain_name AS "Backup server",
       q.pgsql_node_id AS "NodeID",
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       q.is_assigned AS "Assigned"
  FROM job_queue q
  JOIN backup_server s ON s.server_id = q.backup_server_id
  JOIN pgsql_node n ON n.node_id = q.pgsql_node_id
 ORDER BY q.registered, q.id;

CREATE VIEW show_backup_server_config AS
SELECT server_id,
       parameter AS "Parameter",
       value AS "Value",
       description AS "Description"
  FROM backup_server_config
 ORDER BY server_id, parameter;

CREATE VIEW show_pgsql_node_config AS
SELECT node_id,
       parameter AS "Parameter",
       value AS "Value",
       description AS "Description"
  FROM pgsql_node_config
 ORDER BY node_id, parameter;

CREATE VIEW show_empty_backup_catalogs AS
SELECT lpad(d.def_id::text, 11, '0') AS "DefID",
       date_trunc('seconds', d.registered) AS "Registered",
       d.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       d.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       d.dbname AS "DBname",
       d.minutes_cron || ' ' || d.hours_cron || ' ' || d.day_month_cron || ' ' || d.month_cron || ' '
         || d.weekday_cron AS "Schedule",
       d.backup_code AS "Code",
       d.encryption::text AS "Encryption",
       d.retention_period::text || ' (' || d.retention_redundancy::text || ')' AS "Retention",
       d.job_status AS "Status",
       d.extra_backup_parameters AS "Parameters"
  FROM backup_definition d
  JOIN backup_server s ON s.server_id = d.backup_server_id
  JOIN pgsql_node n ON n.node_id = d.pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM backup_catalog a WHERE a.def_id = d.def_id)
 ORDER BY d.registered, d.backup_server_id, d.pgsql_node_id, d.dbname, d.backup_code, d.job_status;

CREATE VIEW show_snapshots_in_progress AS
SELECT lpad(sn.snapshot_id::text, 11, '0') AS "SnapshotID",
       date_trunc('seconds', sn.registered) AS "Registered",
       sn.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       sn.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       sn.dbname AS "DBname",
       to_char(sn.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       sn.backup_code AS "Code",
       CASE WHEN sn.at_time > now() THEN 'not started'
            ELSE date_trunc('seconds', now() - sn.at_time)::text END AS "Elapsed time"
  FROM snapshot_definition sn
  JOIN backup_server s ON s.server_id = sn.backup_server_id
  JOIN pgsql_node n ON n.node_id = sn.pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM backup_catalog a WHERE a.snapshot_id = sn.snapshot_id)
 ORDER BY sn.at_time, sn.snapshot_id;

CREATE VIEW show_restores_in_progress AS
SELECT lpad(r.restore_def::text, 8, '0') AS "RestoreDef",
       date_trunc('seconds', r.registered) AS "Registered",
       r.bck_id AS "BckID",
       r.backup_server_id,
       s.hostname || '.' || s.domain_name AS "Backup server",
       r.target_pgsql_node_id,
       n.hostname || '.' || n.domain_name AS "Target PgSQL node",
       r.target_dbname AS "Target DBname",
       to_char(r.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       CASE WHEN r.at_time > now() THEN 'not started'
            ELSE date_trunc('seconds', now() - r.at_time)::text END AS "Elapsed time"
  FROM restore_definition r
  JOIN backup_server s ON s.server_id = r.backup_server_id
  JOIN pgsql_node n ON n.node_id = r.target_pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM restore_catalog c WHERE c.restore_def = r.restore_def)
 ORDER BY r.at_time, r.restore_def;

-- ------------------------------------------------------------------ maintenance views

CREATE VIEW get_catalog_entries_to_delete AS
SELECT del_id, registered, def_id, bck_id, backup_server_id, pg_dump_file, pg_dump_log_file,
       pg_dump_roles_file, pg_dump_roles_log_file, pg_dump_dbconfig_file, pg_dump_dbconfig_log_file,
       pg_dump_manifest_file
  FROM catalog_entries_to_delete
 ORDER BY del_id;

CREATE VIEW get_restore_logs_to_delete AS
SELECT del_id, registered, backup_server_id, restore_log_file
  FROM restore_logs_to_delete
 ORDER BY del_id;

-- D26: a cron catalog row is deletable when it is older than the definition's retention_period
-- AND
--   * SUCCEEDED: at least max(retention_redundancy, 1) newer SUCCEEDED rows of the same
--     definition exist (so the newest N good backups are always kept);
--   * any other status: at least one newer SUCCEEDED row exists.
-- Plain (non-window) query so that "WHERE backup_server_id = $1" is pushed down.
CREATE VIEW get_cron_catalog_entries_to_delete_by_retention AS
SELECT a.bck_id,
       a.def_id,
       a.backup_server_id,
       a.pgsql_node_id,
       a.dbname,
       a.finished,
       a.execution_status,
       b.retention_period,
       b.retention_redundancy,
       a.pg_dump_file,
       a.pg_dump_log_file,
       a.pg_dump_roles_file,
       a.pg_dump_roles_log_file,
       a.pg_dump_dbconfig_file,
       a.pg_dump_dbconfig_log_file,
       a.pg_dump_manifest_file
  FROM backup_catalog a
  JOIN backup_definition b ON b.def_id = a.def_id
 WHERE a.finished IS NOT NULL
   AND a.finished < now() - b.retention_period
   AND CASE WHEN a.execution_status = 'SUCCEEDED' THEN
              (SELECT count(*) FROM (SELECT 1 FROM backup_catalog g
                                      WHERE g.def_id = a.def_id
                                        AND g.execution_status = 'SUCCEEDED'
                                        AND (g.finished, g.bck_id) > (a.finished, a.bck_id)
                                      LIMIT greatest(b.retention_redundancy, 1)) k)
              >= greatest(b.retention_redundancy, 1)
            ELSE
              EXISTS (SELECT 1 FROM backup_catalog g
                       WHERE g.def_id = a.def_id
                         AND g.execution_status = 'SUCCEEDED'
                         AND g.finished > a.finished)
       END;

-- Snapshot rows older than the snapshot's retention_period. snapshot_fully_expired says whether
-- every catalog row of that snapshot is expired; only then may maintenance delete the
-- snapshot definition itself (D27).
CREATE VIEW get_at_catalog_entries_to_delete_by_retention AS
SELECT a.bck_id,
       a.snapshot_id,
       a.backup_server_id,
       a.pgsql_node_id,
       a.dbname,
       a.finished,
       b.retention_period,
       a.pg_dump_file,
       a.pg_dump_log_file,
       a.pg_dump_roles_file,
       a.pg_dump_roles_log_file,
       a.pg_dump_dbconfig_file,
       a.pg_dump_dbconfig_log_file,
       a.pg_dump_manifest_file,
       NOT EXISTS (SELECT 1 FROM backup_catalog o
                    WHERE o.snapshot_id = a.snapshot_id
                      AND (o.finished IS NULL OR o.finished >= now() - b.retention_period))
         AS snapshot_fully_expired
  FROM backup_catalog a
  JOIN snapshot_definition b ON b.snapshot_id = a.snapshot_id
 WHERE a.finished IS NOT NULL
   AND a.finished < now() - b.retention_period;

CREATE VIEW get_deleted_backup_definitions_to_delete_by_retention AS
SELECT d.def_id,
       d.registered,
       d.backup_server_id,
       d.pgsql_node_id,
       d.dbname,
       d.backup_code,
       r.automatic_deletion_retention,
       d.deleted_at
  FROM backup_definition d
  CROSS JOIN LATERAL (
    SELECT coalesce((SELECT value FROM pgsql_node_config c
                      WHERE c.node_id = d.pgsql_node_id AND c.parameter = 'automatic_deletion_retention'),
                    (SELECT value FROM pgsql_node_default_config
                      WHERE parameter = 'automatic_deletion_retention'),
                    '14 days')::interval AS automatic_deletion_retention) r
 WHERE d.job_status = 'DELETED'
   AND d.deleted_at < now() - r.automatic_deletion_retention;   -- D35 (upstream: registered)

-- ------------------------------------------------------------------ alerts and monitoring
-- Read by pgbackman_alerts, pgbackman_check, pgbackman_metrics, the Zabbix helpers and the
-- shell (show_alerts, show_backup_status). Views, so a monitoring login with
-- pgbackman_role_ro can read them.

CREATE VIEW show_alerts AS
SELECT a.alert_id,
       a.registered,
       a.alert_type,
       t.description AS alert_description,
       a.ref_id,
       a.bck_id,
       a.backup_server_id,
       s.hostname || '.' || s.domain_name AS backup_server_fqdn,
       a.pgsql_node_id,
       CASE WHEN n.node_id IS NOT NULL THEN n.hostname || '.' || n.domain_name END AS pgsql_node_fqdn,
       a.dbname,
       a.execution_status,
       a.error_message,
       a.sendto,
       a.alert_sent,
       a.sent_at,
       a.delivered,
       a.delivery_attempts,
       a.last_delivery_error,
       a.episode_key
  FROM alerts a
  JOIN alert_type t ON t.code = a.alert_type
  JOIN backup_server s ON s.server_id = a.backup_server_id
  LEFT JOIN pgsql_node n ON n.node_id = a.pgsql_node_id;

-- One row per backup definition with what monitoring needs: its schedule, its node's
-- stale_backup_grace, its newest SUCCEEDED backup and its newest run of any status (both by
-- "finished", on the (def_id, finished DESC) indexes). Whether it is STALE is decided in
-- Python (pgbackman/core/schedule.py) from the cron fields.
CREATE VIEW backup_definition_health AS
SELECT d.def_id,
       d.registered AS def_registered,
       d.backup_server_id,
       s.hostname || '.' || s.domain_name AS backup_server_fqdn,
       d.pgsql_node_id,
       n.hostname || '.' || n.domain_name AS pgsql_node_fqdn,
       n.status AS pgsql_node_status,
       d.dbname,
       d.backup_code,
       d.job_status,
       d.minutes_cron, d.hours_cron, d.day_month_cron, d.month_cron, d.weekday_cron,
       coalesce((SELECT c.value FROM pgsql_node_config c
                  WHERE c.node_id = d.pgsql_node_id AND c.parameter = 'stale_backup_grace'),
                (SELECT c.value FROM pgsql_node_default_config c
                  WHERE c.parameter = 'stale_backup_grace'),
                '4 hours')::interval AS stale_backup_grace,
       ok.bck_id AS last_success_bck_id,
       ok.started AS last_success_started,
       ok.finished AS last_success_finished,
       extract(epoch FROM ok.duration)::double precision AS last_success_duration_seconds,
       ok.size_bytes AS last_success_size_bytes,
       ok.pg_dump_file AS last_success_dump_file,
       lr.bck_id AS last_run_bck_id,
       lr.finished AS last_run_finished,
       lr.execution_status AS last_run_status,
       lr.error_message AS last_run_error,
       extract(epoch FROM lr.duration)::double precision AS last_run_duration_seconds,
       lr.size_bytes AS last_run_size_bytes
  FROM backup_definition d
  JOIN backup_server s ON s.server_id = d.backup_server_id
  JOIN pgsql_node n ON n.node_id = d.pgsql_node_id
  LEFT JOIN LATERAL (
         SELECT a.bck_id, a.started, a.finished, a.duration, a.pg_dump_file,
                coalesce(a.pg_dump_file_size, 0) + coalesce(a.pg_dump_roles_file_size, 0)
                  + coalesce(a.pg_dump_dbconfig_file_size, 0) AS size_bytes
           FROM backup_catalog a
          WHERE a.def_id = d.def_id AND a.execution_status = 'SUCCEEDED' AND a.finished IS NOT NULL
          ORDER BY a.finished DESC, a.bck_id DESC
          LIMIT 1) ok ON true
  LEFT JOIN LATERAL (
         SELECT a.bck_id, a.finished, a.execution_status, a.error_message, a.duration,
                coalesce(a.pg_dump_file_size, 0) + coalesce(a.pg_dump_roles_file_size, 0)
                  + coalesce(a.pg_dump_dbconfig_file_size, 0) AS size_bytes
           FROM backup_catalog a
          WHERE a.def_id = d.def_id AND a.finished IS NOT NULL
          ORDER BY a.finished DESC, a.bck_id DESC
          LIMIT 1) lr ON true;
