-- PgBackMan catalog: views.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Views
-- =====================================================================================

-- The show_* views ARE the shell's listings (D34): pgbackman/catalog/ reads them with the
-- filters as WHERE clauses and orders them itself, and pgbackman_role_ro reads the same rows.
-- Columns named like the shell's output hold what the shell prints (ids as numbers, for
-- JSON); lower-case columns are the raw values the filters and the ORDER BY use. The
-- *_details views hold one row per object with raw names (the shell lays them out).
-- Views are relations: no ORDER BY here, the reader orders.

CREATE VIEW show_backup_servers AS
SELECT server_id AS "SrvID",
       hostname || '.' || domain_name AS "FQDN",
       status AS "Status",
       remarks AS "Remarks",
       hostname, domain_name
  FROM backup_server;

CREATE VIEW show_pgsql_nodes AS
SELECT node_id AS "NodeID",
       hostname || '.' || domain_name AS "FQDN",
       pgport AS "Pgport",
       admin_user AS "Admin user",
       status AS "Status",
       remarks AS "Remarks",
       hostname, domain_name
  FROM pgsql_node;

CREATE VIEW show_backup_definitions AS
SELECT d.def_id AS "DefID",
       d.registered AS "Registered",
       d.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       d.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       d.dbname AS "DBname",
       d.minutes_cron || ' ' || d.hours_cron || ' ' || d.day_month_cron || ' '
         || d.month_cron || ' ' || d.weekday_cron AS "Schedule",
       d.backup_code AS "Code",
       d.encryption AS "Encryption",
       coalesce(d.backup_compression,
                (SELECT nc.value FROM pgsql_node_config nc
                  WHERE nc.node_id = d.pgsql_node_id AND nc.parameter = 'backup_compression')
                || ' (node)', 'gzip:6 (node)') AS "Compression",
       d.retention_period::text || ' (' || d.retention_redundancy::text || ')' AS "Retention",
       d.job_status AS "Status",
       d.extra_backup_parameters AS "Parameters",
       (SELECT date_trunc('second', max(r.finished)) FROM restore_drill_run r
         WHERE r.def_id = d.def_id AND r.execution_status = 'SUCCEEDED') AS "Last drill",
       d.def_id, d.backup_server_id, d.pgsql_node_id, d.dbname
  FROM backup_definition d
  JOIN backup_server bs ON bs.server_id = d.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = d.pgsql_node_id;

CREATE VIEW show_empty_backup_catalogs AS
SELECT *
  FROM show_backup_definitions d
 WHERE NOT EXISTS (SELECT 1 FROM backup_catalog c WHERE c.def_id = d.def_id);

CREATE VIEW show_backup_catalog AS
SELECT c.bck_id AS "BckID",
       c.def_id AS "DefID",
       c.snapshot_id AS "SnapshotID",
       date_trunc('second', c.finished) AS "Finished",
       c.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       c.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       c.dbname AS "DBname",
       date_trunc('second', c.duration)::text AS "Duration",
       pg_size_pretty((coalesce(c.pg_dump_file_size, 0) + coalesce(c.pg_dump_roles_file_size, 0)
                       + coalesce(c.pg_dump_dbconfig_file_size, 0))::bigint) AS "Size",
       coalesce(c.backup_code, d.backup_code, s.backup_code) AS "Code",
       c.execution_method AS "Execution",
       c.execution_status AS "Status",
       c.offsite_status AS "Offsite",
       coalesce(c.integrity, '') AS "Integrity",
       c.bck_id, c.def_id, c.finished, c.backup_server_id, c.pgsql_node_id, c.dbname,
       c.execution_status
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = c.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
  LEFT JOIN snapshot_definition s ON s.snapshot_id = c.snapshot_id;

CREATE VIEW show_backup_details AS
SELECT c.bck_id, c.procpid, date_trunc('second', c.registered) AS registered,
       date_trunc('second', c.started) AS started, date_trunc('second', c.finished) AS finished,
       date_trunc('second', c.duration)::text AS duration,
       date_trunc('second', c.wait_duration)::text AS wait_duration,
       pg_size_pretty((coalesce(c.pg_dump_file_size, 0) + coalesce(c.pg_dump_roles_file_size, 0)
                       + coalesce(c.pg_dump_dbconfig_file_size, 0))::bigint) AS total_size,
       c.execution_method, c.execution_status, c.def_id, c.snapshot_id, c.dbname,
       c.backup_server_id, bs.hostname || '.' || bs.domain_name AS backup_server,
       c.pgsql_node_id, pn.hostname || '.' || pn.domain_name AS pgsql_node,
       c.pgsql_node_release, c.pg_dump_release,
       CASE WHEN d.def_id IS NOT NULL THEN
         d.minutes_cron || ' ' || d.hours_cron || ' ' || d.day_month_cron || ' '
         || d.month_cron || ' ' || d.weekday_cron END AS schedule,
       to_char(s.at_time, 'YYYY-MM-DD HH24:MI:SS') AS at_time,
       coalesce(d.retention_period, s.retention_period)::text
         || coalesce(' (' || d.retention_redundancy::text || ')', '') AS retention,
       coalesce(c.backup_code, d.backup_code, s.backup_code) AS backup_code,
       coalesce(d.extra_backup_parameters, s.extra_backup_parameters) AS extra_parameters,
       c.excluded_tables, c.compression, c.encrypted, c.encryption_recipients,
       c.pg_dump_file, pg_size_pretty(coalesce(c.pg_dump_file_size, 0)) AS pg_dump_file_size,
       c.pg_dump_log_file, c.role_list,
       c.pg_dump_roles_file, pg_size_pretty(coalesce(c.pg_dump_roles_file_size, 0)) AS roles_size,
       c.pg_dump_roles_log_file,
       c.pg_dump_dbconfig_file,
       pg_size_pretty(coalesce(c.pg_dump_dbconfig_file_size, 0)) AS dbconfig_size,
       c.pg_dump_dbconfig_log_file, c.pg_dump_manifest_file, c.checksum,
       c.integrity, date_trunc('second', c.integrity_checked) AS integrity_checked,
       c.integrity_detail,
       date_trunc('second', c.finished + coalesce(d.retention_period, s.retention_period))
         AS on_disk_until,
       date_trunc('second', c.local_deleted_at) AS local_deleted_at,
       c.offsite_status, c.offsite_location, c.offsite_endpoint,
       date_trunc('second', c.offsite_updated) AS offsite_updated, c.offsite_error,
       c.error_message, c.run_uuid, c.global_log_file
  FROM backup_catalog c
  JOIN backup_server bs ON bs.server_id = c.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = c.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = c.def_id
  LEFT JOIN snapshot_definition s ON s.snapshot_id = c.snapshot_id;

CREATE VIEW show_snapshot_definitions AS
SELECT s.snapshot_id AS "SnapshotID",
       date_trunc('second', s.registered) AS "Registered",
       s.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       s.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       s.dbname AS "DBname",
       to_char(s.at_time, 'YYYYMMDDHH24MI') AS "AT time",
       s.backup_code || coalesce(' [' || nullif(s.pg_dump_release, '') || ']', '') AS "Code",
       s.encryption AS "Encryption",
       coalesce(s.backup_compression,
                (SELECT nc.value FROM pgsql_node_config nc
                  WHERE nc.node_id = s.pgsql_node_id AND nc.parameter = 'backup_compression')
                || ' (node)', 'gzip:6 (node)') AS "Compression",
       s.retention_period::text AS "Retention",
       s.extra_backup_parameters AS "Parameters",
       s.remarks AS "Tag",
       s.status AS "Status",
       s.snapshot_id, s.backup_server_id, s.pgsql_node_id, s.dbname, s.at_time
  FROM snapshot_definition s
  JOIN backup_server bs ON bs.server_id = s.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = s.pgsql_node_id;

CREATE VIEW show_snapshots_in_progress AS
SELECT s.snapshot_id AS "SnapshotID",
       date_trunc('second', s.registered) AS "Registered",
       s.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       s.pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "PgSQL node",
       s.dbname AS "DBname",
       to_char(s.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       s.backup_code AS "Code",
       CASE WHEN s.at_time > now() THEN 'not started'
            ELSE date_trunc('second', now() - s.at_time)::text END AS "Elapsed time",
       s.snapshot_id, s.backup_server_id, s.pgsql_node_id, s.dbname, s.at_time
  FROM snapshot_definition s
  JOIN backup_server bs ON bs.server_id = s.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = s.pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM backup_catalog c WHERE c.snapshot_id = s.snapshot_id);

CREATE VIEW show_restore_definitions AS
SELECT r.restore_def AS "RestoreDef",
       date_trunc('second', r.registered) AS "Registered",
       r.bck_id AS "BckID",
       r.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       r.target_pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "Target PgSQL node",
       r.target_dbname AS "Target DBname",
       r.renamed_dbname AS "Renamed database",
       to_char(r.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       r.extra_restore_parameters AS "Extra parameters",
       r.status AS "Status",
       r.restore_def, r.backup_server_id, r.target_pgsql_node_id, r.target_dbname, r.at_time
  FROM restore_definition r
  JOIN backup_server bs ON bs.server_id = r.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = r.target_pgsql_node_id;

CREATE VIEW show_restore_catalog AS
SELECT rc.restore_id AS "RestoreID",
       rc.restore_def AS "RestoreDef",
       rd.bck_id AS "BckID",
       date_trunc('second', rc.finished) AS "Finished",
       rc.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       rc.target_pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "Target PgSQL node",
       rc.target_dbname AS "Target DBname",
       rc.renamed_dbname AS "Renamed DBname",
       date_trunc('second', rc.duration)::text AS "Duration",
       rc.execution_status AS "Status",
       rc.restore_id, rc.finished, rc.backup_server_id, rc.target_pgsql_node_id,
       rc.target_dbname
  FROM restore_catalog rc
  LEFT JOIN restore_definition rd ON rd.restore_def = rc.restore_def
  JOIN backup_server bs ON bs.server_id = rc.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = rc.target_pgsql_node_id;

CREATE VIEW show_restore_details AS
SELECT rc.restore_id, rc.procpid, date_trunc('second', rc.registered) AS registered,
       date_trunc('second', rc.started) AS started, date_trunc('second', rc.finished) AS finished,
       date_trunc('second', rc.duration)::text AS duration, rc.execution_status,
       rd.bck_id, rc.source_dbname, rc.target_dbname, rc.renamed_dbname, rc.role_list,
       rc.backup_server_id, bs.hostname || '.' || bs.domain_name AS backup_server,
       rc.target_pgsql_node_id, pn.hostname || '.' || pn.domain_name AS target_pgsql_node,
       rc.backup_pg_release, rc.target_pgsql_node_release,
       to_char(rd.at_time, 'YYYY-MM-DD HH24:MI:SS') AS at_time,
       rd.extra_restore_parameters, rc.restore_log_file, rc.global_log_file, rc.error_message,
       rc.restore_def, rc.run_uuid
  FROM restore_catalog rc
  LEFT JOIN restore_definition rd ON rd.restore_def = rc.restore_def
  JOIN backup_server bs ON bs.server_id = rc.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = rc.target_pgsql_node_id;

CREATE VIEW show_restores_in_progress AS
SELECT r.restore_def AS "RestoreDef",
       date_trunc('second', r.registered) AS "Registered",
       r.bck_id AS "BckID",
       r.backup_server_id AS "ID.",
       bs.hostname || '.' || bs.domain_name AS "Backup server",
       r.target_pgsql_node_id AS "ID",
       pn.hostname || '.' || pn.domain_name AS "Target PgSQL node",
       r.target_dbname AS "Target DBname",
       to_char(r.at_time, 'YYYY-MM-DD HH24:MI:SS') AS "AT time",
       CASE WHEN r.at_time > now() THEN 'not started'
            ELSE date_trunc('second', now() - r.at_time)::text END AS "Elapsed time",
       r.restore_def, r.backup_server_id, r.target_pgsql_node_id, r.target_dbname, r.at_time
  FROM restore_definition r
  JOIN backup_server bs ON bs.server_id = r.backup_server_id
  JOIN pgsql_node pn ON pn.node_id = r.target_pgsql_node_id
 WHERE NOT EXISTS (SELECT 1 FROM restore_catalog rc WHERE rc.restore_def = r.restore_def);

CREATE VIEW show_jobs_queue AS
SELECT q.id AS "JobID",
       q.registered AS "Registered",
       q.backup_server_id AS "SrvID",
       s.hostname || '.' || s.domain_name AS "Backup server",
       q.pgsql_node_id AS "NodeID",
       n.hostname || '.' || n.domain_name AS "PgSQL node",
       q.is_assigned AS "Assigned"
  FROM job_queue q
  JOIN backup_server s ON s.server_id = q.backup_server_id
  JOIN pgsql_node n ON n.node_id = q.pgsql_node_id;

CREATE VIEW show_backup_server_config AS
SELECT server_id,
       parameter AS "Parameter",
       value AS "Value",
       description AS "Description"
  FROM backup_server_config;

CREATE VIEW show_pgsql_node_config AS
SELECT node_id,
       parameter AS "Parameter",
       value AS "Value",
       description AS "Description"
  FROM pgsql_node_config;

-- ------------------------------------------------------------------ maintenance views

CREATE VIEW get_catalog_entries_to_delete AS
SELECT del_id, registered, def_id, bck_id, backup_server_id, pgsql_node_id, dbname, backup_code,
       snapshot_id, pg_dump_file, pg_dump_log_file, pg_dump_roles_file, pg_dump_roles_log_file,
       pg_dump_dbconfig_file, pg_dump_dbconfig_log_file, pg_dump_manifest_file
  FROM catalog_entries_to_delete
 ORDER BY del_id;

CREATE VIEW get_restore_logs_to_delete AS
SELECT del_id, registered, backup_server_id, restore_log_file, restore_def, target_pgsql_node_id,
       target_dbname, restore_job
  FROM restore_logs_to_delete
 ORDER BY del_id;

-- D26/D27/D35: retention is decided by pgbackman/core/retention.py on the rows that the
-- queries of pgbackman/catalog/maintenance.py read (one owner per rule); the catalog's own
-- floor is in delete_backup_catalog(). No retention views.

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
       lr.size_bytes AS last_run_size_bytes,
       (SELECT max(r.finished) FROM restore_drill_run r
         WHERE r.def_id = d.def_id AND r.execution_status = 'SUCCEEDED') AS last_drill_success_finished,
       EXISTS (SELECT 1 FROM restore_drill r WHERE r.def_id = d.def_id) AS has_restore_drill
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

-- Offsite copies per backup server and status, for the monitoring programs (readable by
-- pgbackman_role_ro): how many, and when the oldest of them got that status.
CREATE VIEW offsite_copy_summary AS
SELECT backup_server_id,
       offsite_status,
       count(*) AS copies,
       min(offsite_updated) AS oldest
  FROM backup_catalog
 WHERE offsite_status IS NOT NULL
 GROUP BY backup_server_id, offsite_status;

-- Restore drills: the definition, the drill node and the newest run.
CREATE VIEW show_restore_drills AS
SELECT r.drill_id AS "DrillID",
       r.def_id AS "DefID",
       d.dbname AS "DBname",
       d.backup_code AS "Code",
       sn.hostname || '.' || sn.domain_name AS "PgSQL node",
       n.hostname || '.' || n.domain_name AS "Drill node",
       r.drill_interval::text AS "Interval",
       r.status AS "Status",
       lr.drill_run_id AS "Last DrillRunID",
       date_trunc('seconds', lr.finished) AS "Last run",
       lr.execution_status AS "Last status",
       (SELECT date_trunc('seconds', max(x.finished)) FROM restore_drill_run x
         WHERE x.drill_id = r.drill_id AND x.execution_status = 'SUCCEEDED') AS "Last success",
       date_trunc('seconds', greatest(r.queued_at, lr.started)) AS "Last started",
       r.queue_status AS "Queued",
       r.remarks AS "Remarks",
       r.drill_id, r.def_id, d.backup_server_id, d.pgsql_node_id, r.drill_node_id, d.dbname,
       r.drill_interval
  FROM restore_drill r
  JOIN backup_definition d ON d.def_id = r.def_id
  JOIN pgsql_node sn ON sn.node_id = d.pgsql_node_id
  JOIN pgsql_node n ON n.node_id = r.drill_node_id
  LEFT JOIN LATERAL (
         SELECT x.drill_run_id, x.started, x.finished, x.execution_status
           FROM restore_drill_run x
          WHERE x.drill_id = r.drill_id
          ORDER BY x.started DESC NULLS LAST, x.drill_run_id DESC
          LIMIT 1) lr ON true;

CREATE VIEW show_restore_drill_details AS
SELECT x.drill_run_id, x.drill_id, x.def_id, x.bck_id, x.procpid, x.dbname, x.scratch_dbname,
       date_trunc('seconds', x.registered) AS registered,
       date_trunc('seconds', x.started) AS started,
       date_trunc('seconds', x.finished) AS finished,
       date_trunc('seconds', x.duration)::text AS duration,
       x.execution_status, x.checks, x.roles_created, x.error_message, x.drill_log_file,
       x.global_log_file, x.run_uuid,
       x.backup_server_id, s.hostname || '.' || s.domain_name AS backup_server,
       x.drill_node_id, n.hostname || '.' || n.domain_name AS drill_node,
       b.finished AS backup_finished, b.pg_dump_file AS backup_file,
       d.pgsql_node_id, sn.hostname || '.' || sn.domain_name AS pgsql_node
  FROM restore_drill_run x
  JOIN backup_server s ON s.server_id = x.backup_server_id
  JOIN pgsql_node n ON n.node_id = x.drill_node_id
  LEFT JOIN backup_catalog b ON b.bck_id = x.bck_id
  LEFT JOIN backup_definition d ON d.def_id = x.def_id
  LEFT JOIN pgsql_node sn ON sn.node_id = d.pgsql_node_id;

-- One row per restore drill with what monitoring judges (pgbackman/core/drillhealth.py:
-- a failed newest run, an overdue drill): the drill's, its definition's and its drill
-- node's status, whether the definition has a SUCCEEDED backup to drill, and the newest
-- run (by started, as show_restore_drills). Read by pgbackman_check and pgbackman_metrics
-- (pgbackman_role_ro is enough).
CREATE VIEW restore_drill_health AS
SELECT r.drill_id,
       r.def_id,
       r.registered AS drill_registered,
       r.drill_interval,
       r.status AS drill_status,
       d.job_status,
       d.backup_server_id,
       d.pgsql_node_id,
       sn.hostname || '.' || sn.domain_name AS pgsql_node_fqdn,
       d.dbname,
       r.drill_node_id,
       n.hostname || '.' || n.domain_name AS drill_node_fqdn,
       n.status AS drill_node_status,
       EXISTS (SELECT 1 FROM backup_catalog b
                WHERE b.def_id = r.def_id AND b.execution_status = 'SUCCEEDED') AS has_successful_backup,
       lr.drill_run_id AS last_run_id,
       lr.bck_id AS last_run_bck_id,
       lr.started AS last_run_started,
       lr.finished AS last_run_finished,
       lr.execution_status AS last_run_status,
       lr.error_message AS last_run_error
  FROM restore_drill r
  JOIN backup_definition d ON d.def_id = r.def_id
  JOIN pgsql_node sn ON sn.node_id = d.pgsql_node_id
  JOIN pgsql_node n ON n.node_id = r.drill_node_id
  LEFT JOIN LATERAL (
         SELECT x.drill_run_id, x.bck_id, x.started, x.finished, x.execution_status,
                x.error_message
           FROM restore_drill_run x
          WHERE x.drill_id = r.drill_id
          ORDER BY x.started DESC NULLS LAST, x.drill_run_id DESC
          LIMIT 1) lr ON true;

-- Disk usage: the newest measurement of each (server, node partition) ...
CREATE VIEW disk_usage_latest AS
SELECT DISTINCT ON (u.backup_server_id, u.pgsql_node_id)
       u.backup_server_id, s.hostname || '.' || s.domain_name AS backup_server,
       u.pgsql_node_id, n.hostname || '.' || n.domain_name AS pgsql_node,
       u.measured, u.partition_path, u.fs_id, u.fs_path, u.fs_size_bytes, u.fs_free_bytes,
       u.disk_bytes, u.other_bytes, u.job_bytes
  FROM disk_usage u
  JOIN backup_server s ON s.server_id = u.backup_server_id
  JOIN pgsql_node n ON n.node_id = u.pgsql_node_id
 ORDER BY u.backup_server_id, u.pgsql_node_id, u.day DESC;

-- ... the history of the last 30 days (growth) ...
CREATE VIEW disk_usage_history AS
SELECT u.backup_server_id, u.pgsql_node_id, u.day, u.measured, u.fs_id, u.disk_bytes
  FROM disk_usage u
 WHERE u.measured >= now() - interval '30 days';

-- ... and what the catalog says each definition or snapshot stores on its backup server
-- (files of its backups; a row kept only for its offsite copy holds none).
CREATE VIEW backup_catalog_usage AS
SELECT a.backup_server_id, s.hostname || '.' || s.domain_name AS backup_server,
       a.pgsql_node_id, n.hostname || '.' || n.domain_name AS pgsql_node,
       a.def_id, a.snapshot_id, a.dbname,
       coalesce(a.backup_code, d.backup_code, sn.backup_code) AS backup_code,
       count(a.pg_dump_file) AS backups,
       sum(coalesce(a.pg_dump_file_size, 0) + coalesce(a.pg_dump_roles_file_size, 0)
           + coalesce(a.pg_dump_dbconfig_file_size, 0))::bigint AS catalog_bytes
  FROM backup_catalog a
  JOIN backup_server s ON s.server_id = a.backup_server_id
  JOIN pgsql_node n ON n.node_id = a.pgsql_node_id
  LEFT JOIN backup_definition d ON d.def_id = a.def_id
  LEFT JOIN snapshot_definition sn ON sn.snapshot_id = a.snapshot_id
 WHERE a.local_deleted_at IS NULL
 GROUP BY a.backup_server_id, s.hostname, s.domain_name, a.pgsql_node_id, n.hostname,
          n.domain_name, a.def_id, a.snapshot_id, a.dbname,
          coalesce(a.backup_code, d.backup_code, sn.backup_code);
