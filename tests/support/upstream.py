"""A PgBackMan 1.x catalog, built for the upgrade tests from upstream-behaviour.md §1.

The catalog is what a site running upstream has today: roles ``pgbackman_role_rw`` (owner
of the database and of every object, no GRANTs) and ``pgbackman_role_ro``; the tables,
defaults, code rows and version rows of schema version 1 (1.0.0), 2 (1.1.0), 3 (1.2.0) or
4 (master after 1.2.0); and functions, triggers and views that write rows the way upstream's
did (default configuration copied by triggers with ``%%pgnode%%`` replaced, job queue rows,
``pgsql_node_stopped`` rows, an alert per failed backup from 1.1 on, missing files recorded
as the literal ``'None'`` with size 0). The functions are written from the specification for
these tests (same names, arguments and effects), not copied from upstream.

:func:`write_legacy_backup` puts real dump files on disk in upstream's layout: a
``pg_dump --format=d`` directory named ``...-DATABASE.sql`` (1.1+) or a ``--format=c`` file
(1.0), the ``-USERS.sql`` and ``-DBCONFIG.sql`` files extracted from ``pg_dumpall`` output
with upstream's line filters (§4.5), and the three log files.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAGS = {1: "v_1_0_0", 2: "v_1_1_0", 3: "v_1_2_0", 4: "v_1_3_0"}


def _bin_rows(version: int) -> list[tuple[str, str]]:
    majors = ["9_0", "9_1", "9_2", "9_3", "9_4"]
    if version >= 3:
        majors += ["9_5", "9_6"]
    if version >= 4:
        majors += ["10"]
    return [(f"pgsql_bin_{m}", f"/usr/pgsql-{m.replace('_', '.')}/bin") for m in majors]


def schema_sql(version: int, version_rows: list[int] | None = None) -> str:
    """The objects of an upstream catalog of ``version`` (run inside the database, as rw)."""
    v = version
    rows = version_rows if version_rows is not None else list(range(1, v + 1))
    snapshot_release = "  pg_dump_release TEXT DEFAULT NULL,\n" if v >= 2 else ""
    catalog_release = "  pg_dump_release TEXT,\n" if v >= 2 else ""
    parts = [
        f"""
CREATE TABLE backup_server(
  server_id SERIAL NOT NULL,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  hostname TEXT NOT NULL,
  domain_name TEXT NOT NULL,
  status CHARACTER VARYING(20) DEFAULT 'RUNNING' NOT NULL,
  remarks TEXT
);
ALTER TABLE backup_server ADD PRIMARY KEY (hostname, domain_name);
CREATE UNIQUE INDEX ON backup_server(server_id);
CREATE INDEX ON backup_server(status);

CREATE TABLE pgsql_node(
  node_id BIGSERIAL NOT NULL,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  hostname TEXT NOT NULL,
  domain_name TEXT NOT NULL,
  pgport INTEGER DEFAULT '5432' NOT NULL,
  admin_user TEXT DEFAULT 'postgres' NOT NULL,
  pg_version CHARACTER VARYING(5),
  status CHARACTER VARYING(20) DEFAULT 'STOPPED' NOT NULL,
  remarks TEXT
);
ALTER TABLE pgsql_node ADD PRIMARY KEY (hostname, domain_name, pgport);
CREATE UNIQUE INDEX ON pgsql_node(node_id);
CREATE INDEX ON pgsql_node(status);

CREATE TABLE pgsql_node_to_delete(
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  backup_server_id INTEGER NOT NULL,
  pgsql_node_id BIGINT NOT NULL,
  PRIMARY KEY (backup_server_id, pgsql_node_id)
);
CREATE TABLE pgsql_node_stopped(
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  pgsql_node_id BIGINT NOT NULL PRIMARY KEY
);

CREATE TABLE server_status(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);
CREATE TABLE backup_code(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);
CREATE TABLE job_definition_status(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);
CREATE TABLE job_execution_status(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);
CREATE TABLE job_execution_method(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);
CREATE TABLE at_definition_status(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);

CREATE TABLE backup_server_default_config(parameter TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, description TEXT);
CREATE TABLE pgsql_node_default_config(parameter TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, description TEXT);

CREATE TABLE job_queue(
  id BIGSERIAL,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  backup_server_id INTEGER NOT NULL,
  pgsql_node_id INTEGER NOT NULL,
  is_assigned BOOLEAN NOT NULL DEFAULT 'f',
  PRIMARY KEY (backup_server_id, pgsql_node_id, is_assigned)
);

CREATE TABLE backup_definition(
  def_id BIGSERIAL UNIQUE,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  backup_server_id INTEGER NOT NULL,
  pgsql_node_id INTEGER NOT NULL,
  dbname TEXT NOT NULL,
  minutes_cron CHARACTER VARYING(255) DEFAULT '*',
  hours_cron CHARACTER VARYING(255) DEFAULT '*',
  day_month_cron CHARACTER VARYING(255) DEFAULT '*',
  month_cron CHARACTER VARYING(255) DEFAULT '*',
  weekday_cron CHARACTER VARYING(255) DEFAULT '*',
  backup_code CHARACTER VARYING(10) NOT NULL,
  encryption boolean DEFAULT false NOT NULL,
  retention_period interval DEFAULT '7 days'::interval NOT NULL,
  retention_redundancy integer DEFAULT 1 NOT NULL,
  extra_backup_parameters TEXT DEFAULT '',
  job_status CHARACTER VARYING(20) NOT NULL,
  remarks TEXT,
  PRIMARY KEY (backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron, day_month_cron,
               month_cron, weekday_cron, backup_code, extra_backup_parameters)
);
CREATE INDEX ON backup_definition(backup_server_id);
CREATE INDEX ON backup_definition(pgsql_node_id);
CREATE INDEX ON backup_definition(dbname);

CREATE TABLE snapshot_definition(
  snapshot_id BIGSERIAL UNIQUE,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  backup_server_id INTEGER NOT NULL,
  pgsql_node_id INTEGER NOT NULL,
  dbname TEXT NOT NULL,
  at_time TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  backup_code CHARACTER VARYING(10) NOT NULL,
  encryption boolean DEFAULT false NOT NULL,
  retention_period interval DEFAULT '7 days'::interval NOT NULL,
  extra_backup_parameters TEXT DEFAULT '',
  status TEXT DEFAULT 'WAITING',
  remarks TEXT,
{snapshot_release}  PRIMARY KEY (backup_server_id, pgsql_node_id, dbname, at_time, backup_code, extra_backup_parameters)
);

CREATE TABLE backup_catalog(
  bck_id BIGSERIAL PRIMARY KEY,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  def_id BIGINT DEFAULT NULL,
  snapshot_id BIGINT DEFAULT NULL,
  procpid INTEGER,
  backup_server_id INTEGER NOT NULL,
  pgsql_node_id INTEGER NOT NULL,
  dbname TEXT NOT NULL,
  started TIMESTAMP WITH TIME ZONE,
  finished TIMESTAMP WITH TIME ZONE,
  duration INTERVAL,
  pg_dump_file TEXT,
  pg_dump_file_size BIGINT,
  pg_dump_log_file TEXT,
  pg_dump_roles_file TEXT,
  pg_dump_roles_file_size BIGINT,
  pg_dump_roles_log_file TEXT,
  pg_dump_dbconfig_file TEXT,
  pg_dump_dbconfig_file_size BIGINT,
  pg_dump_dbconfig_log_file TEXT,
  global_log_file TEXT NOT NULL,
  execution_status TEXT,
  execution_method TEXT,
  error_message TEXT,
  role_list TEXT[],
  pgsql_node_release TEXT,
{catalog_release}  checksum TEXT,
  dbname_size BIGINT
);
CREATE INDEX ON backup_catalog(def_id);
CREATE INDEX ON backup_catalog(snapshot_id);
CREATE INDEX ON backup_catalog(backup_server_id);
CREATE INDEX ON backup_catalog(pgsql_node_id);
CREATE INDEX ON backup_catalog(dbname);

CREATE TABLE restore_definition(
  restore_def BIGSERIAL UNIQUE,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  bck_id BIGINT NOT NULL,
  roles_to_restore TEXT[],
  backup_server_id INTEGER NOT NULL,
  target_pgsql_node_id INTEGER NOT NULL,
  target_dbname TEXT NOT NULL,
  renamed_dbname TEXT,
  extra_restore_parameters TEXT,
  at_time TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  status TEXT DEFAULT 'WAITING',
  error_message TEXT,
  remarks TEXT,
  PRIMARY KEY (target_pgsql_node_id, target_dbname, at_time)
);

CREATE TABLE restore_catalog(
  restore_id BIGSERIAL PRIMARY KEY,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  restore_def BIGINT,
  procpid INTEGER,
  backup_server_id INTEGER NOT NULL,
  target_pgsql_node_id INTEGER NOT NULL,
  source_dbname TEXT NOT NULL,
  target_dbname TEXT NOT NULL,
  renamed_dbname TEXT,
  started TIMESTAMP WITH TIME ZONE,
  finished TIMESTAMP WITH TIME ZONE,
  duration INTERVAL,
  restore_log_file TEXT,
  global_log_file TEXT NOT NULL,
  execution_status TEXT,
  error_message TEXT,
  role_list TEXT[],
  target_pgsql_node_release TEXT,
  backup_pg_release TEXT
);

CREATE TABLE catalog_entries_to_delete(
  del_id BIGSERIAL PRIMARY KEY,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  def_id BIGINT NOT NULL,
  bck_id BIGINT NOT NULL,
  backup_server_id INTEGER NOT NULL,
  pg_dump_file TEXT,
  pg_dump_log_file TEXT,
  pg_dump_roles_file TEXT,
  pg_dump_roles_log_file TEXT,
  pg_dump_dbconfig_file TEXT,
  pg_dump_dbconfig_log_file TEXT
);
CREATE INDEX ON catalog_entries_to_delete(backup_server_id);

CREATE TABLE restore_logs_to_delete(
  del_id BIGSERIAL PRIMARY KEY,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  backup_server_id INTEGER NOT NULL,
  restore_log_file TEXT NOT NULL
);

CREATE TABLE backup_server_config(
  server_id INTEGER NOT NULL REFERENCES backup_server (server_id),
  parameter TEXT NOT NULL,
  value TEXT NOT NULL,
  description TEXT,
  PRIMARY KEY (server_id, parameter)
);
CREATE TABLE pgsql_node_config(
  node_id BIGINT NOT NULL REFERENCES pgsql_node (node_id),
  parameter TEXT NOT NULL,
  value TEXT NOT NULL,
  description TEXT,
  PRIMARY KEY (node_id, parameter)
);

CREATE TABLE pgbackman_version(
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  version INTEGER NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (version, tag)
);

ALTER TABLE ONLY backup_server ADD FOREIGN KEY (status) REFERENCES server_status(code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY pgsql_node ADD FOREIGN KEY (status) REFERENCES server_status(code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY job_queue ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY job_queue ADD FOREIGN KEY (pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_definition ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_definition ADD FOREIGN KEY (pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_definition ADD FOREIGN KEY (backup_code) REFERENCES backup_code (code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_definition ADD FOREIGN KEY (job_status) REFERENCES job_definition_status(code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY snapshot_definition ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY snapshot_definition ADD FOREIGN KEY (pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY snapshot_definition ADD FOREIGN KEY (backup_code) REFERENCES backup_code (code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY snapshot_definition ADD FOREIGN KEY (status) REFERENCES at_definition_status(code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_catalog ADD FOREIGN KEY (def_id) REFERENCES backup_definition (def_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_catalog ADD FOREIGN KEY (snapshot_id) REFERENCES snapshot_definition (snapshot_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_catalog ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_catalog ADD FOREIGN KEY (pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_catalog ADD FOREIGN KEY (execution_status) REFERENCES job_execution_status (code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY backup_catalog ADD FOREIGN KEY (execution_method) REFERENCES job_execution_method (code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY restore_definition ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY restore_definition ADD FOREIGN KEY (target_pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY restore_definition ADD FOREIGN KEY (bck_id) REFERENCES backup_catalog (bck_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY restore_definition ADD FOREIGN KEY (status) REFERENCES at_definition_status(code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY restore_catalog ADD FOREIGN KEY (restore_def) REFERENCES restore_definition (restore_def) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY restore_catalog ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY restore_catalog ADD FOREIGN KEY (target_pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY restore_catalog ADD FOREIGN KEY (execution_status) REFERENCES job_execution_status (code) MATCH FULL ON DELETE RESTRICT;

INSERT INTO server_status VALUES ('RUNNING', 'Server is active and running'), ('STOPPED', 'Server is stopped');
INSERT INTO backup_code VALUES
  ('FULL', 'Full Backup of a database. Schema + data + owner globals + db_parameters'),
  ('SCHEMA', 'Schema backup of a database. Schema + owner globals + db_parameters'),
  ('DATA', 'Data backup of the database.'),
  ('CLUSTER', 'Full backup of the database cluster.'),
  ('CONFIG', 'Backup of the configuration files');
INSERT INTO job_definition_status VALUES ('ACTIVE', 'Backup job activated and in production'),
                                         ('STOPPED', 'Backup job stopped');
INSERT INTO job_execution_status VALUES ('SUCCEEDED', 'Job finnished without errors'),
  ('ERROR', 'Job finnished with an error'), ('WARNING', 'Job finnished with a warning');
INSERT INTO job_execution_method VALUES ('CRON', 'Cron job'), ('AT', 'At job');
INSERT INTO at_definition_status VALUES ('WAITING', 'Waiting to define an AT job'),
  ('DEFINED', 'AT job defined'), ('ERROR', 'Could not define an AT job');

INSERT INTO backup_server_default_config (parameter, value, description) VALUES
  ('root_backup_partition', '/srv/pgbackman', 'Main partition used by pgbackman'),
  ('root_cron_file', '/etc/cron.d/pgbackman', 'Crontab file used by pgbackman *Not used*'),
  ('domain', 'example.org', 'Default domain'),
  ('backup_server_status', 'RUNNING', 'Default backup server status - *Not used*'),
  ('pgbackman_dump', '/usr/bin/pgbackman_dump', 'Program used to take backup dumps'),
  ('pgbackman_restore', '/usr/bin/pgbackman_restore', 'Program used to restore backup dumps'),
  ('admin_user', 'postgres', 'postgreSQL admin user');

INSERT INTO pgsql_node_default_config (parameter, value, description) VALUES
  ('pgnode_backup_partition', '/srv/pgbackman/pgsql_node_%%pgnode%%', 'Partition to save pgbackman information for a pgsql node'),
  ('pgnode_crontab_file', '/etc/cron.d/pgsql_node_%%pgnode%%', 'Crontab file for pgsql node in the backup server'),
  ('encryption', 'false', 'GnuPG encryption - *Not used*'),
  ('retention_period', '7 days', 'Retention period for a backup job'),
  ('retention_redundancy', '1', 'Retention redundancy for a backup job'),
  ('pgport', '5432', 'postgreSQL port'),
  ('admin_user', 'postgres', 'postgreSQL admin user'),
  ('domain', 'example.org', 'Default domain'),
  ('pgsql_node_status', 'STOPPED', 'pgsql node status'),
  ('backup_job_status', 'ACTIVE', 'Backup job status'),
  ('backup_code', 'FULL', 'Backup job code'),
  ('backup_minutes_interval', '01-59', 'Backup minutes interval'),
  ('backup_hours_interval', '01-06', 'Backup hours interval'),
  ('backup_day_month_cron', '*', 'Backup day_month cron default'),
  ('backup_month_cron', '*', 'Backup month cron default'),
  ('backup_weekday_cron', '*', 'Backup weekday cron default'),
  ('extra_backup_parameters', '', 'Extra backup parameters'),
  ('extra_restore_parameters', '', 'Extra restore parameters'),
  ('logs_email', 'example@example.org', 'E-mail to send logs');
"""
    ]
    parts.append(
        "INSERT INTO backup_server_default_config (parameter, value, description) VALUES\n"
        + ",\n".join(
            f"  ('{p}', '{val}', 'postgreSQL {p[10:].replace('_', '.')} bin directory')"
            for p, val in _bin_rows(v)
        )
        + ";\n"
    )
    if v >= 2:
        parts.append(
            """
CREATE TABLE alerts(
  alert_id BIGSERIAL PRIMARY KEY,
  registered TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  alert_type TEXT NOT NULL,
  ref_id BIGINT NOT NULL,
  bck_id BIGINT NOT NULL,
  backup_server_id INTEGER NOT NULL,
  pgsql_node_id INTEGER NOT NULL,
  dbname TEXT NOT NULL,
  execution_status TEXT,
  error_message TEXT,
  sendto TEXT NOT NULL,
  alert_sent BOOLEAN DEFAULT 'FALSE'
);
CREATE INDEX ON alerts(registered);
CREATE INDEX ON alerts(alert_sent);
CREATE TABLE alert_type(code CHARACTER VARYING(20) NOT NULL PRIMARY KEY, description TEXT);
ALTER TABLE ONLY alerts ADD FOREIGN KEY (backup_server_id) REFERENCES backup_server (server_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY alerts ADD FOREIGN KEY (pgsql_node_id) REFERENCES pgsql_node (node_id) MATCH FULL ON DELETE CASCADE;
ALTER TABLE ONLY alerts ADD FOREIGN KEY (execution_status) REFERENCES job_execution_status (code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY alerts ADD FOREIGN KEY (alert_type) REFERENCES alert_type (code) MATCH FULL ON DELETE RESTRICT;
ALTER TABLE ONLY alerts ADD FOREIGN KEY (bck_id) REFERENCES backup_catalog (bck_id) MATCH FULL ON DELETE CASCADE;
INSERT INTO alert_type VALUES ('Backup-def', 'Alerts from failed backup definitions'),
  ('Snapshot-def', 'Alerts from failed snapshot definitions'),
  ('Restore-def', 'Alerts from failed restore definitions');
INSERT INTO pgsql_node_default_config (parameter, value, description) VALUES
  ('automatic_deletion_retention', '14 days', 'Retention after automatic deletion of a backup definition');
INSERT INTO job_definition_status VALUES
  ('DELETED', 'Backup job automatically deleted after dbname has been deleted in a PgSQL node ');
"""
        )
    if v >= 4:
        parts.append(
            "INSERT INTO backup_code VALUES ('RDS', 'Only runs a pg_dump of the data so that "
            "it does not try to access globals that postgres cannot access on RDS');\n"
        )
    parts.append(_functions_sql(v))
    parts.append(_views_sql())
    for n in rows:
        parts.append(
            f"INSERT INTO pgbackman_version (version, tag) VALUES ('{n}', '{TAGS[n]}');\n"
        )
    return "BEGIN;\n" + "".join(parts) + "COMMIT;\n"


def _functions_sql(v: int) -> str:
    """Functions and triggers with upstream's names, arguments and effects (§1.4, §1.5)."""
    release_arg = ", TEXT" if v >= 2 else ""
    release_col = ", pg_dump_release" if v >= 2 else ""
    release_val = ", $25" if v >= 2 else ""
    snap_release_col = ", pg_dump_release" if v >= 2 else ""
    snap_release_val = ", $9" if v >= 2 else ""
    sql = f"""
CREATE OR REPLACE FUNCTION get_default_backup_server_parameter(TEXT) RETURNS TEXT
 LANGUAGE sql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$ SELECT value FROM backup_server_default_config WHERE parameter = $1 $$;
CREATE OR REPLACE FUNCTION get_default_pgsql_node_parameter(TEXT) RETURNS TEXT
 LANGUAGE sql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$ SELECT value FROM pgsql_node_default_config WHERE parameter = $1 $$;
CREATE OR REPLACE FUNCTION get_backup_server_fqdn(INTEGER) RETURNS TEXT
 LANGUAGE sql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$ SELECT hostname || '.' || domain_name FROM backup_server WHERE server_id = $1 $$;
CREATE OR REPLACE FUNCTION get_pgsql_node_fqdn(INTEGER) RETURNS TEXT
 LANGUAGE sql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$ SELECT hostname || '.' || domain_name FROM pgsql_node WHERE node_id = $1 $$;

CREATE OR REPLACE FUNCTION register_backup_server(TEXT, TEXT, TEXT, TEXT) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO backup_server (hostname, domain_name, status, remarks)
   VALUES ($1, coalesce(nullif($2, ''), get_default_backup_server_parameter('domain')),
           coalesce(nullif($3, ''), get_default_backup_server_parameter('backup_server_status')), $4);
 END;
$$;

CREATE OR REPLACE FUNCTION register_pgsql_node(TEXT, TEXT, INTEGER, TEXT, TEXT, TEXT) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO pgsql_node (hostname, domain_name, pgport, admin_user, status, remarks)
   VALUES ($1, coalesce(nullif($2, ''), get_default_pgsql_node_parameter('domain')),
           coalesce(nullif($3, 0), get_default_pgsql_node_parameter('pgport')::integer),
           coalesce(nullif($4, ''), get_default_pgsql_node_parameter('admin_user')),
           coalesce(nullif($5, ''), get_default_pgsql_node_parameter('pgsql_node_status')), $6);
 END;
$$;

CREATE OR REPLACE FUNCTION delete_pgsql_node(INTEGER) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   DELETE FROM pgsql_node_config WHERE node_id = $1;
   DELETE FROM job_queue WHERE pgsql_node_id = $1;
   DELETE FROM pgsql_node WHERE node_id = $1;
 END;
$$;

CREATE OR REPLACE FUNCTION register_backup_definition(INTEGER, INTEGER, TEXT, CHARACTER VARYING,
    CHARACTER VARYING, CHARACTER VARYING, CHARACTER VARYING, CHARACTER VARYING, CHARACTER VARYING,
    BOOLEAN, INTERVAL, INTEGER, TEXT, CHARACTER VARYING, TEXT) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron,
                                  day_month_cron, month_cron, weekday_cron, backup_code, encryption,
                                  retention_period, retention_redundancy, extra_backup_parameters,
                                  job_status, remarks)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15);
 END;
$$;

CREATE OR REPLACE FUNCTION register_snapshot_definition(INTEGER, INTEGER, TEXT, TIMESTAMP,
    CHARACTER VARYING, INTERVAL, TEXT, TEXT{release_arg}) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO snapshot_definition (backup_server_id, pgsql_node_id, dbname, at_time, backup_code,
                                    retention_period, extra_backup_parameters, remarks{snap_release_col})
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8{snap_release_val});
 END;
$$;

CREATE OR REPLACE FUNCTION register_backup_catalog(INTEGER, INTEGER, INTEGER, INTEGER, TEXT,
    TIMESTAMP WITH TIME ZONE, TIMESTAMP WITH TIME ZONE, INTERVAL, TEXT, BIGINT, TEXT, TEXT, BIGINT,
    TEXT, TEXT, BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT, INTEGER, TEXT[], TEXT{release_arg}) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO backup_catalog (def_id, procpid, backup_server_id, pgsql_node_id, dbname, started,
       finished, duration, pg_dump_file, pg_dump_file_size, pg_dump_log_file, pg_dump_roles_file,
       pg_dump_roles_file_size, pg_dump_roles_log_file, pg_dump_dbconfig_file,
       pg_dump_dbconfig_file_size, pg_dump_dbconfig_log_file, global_log_file, execution_status,
       execution_method, error_message, snapshot_id, role_list, pgsql_node_release{release_col})
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
           $20, $21, $22, $23, $24{release_val});
 END;
$$;

CREATE OR REPLACE FUNCTION register_restore_definition(TIMESTAMP, INTEGER, INTEGER, BIGINT, TEXT,
    TEXT, TEXT, TEXT[]) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO restore_definition (at_time, backup_server_id, target_pgsql_node_id, bck_id,
                                   target_dbname, renamed_dbname, extra_restore_parameters,
                                   roles_to_restore)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8);
 END;
$$;

CREATE OR REPLACE FUNCTION register_restore_catalog(INTEGER, INTEGER, INTEGER, INTEGER, TEXT, TEXT,
    TEXT, TIMESTAMP WITH TIME ZONE, TIMESTAMP WITH TIME ZONE, INTERVAL, TEXT, TEXT, TEXT, TEXT,
    TEXT[], TEXT, TEXT) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO restore_catalog (restore_def, procpid, backup_server_id, target_pgsql_node_id,
       source_dbname, target_dbname, renamed_dbname, started, finished, duration, restore_log_file,
       global_log_file, execution_status, error_message, role_list, target_pgsql_node_release,
       backup_pg_release)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17);
 END;
$$;

CREATE OR REPLACE FUNCTION delete_force_backup_definition_id(INTEGER) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   WITH del_catid AS (
     DELETE FROM backup_catalog WHERE def_id = $1
     RETURNING def_id, bck_id, backup_server_id, pg_dump_file, pg_dump_log_file, pg_dump_roles_file,
               pg_dump_roles_log_file, pg_dump_dbconfig_file, pg_dump_dbconfig_log_file
   ), save_catinfo AS (
     INSERT INTO catalog_entries_to_delete (def_id, bck_id, backup_server_id, pg_dump_file,
         pg_dump_log_file, pg_dump_roles_file, pg_dump_roles_log_file, pg_dump_dbconfig_file,
         pg_dump_dbconfig_log_file)
     SELECT * FROM del_catid
   )
   DELETE FROM backup_definition WHERE def_id = $1;
 END;
$$;

CREATE OR REPLACE FUNCTION update_backup_server_configuration() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO backup_server_config (server_id, parameter, value, description)
   SELECT NEW.server_id, parameter, value, description FROM backup_server_default_config;
   RETURN NULL;
 END;
$$;
CREATE TRIGGER update_backup_server_configuration AFTER INSERT ON backup_server
  FOR EACH ROW EXECUTE PROCEDURE update_backup_server_configuration();

CREATE OR REPLACE FUNCTION update_pgsql_node_configuration() RETURNS TRIGGER
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
  FOR EACH ROW EXECUTE PROCEDURE update_pgsql_node_configuration();

-- Upstream bug kept: an update of a node that is already STOPPED violates the primary key.
CREATE OR REPLACE FUNCTION notify_pgsql_node_change() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   IF NEW.status = 'RUNNING' THEN
     DELETE FROM pgsql_node_stopped WHERE pgsql_node_id = NEW.node_id;
     PERFORM pg_notify('channel_pgsql_node_running', 'PgSQL node running');
   ELSIF NEW.status = 'STOPPED' THEN
     INSERT INTO pgsql_node_stopped (pgsql_node_id) VALUES (NEW.node_id);
     PERFORM pg_notify('channel_pgsql_node_stopped', 'PgSQL node stopped');
   END IF;
   RETURN NULL;
 END;
$$;
CREATE TRIGGER notify_pgsql_node_change AFTER INSERT OR UPDATE ON pgsql_node
  FOR EACH ROW EXECUTE PROCEDURE notify_pgsql_node_change();

CREATE OR REPLACE FUNCTION update_pgsql_nodes_to_delete() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO pgsql_node_to_delete (backup_server_id, pgsql_node_id)
   SELECT server_id, OLD.node_id FROM backup_server;
   DELETE FROM pgsql_node_stopped WHERE pgsql_node_id = OLD.node_id;
   RETURN NULL;
 END;
$$;
CREATE TRIGGER update_pgsql_nodes_to_delete AFTER DELETE ON pgsql_node
  FOR EACH ROW EXECUTE PROCEDURE update_pgsql_nodes_to_delete();

CREATE OR REPLACE FUNCTION update_job_queue() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 DECLARE
   r RECORD;
 BEGIN
   IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
   IF NOT EXISTS (SELECT 1 FROM job_queue WHERE backup_server_id = r.backup_server_id
                   AND pgsql_node_id = r.pgsql_node_id AND is_assigned IS FALSE) THEN
     INSERT INTO job_queue (backup_server_id, pgsql_node_id, is_assigned)
     VALUES (r.backup_server_id, r.pgsql_node_id, FALSE);
     PERFORM pg_notify('channel_bs' || r.backup_server_id || '_pg' || r.pgsql_node_id,
                       'Backup jobs updated');
   END IF;
   RETURN NULL;
 END;
$$;
CREATE TRIGGER update_job_queue AFTER INSERT OR UPDATE OR DELETE ON backup_definition
  FOR EACH ROW EXECUTE PROCEDURE update_job_queue();

CREATE OR REPLACE FUNCTION update_restore_logs_to_delete() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 BEGIN
   INSERT INTO restore_logs_to_delete (backup_server_id, restore_log_file)
   VALUES (OLD.backup_server_id, OLD.restore_log_file);
   RETURN NULL;
 END;
$$;
CREATE TRIGGER update_restore_logs_to_delete AFTER DELETE ON restore_catalog
  FOR EACH ROW EXECUTE PROCEDURE update_restore_logs_to_delete();
"""
    if v >= 2:
        sql += """
CREATE OR REPLACE FUNCTION generate_backup_catalog_alert() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$
 DECLARE
   sendto_ TEXT;
 BEGIN
   SELECT value FROM pgsql_node_config WHERE node_id = NEW.pgsql_node_id
      AND parameter = 'logs_email' INTO sendto_;
   IF NEW.execution_status = 'ERROR' THEN
     INSERT INTO alerts (alert_type, ref_id, bck_id, backup_server_id, pgsql_node_id, dbname,
                         execution_status, error_message, sendto, alert_sent)
     VALUES (CASE WHEN NEW.snapshot_id IS NULL THEN 'Backup-def' ELSE 'Snapshot-def' END,
             coalesce(NEW.def_id, NEW.snapshot_id), NEW.bck_id, NEW.backup_server_id,
             NEW.pgsql_node_id, NEW.dbname, NEW.execution_status, NEW.error_message, sendto_, FALSE);
   END IF;
   RETURN NULL;
 END;
$$;
CREATE TRIGGER generate_backup_catalog_alert AFTER INSERT OR UPDATE ON backup_catalog
  FOR EACH ROW EXECUTE PROCEDURE generate_backup_catalog_alert();

CREATE OR REPLACE FUNCTION update_backup_definition_registration() RETURNS TRIGGER
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$ BEGIN NEW.registered := now(); RETURN NEW; END; $$;
CREATE TRIGGER update_backup_definition_registration BEFORE UPDATE ON backup_definition
  FOR EACH ROW EXECUTE PROCEDURE update_backup_definition_registration();

CREATE OR REPLACE FUNCTION update_backup_definition_status_to_delete(INTEGER) RETURNS VOID
 LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
 AS $$ BEGIN UPDATE backup_definition SET job_status = 'DELETED' WHERE def_id = $1; END; $$;
"""
    return sql


def _views_sql() -> str:
    return """
CREATE OR REPLACE VIEW show_backup_servers AS
SELECT lpad(server_id::text, 5, '0') AS "SrvID", hostname || '.' || domain_name AS "FQDN",
       status AS "Status", remarks AS "Remarks"
  FROM backup_server ORDER BY domain_name, hostname, status;
CREATE OR REPLACE VIEW show_pgsql_nodes AS
SELECT lpad(node_id::text, 6, '0') AS "NodeID", hostname || '.' || domain_name AS "FQDN",
       pgport AS "Pgport", admin_user AS "Admin user", status AS "Status", remarks AS "Remarks"
  FROM pgsql_node ORDER BY domain_name, hostname, pgport, admin_user, status;
CREATE OR REPLACE VIEW show_backup_catalog AS
SELECT lpad(bck_id::text, 12, '0') AS "BckID", def_id, snapshot_id,
       date_trunc('seconds', finished) AS "Finished",
       get_backup_server_fqdn(backup_server_id) AS "Backup server",
       get_pgsql_node_fqdn(pgsql_node_id) AS "PgSQL node", dbname AS "DBname",
       execution_status AS "Status"
  FROM backup_catalog ORDER BY finished DESC;
CREATE OR REPLACE VIEW get_cron_catalog_entries_to_delete_by_retention AS
SELECT a.bck_id, a.def_id, a.backup_server_id
  FROM backup_catalog a JOIN backup_definition b ON a.def_id = b.def_id
 WHERE a.finished < now() - b.retention_period;
"""


# ---------------------------------------------------------------------------- building


def create_roles(cluster: Any) -> None:
    """Upstream's roles: CREATE USER (LOGIN), no password, no grants."""
    cluster.psql(
        "DO $r$ BEGIN\n"
        "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackman_role_rw') THEN\n"
        "    CREATE USER pgbackman_role_rw; END IF;\n"
        "  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackman_role_ro') THEN\n"
        "    CREATE USER pgbackman_role_ro; END IF;\n"
        "END $r$;"
    )


def create_catalog(
    cluster: Any, dbname: str, version: int, version_rows: list[int] | None = None
) -> None:
    """A new database ``dbname`` holding an upstream catalog of ``version``; every object
    created by (so owned by) pgbackman_role_rw, as upstream's ALTER ... OWNER TO did."""
    create_roles(cluster)
    cluster.psql(f'CREATE DATABASE "{dbname}" OWNER pgbackman_role_rw')
    cluster.psql(
        "SET ROLE pgbackman_role_rw;\n" + schema_sql(version, version_rows),
        dbname=dbname,
    )


# ---------------------------------------------------------------------------- files


def _timestamp(when: _dt.datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%S")


def _log_header(command: str, when: _dt.datetime) -> str:
    return (
        "------------------------------------\n"
        f"Timestamp:{when}\nCommand: {command}\n"
        "------------------------------------\n\n"
    )


@dataclass
class LegacyBackup:
    """The file columns of one backup_catalog row, as upstream's pgbackman_dump set them."""

    pg_dump_file: str
    pg_dump_file_size: int
    pg_dump_log_file: str
    roles_file: str
    roles_file_size: int
    roles_log_file: str
    dbconfig_file: str
    dbconfig_file_size: int
    dbconfig_log_file: str
    role_list: list[str]


def _run(argv: list[str], out: Path | None = None) -> str:
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    res = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {res.stderr.strip()}")
    if out is not None:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(res.stdout + res.stderr)
    return res.stdout


def _roles_of_schema_dump(text: str) -> set[str]:
    """Upstream §4.5 step 1: roles after ' OWNER TO ' and after ' TO ' of GRANT lines."""
    roles: set[str] = set()
    for line in text.splitlines(keepends=True):
        if "OWNER TO" in line:
            role = line.split(" OWNER TO ")[1].replace(";\n", "")
            if " " not in role:
                roles.add(role)
        if "GRANT" in line and " TO " in line:
            role = line.split(" TO ")[1].replace(";\n", "")
            if role != "PUBLIC" and " " not in role:
                roles.add(role)
    return roles


def users_file_text(
    schema_dump: str, roles_dump: str, dbname: str, fqdn: str
) -> tuple[str, list[str]]:
    """Upstream's -USERS.sql text and role_list, from ``pg_dump -s -C`` and ``pg_dumpall -r``
    output, with upstream's substring filters (§4.5 steps 1-3)."""
    roles = _roles_of_schema_dump(schema_dump)
    lines = roles_dump.splitlines(keepends=True)
    for line in lines:  # step 2: roles granted to a collected role
        for role in list(roles):
            if line.startswith("GRANT ") and f" TO {role} GRANTED BY " in line:
                roles.add(line.split(" TO")[0].replace("GRANT ", ""))
    role_list = sorted(roles)
    out = [
        f"-- \n-- PgBackMan \n-- \n-- Roles statements needed by the database: \n"
        f"-- {dbname}@{fqdn} \n--\n\n",
        "BEGIN;\n\n",
    ]
    for line in lines:
        for role in role_list:
            if f" ROLE {role};" in line or f" ROLE {role} " in line:
                out.append(line)
    # 1.1 (#19): the roles a listed role is a member of, when they are not listed.
    members_of = set()
    for line in lines:
        for role in role_list:
            if line.startswith("GRANT ") and f" TO {role} GRANTED BY " in line:
                granted = line.split(" TO")[0].replace("GRANT ", "")
                if granted not in role_list:
                    members_of.add(granted)
    for line in lines:
        for role in sorted(members_of):
            if f" ROLE {role};" in line or f" ROLE {role} " in line:
                out.append(line)
    grants = []
    for line in lines:
        if " GRANTED BY " in line and line.startswith("GRANT "):
            for role in role_list:
                if f" TO {role} GRANTED BY " in line and line not in grants:
                    grants.append(line)
    out += grants
    out.append("\nCOMMIT;\n\n-- \n-- PgBackMan roles dump completed\n--\n\n")
    return "".join(out), role_list


def dbconfig_file_text(cluster_schema_dump: str, dbname: str, fqdn: str) -> str:
    """Upstream's -DBCONFIG.sql text from ``pg_dumpall -s`` output (§4.5)."""
    out = [
        f"-- \n-- PgBackMan \n-- \n-- Database attributes needed by the database: \n"
        f"-- {dbname}@{fqdn} \n--\n\n",
        "BEGIN;\n\n",
    ]
    for line in cluster_schema_dump.splitlines(keepends=True):
        if (
            f"CREATE DATABASE {dbname} " in line
            or f"ALTER DATABASE {dbname} SET " in line
            or f" ON DATABASE {dbname} " in line
        ):
            out.append(line)
    out.append("\nCOMMIT;\n\n-- \n-- PgBackMan dbconfig dump completed\n--\n\n")
    return "".join(out)


def _size(path: Path) -> int:
    """Upstream's size: a directory counts its top-level files."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


def write_legacy_backup(
    node: Any,
    dbname: str,
    partition: Path,
    *,
    node_fqdn: str,
    job: str,
    code: str,
    release: str,
    when: _dt.datetime,
    fmt: str = "d",
) -> LegacyBackup:
    """Dump ``dbname`` of the node cluster ``node`` into ``partition`` as upstream did.

    ``fmt`` ``d``: 1.1+ (directory named ``...-DATABASE.sql``); ``c``: 1.0 (custom-format
    file, no ``-`` between the code and the timestamp). ``job`` is ``defid<N>`` or
    ``snapid<N>``; ``release`` the tag in the name (``9_6``).
    """
    dump_dir, log_dir = partition / "dump", partition / "log"
    dump_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    ts = _timestamp(when)
    sep = "-" if fmt == "d" else ""
    base = f"{dbname}-{node_fqdn}-v{release}-{job}-c{code}{sep}{ts}"
    conn = ["-h", node.host, "-p", str(node.port), "-U", "postgres"]
    db_file, db_log = (
        dump_dir / f"{base}-DATABASE.sql",
        log_dir / f"{base}-DATABASE.log",
    )
    users, users_log = dump_dir / f"{base}-USERS.sql", log_dir / f"{base}-USERS.log"
    dbconf, dbconf_log = (
        dump_dir / f"{base}-DBCONFIG.sql",
        log_dir / f"{base}-DBCONFIG.log",
    )
    flags = {"FULL": ["--blobs"], "SCHEMA": ["--schema-only"], "DATA": ["--data-only"]}
    argv = [
        f"{node.bindir}/pg_dump",
        *conn,
        f"--file={db_file}",
        f"--format={fmt}",
        *flags[code],
        "--verbose",
        dbname,
    ]
    db_log.write_text(_log_header(" ".join(argv), when))
    _run(argv, db_log)
    with tempfile.TemporaryDirectory() as tmp:
        schema_tmp, roles_tmp, cluster_tmp = (
            Path(tmp) / "s.sql",
            Path(tmp) / "r.sql",
            Path(tmp) / "c.sql",
        )
        a1 = [
            f"{node.bindir}/pg_dump",
            *conn,
            "-s",
            "-C",
            f"--file={schema_tmp}",
            dbname,
        ]
        a2 = [f"{node.bindir}/pg_dumpall", *conn, "-r", f"--file={roles_tmp}"]
        users_log.write_text(_log_header(" ".join(a1), when))
        _run(a1, users_log)
        _run(a2, users_log)
        text, role_list = users_file_text(
            schema_tmp.read_text(), roles_tmp.read_text(), dbname, node_fqdn
        )
        users.write_text(text)
        a3 = [f"{node.bindir}/pg_dumpall", *conn, "-s", f"--file={cluster_tmp}"]
        dbconf_log.write_text(_log_header(" ".join(a3), when))
        _run(a3, dbconf_log)
        dbconf.write_text(
            dbconfig_file_text(cluster_tmp.read_text(), dbname, node_fqdn)
        )
    return LegacyBackup(
        pg_dump_file=str(db_file),
        pg_dump_file_size=_size(db_file),
        pg_dump_log_file=str(db_log),
        roles_file=str(users),
        roles_file_size=users.stat().st_size,
        roles_log_file=str(users_log),
        dbconfig_file=str(dbconf),
        dbconfig_file_size=dbconf.stat().st_size,
        dbconfig_log_file=str(dbconf_log),
        role_list=role_list,
    )


def site_rows_sql(version: int) -> str:
    """A small site, written through the 1.x functions and triggers as its programs did:
    two backup servers, three nodes (one STOPPED, one deleted), definitions of every code
    (one CONFIG, which 1.x accepted but never ran), catalog rows (SUCCEEDED with files,
    ERROR with 'None' files, CLUSTER without roles/dbconfig files), snapshots, restores,
    alerts (1.1+), a forced deletion, a deleted restore log. File paths are not real."""
    snap_extra = ", '9.6'" if version >= 2 else ""
    cat_extra = ", '9.6'" if version >= 2 else ""
    d = "/srv/pgbackman/pgsql_node_1"
    sql = f"""
SELECT register_backup_server('backup01', 'pgbackman.test', 'RUNNING', 'first server');
SELECT register_backup_server('backup02', 'pgbackman.test', '', 'second server');
SELECT register_pgsql_node('db1', 'example.org', 5432, 'postgres', 'RUNNING', 'node one');
SELECT register_pgsql_node('db2', 'example.org', 5433, '', 'STOPPED', 'node two');
SELECT register_pgsql_node('db3', 'example.org', 0, '', 'RUNNING', 'node three');
SELECT delete_pgsql_node(3);
UPDATE pgsql_node_config SET value = '3' WHERE node_id = 1 AND parameter = 'retention_redundancy';
UPDATE pgsql_node_config SET value = 'dba@example.org' WHERE node_id = 1 AND parameter = 'logs_email';
UPDATE backup_server_config SET value = '/opt/pgsql-9.6/bin' WHERE server_id = 1 AND parameter = 'pgsql_bin_9_4';

SELECT register_backup_definition(1, 1, 'app1', '10', '02', '*', '*', '*', 'FULL', false, '7 days', 2, '', 'ACTIVE', 'app1 nightly');
SELECT register_backup_definition(1, 1, '', '30', '03', '*', '*', '0', 'CLUSTER', false, '14 days', 1, '', 'ACTIVE', 'whole node');
SELECT register_backup_definition(2, 2, 'app2', '15', '04', '*', '*', '*', 'SCHEMA', false, '7 days', 1, '--no-tablespaces', 'STOPPED', NULL);
SELECT register_backup_definition(1, 1, 'conf', '20', '05', '*', '*', '*', 'CONFIG', false, '7 days', 1, '', 'ACTIVE', 'never ran');
SELECT register_backup_definition(1, 1, 'old', '25', '05', '*', '*', '*', 'DATA', false, '7 days', 1, '', 'ACTIVE', 'to be forced away');

SELECT register_snapshot_definition(1, 1, 'app1', (now() - interval '3 days')::timestamp, 'FULL', '30 days', '', 'before upgrade'{snap_extra});
UPDATE snapshot_definition SET status = 'DEFINED';

SELECT register_backup_catalog(1, 4001, 1, 1, 'app1', now() - interval '2 days 10 minutes', now() - interval '2 days', interval '10 minutes',
  '{d}/dump/app1-db1.example.org-v9_6-defid1-cFULL-20170101T021000-DATABASE.sql', 1048576,
  '{d}/log/app1-db1.example.org-v9_6-defid1-cFULL-20170101T021000-DATABASE.log',
  '{d}/dump/app1-db1.example.org-v9_6-defid1-cFULL-20170101T021000-USERS.sql', 512,
  '{d}/log/app1-db1.example.org-v9_6-defid1-cFULL-20170101T021000-USERS.log',
  '{d}/dump/app1-db1.example.org-v9_6-defid1-cFULL-20170101T021000-DBCONFIG.sql', 256,
  '{d}/log/app1-db1.example.org-v9_6-defid1-cFULL-20170101T021000-DBCONFIG.log',
  '/var/log/pgbackman/pgbackman.log', 'SUCCEEDED', 'CRON', '', NULL, '{{app_owner,app_reader}}', '9.6'{cat_extra});
SELECT register_backup_catalog(1, 4002, 1, 1, 'app1', now() - interval '1 day 1 minute', now() - interval '1 day', interval '1 minute',
  'None', 0, '{d}/log/app1-db1.example.org-v9_6-defid1-cFULL-20170102T021000-DATABASE.log',
  'None', 0, 'None', 'None', 0, 'None',
  '/var/log/pgbackman/pgbackman.log', 'ERROR', 'CRON', 'pg_dump returncode: 1. Check log file.', NULL, '{{}}', '9.6'{cat_extra});
SELECT register_backup_catalog(2, 4003, 1, 1, 'template1', now() - interval '1 day 5 minutes', now() - interval '1 day', interval '5 minutes',
  '{d}/dump/CLUSTER-db1.example.org-v9_6-defid2-cCLUSTER-20170102T033000.sql.gz', 2097152,
  '{d}/log/CLUSTER-db1.example.org-v9_6-defid2-cCLUSTER-20170102T033000.log',
  'None', 0, 'None', 'None', 0, 'None',
  '/var/log/pgbackman/pgbackman.log', 'SUCCEEDED', 'CRON', '', NULL, '{{}}', '9.6'{cat_extra});
SELECT register_backup_catalog(NULL, 4004, 1, 1, 'app1', now() - interval '3 days', now() - interval '3 days', interval '2 minutes',
  '{d}/dump/app1-db1.example.org-v9_6-snapid1-cFULL-20170101T000000-DATABASE.sql', 4096,
  '{d}/log/app1-db1.example.org-v9_6-snapid1-cFULL-20170101T000000-DATABASE.log',
  '{d}/dump/app1-db1.example.org-v9_6-snapid1-cFULL-20170101T000000-USERS.sql', 100,
  '{d}/log/app1-db1.example.org-v9_6-snapid1-cFULL-20170101T000000-USERS.log',
  'None', 0, 'None',
  '/var/log/pgbackman/pgbackman.log', 'SUCCEEDED', 'AT', '', 1, '{{app_owner}}', '9.6'{cat_extra});
SELECT register_backup_catalog(4, 4005, 1, 1, 'conf', now(), now(), interval '1 second',
  'None', 0, 'None', 'None', 0, 'None', 'None', 0, 'None',
  '/var/log/pgbackman/pgbackman.log', 'ERROR', 'CRON', 'Backup code CONFIG not supported', NULL, '{{}}', '9.6'{cat_extra});
SELECT register_backup_catalog(5, 4006, 1, 1, 'old', now() - interval '20 days', now() - interval '20 days', interval '1 second',
  '{d}/dump/old-db1.example.org-v9_6-defid5-cDATA-20161201T000000-DATABASE.sql', 10,
  '{d}/log/old-db1.example.org-v9_6-defid5-cDATA-20161201T000000-DATABASE.log',
  'None', 0, 'None', 'None', 0, 'None',
  '/var/log/pgbackman/pgbackman.log', 'SUCCEEDED', 'CRON', '', NULL, '{{}}', '9.6'{cat_extra});
SELECT delete_force_backup_definition_id(5);

SELECT register_restore_definition((now() - interval '1 day')::timestamp, 1, 1, 1, 'app1_copy', '', '', '{{app_owner}}');
UPDATE restore_definition SET status = 'DEFINED';
SELECT register_restore_catalog(1, 5001, 1, 1, 'app1', 'app1_copy', '', now() - interval '23 hours', now() - interval '22 hours',
  interval '1 hour', '{d}/log/app1_copy-db1.example.org-v9_6-restoredef1.log', '/var/log/pgbackman/pgbackman.log',
  'SUCCEEDED', '', '{{app_owner}}', '9.5', '9.6');
SELECT register_restore_catalog(1, 5002, 1, 1, 'app1', 'app1_copy', '', now() - interval '2 days', now() - interval '2 days',
  interval '1 minute', '{d}/log/app1_copy-db1.example.org-v9_6-restoredef1.log', '/var/log/pgbackman/pgbackman.log',
  'ERROR', 'The target database already exists in the target PgSQL node', '{{}}', '9.5', '9.6');
DELETE FROM restore_catalog WHERE procpid = 5002;
"""
    if version >= 2:
        sql += """
SELECT update_backup_definition_status_to_delete(3);
UPDATE alerts SET alert_sent = true WHERE bck_id = 2;
"""
    return sql
