-- =====================================================================================
-- PgBackMan catalog schema, version 1 ('v_2_0_0') -- fresh install
--
-- Load on a cluster as a superuser:
--     psql -v ON_ERROR_STOP=1 -U postgres -d postgres -f sql/pgbackman.sql
-- Optional: -v pgb_dbname=<name> installs into another database name (used by tests).
--
-- Idempotent and atomic:
--   * roles are created only when missing; the database only when missing;
--   * if public.pgbackman_version already exists the script says so and does nothing;
--   * every object is created inside ONE transaction: a failure leaves no half-installed
--     catalog (at most an empty database) and a re-run after a failure just works.
--
-- Upgrades: numbered files sql/pgbackman_<n>.sql beside this one (n = 2, 3, ...). Each runs in
-- one transaction (BEGIN ... COMMIT), SET LOCAL ROLE pgbackman_role_owner, changes the schema,
-- grants SELECT on any new view to pgbackman_role_ro explicitly (default privileges cannot tell
-- views from tables) and ends with
--     INSERT INTO pgbackman_version (version, tag) VALUES (<n>, 'v_x_y_z');
-- pgbackman/catalog/schema.py applies the files whose number is > max(pgbackman_version.version).
--
-- Privilege model:
--   pgbackman_role_owner  NOLOGIN; owns the database and every object in it.
--   pgbackman_role_rw     LOGIN; CONNECT, USAGE, SELECT/INSERT/UPDATE/DELETE on all tables,
--                         USAGE/SELECT/UPDATE on sequences, EXECUTE on all functions, SELECT on
--                         views. Cannot CREATE/ALTER/DROP anything (not an owner).
--   pgbackman_role_ro     LOGIN; CONNECT, USAGE, SELECT on every view, on the code tables and on
--                         pgbackman_version (needed for the shell's version check). Nothing else:
--                         EXECUTE on functions is revoked from PUBLIC; ro may only execute the
--                         pure helper validate_cron_field().
--   PUBLIC                no CONNECT on the database, no CREATE on schema public.
--   Default privileges for objects created later by pgbackman_role_owner give rw the same grants.
--
-- Deliberate deviations from upstream (rafaelma/pgbackman master), one line each:
--   D01 Objects are owned by NOLOGIN pgbackman_role_owner (upstream: rw owned everything, no GRANTs).
--   D02 pgbackman_role_ro gets SELECT on views/code tables (upstream: ro could read nothing).
--   D03 Schema version row is (1,'v_2_0_0') for this rewrite (upstream fresh install said 3 with v4 objects).
--   D04 server_status has RUNNING/STOPPED only; backup_code drops CONFIG (never implemented).
--   D05 pgsql_bin_12..pgsql_bin_18 = /usr/lib/postgresql/<v>/bin replace pgsql_bin_9_0..10.
--   D06 New backup_server_default_config: backup_user (OS user that cron/at jobs run as).
--   D07 backup_catalog: + run_uuid uuid UNIQUE, backup_code (FK), pg_dump_manifest_file; checksum used.
--   D08 restore_catalog: + run_uuid uuid UNIQUE; register_*_catalog are idempotent on run_uuid.
--   D09 Missing dump/log files are recorded as NULL (upstream: the literal string 'None', size 0).
--   D10 backup_catalog CHECK: exactly one of def_id / snapshot_id is set.
--   D11 Node ids are BIGINT in every referencing column (upstream mixed INTEGER/BIGINT).
--   D12 Config rows, job_queue rows cascade when their server/node is deleted.
--   D13 notify_pgsql_node_change: notifies only on INSERT or a real status change; inserting into
--       pgsql_node_stopped uses ON CONFLICT DO NOTHING (upstream: updating a STOPPED node failed).
--   D14 job_queue insert is ON CONFLICT DO NOTHING (dedup, race-free); notify on every change.
--   D15 New trigger: changing a node's or server's config queues (server,node) for every server
--       with definitions for that node, so pgbackman_control rewrites crontab files and caches.
--   D16 get_next_crontab_id_to_generate: ORDER BY registered + FOR UPDATE SKIP LOCKED (no sleep
--       loop); new pop_job_queue(server) drains every queued node of a server in one statement.
--   D17 Crontab/at text generators removed (injection holes); get_crontab_backup_jobs() returns
--       rows and Python renders id-only job lines. get_pgsql_node_dsn replaced by
--       get_pgsql_node_conninfo() (fqdn, pgport, admin_user).
--   D18 Cron fields validated by validate_cron_field() in functions AND table CHECKs.
--   D19 Control characters (< 0x20, 0x7f) rejected by CHECKs in names, dbnames, parameters,
--       remarks, config values and role lists.
--   D20 Errors are one-line RAISE EXCEPTION messages (no multi-line banners).
--   D21 get_minute_from_interval used consistently (upstream called get_minutes_from_interval).
--   D22 register_backup_definition fills empty values from the NODE's config (upstream: the
--       global defaults), CLUSTER definitions always get dbname ''.
--   D23 update_backup_server_config(server, parameter, value) and
--       update_pgsql_node_config(node, parameter, value) are generic and validate the value;
--       the 20-argument update_pgsql_node_config is kept as a wrapper (NULL = keep).
--   D24 get_pgsql_node_id accepts 'host.domain' or 'host.domain:port'; ambiguous -> error.
--       get_backup_server_id / get_pgsql_node_id return NULL when nothing matches.
--   D25 register_* functions return the new id.
--   D26 Retention (get_cron_catalog_entries_to_delete_by_retention): only SUCCEEDED runs count
--       towards retention_redundancy (< 1 treated as 1); failed runs are deletable only when
--       older than the period AND a newer SUCCEEDED run exists. The newest good backup is never
--       listed.
--   D27 get_at_catalog_entries_to_delete_by_retention: + snapshot_fully_expired column; the
--       maintenance program deletes the snapshot definition only when it is true.
--   D28 Views use joins instead of per-row lookup functions (fleet scale; ro needs no EXECUTE).
--   D29 show_jobs_queue shows the node's own domain (upstream bug #47 variant).
--   D30 get_role_list_from_bckid returns an empty array instead of raising.
--   D31 generate_backup_catalog_alert: on UPDATE only when the status changes to ERROR.
--   D32 catalog_entries_to_delete: + pg_dump_manifest_file.
--   D33 Indexes for 10k definitions / 1M catalog rows (see "Indexes").
--   D34 delete_* functions raise a clear message when the object is still referenced.
--   D35 backup_definition.deleted_at (stamped by trigger when job_status becomes DELETED) is the
--       quarantine clock of get_deleted_backup_definitions_to_delete_by_retention (upstream used
--       "registered", which every UPDATE resets).
-- =====================================================================================

\set ON_ERROR_STOP 1
\set QUIET 1
\if :{?pgb_dbname}
\else
\set pgb_dbname pgbackman
\endif

-- ---------------------------------------------------------------- roles (cluster-wide)
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackman_role_owner') THEN
    CREATE ROLE pgbackman_role_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackman_role_rw') THEN
    CREATE ROLE pgbackman_role_rw LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackman_role_ro') THEN
    CREATE ROLE pgbackman_role_ro LOGIN;
  END IF;
END
$roles$;

-- ---------------------------------------------------------------- database
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'pgb_dbname') AS pgb_create_db \gset
\if :pgb_create_db
CREATE DATABASE :"pgb_dbname" OWNER pgbackman_role_owner ENCODING 'UTF8' TEMPLATE template0;
\endif

\connect :"pgb_dbname"

SELECT to_regclass('public.pgbackman_version') IS NOT NULL AS pgb_installed \gset
\if :pgb_installed
SELECT format('PgBackMan catalog already installed (version %s) in database %s; nothing done',
              coalesce(max(version), 0), current_database()) AS pgb_msg
  FROM public.pgbackman_version \gset
\echo :pgb_msg
\quit
\endif

BEGIN;

ALTER DATABASE :"pgb_dbname" OWNER TO pgbackman_role_owner;
REVOKE ALL ON DATABASE :"pgb_dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"pgb_dbname" TO pgbackman_role_rw;
GRANT CONNECT ON DATABASE :"pgb_dbname" TO pgbackman_role_ro;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Everything below is created by (and therefore owned by) the owner role.
SET LOCAL ROLE pgbackman_role_owner;
SET LOCAL search_path = public, pg_temp;

ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pgbackman_role_rw;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO pgbackman_role_rw;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO pgbackman_role_rw;

-- =====================================================================================
-- Pure helpers (used by CHECK constraints)
-- =====================================================================================

-- validate_cron_field(value, lo, hi): real cron syntax for one field.
--   '*', numbers, ranges a-b, lists x,y,z, steps */n and a-b/n; for (1,12) the month names
--   jan..dec and for (0,7) the weekday names sun..sat are accepted as a whole field.
CREATE FUNCTION validate_cron_field(p_value text, p_lo integer, p_hi integer) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_item text;
  v_m    text[];
  v_a    integer;
  v_b    integer;
BEGIN
  IF p_value IS NULL OR p_value = '' OR length(p_value) > 255 THEN
    RETURN false;
  END IF;
  IF p_lo = 1 AND p_hi = 12 AND lower(p_value) IN
     ('jan','feb','mar','apr','may','jun','jul','aug','sep','oct','nov','dec') THEN
    RETURN true;
  END IF;
  IF p_lo = 0 AND p_hi = 7 AND lower(p_value) IN ('sun','mon','tue','wed','thu','fri','sat') THEN
    RETURN true;
  END IF;
  IF p_value !~ '^[0-9*/,-]+$' THEN
    RETURN false;
  END IF;
  FOREACH v_item IN ARRAY string_to_array(p_value, ',') LOOP
    v_m := regexp_match(v_item, '^(\*|([0-9]{1,3})(-([0-9]{1,3}))?)(/([0-9]{1,3}))?$');
    IF v_m IS NULL THEN
      RETURN false;
    END IF;
    IF v_m[1] = '*' THEN
      v_a := p_lo;
      v_b := p_hi;
    ELSE
      v_a := v_m[2]::integer;
      v_b := coalesce(v_m[4]::integer, v_a);
      IF v_a < p_lo OR v_b > p_hi OR v_a > v_b THEN
        RETURN false;
      END IF;
      IF v_m[6] IS NOT NULL AND v_m[4] IS NULL THEN
        RETURN false;                     -- 'n/step' is not portable cron syntax
      END IF;
    END IF;
    IF v_m[6] IS NOT NULL AND (v_m[6]::integer < 1 OR v_m[6]::integer > p_hi - p_lo + 1) THEN
      RETURN false;
    END IF;
  END LOOP;
  RETURN true;
END;
$$;

-- =====================================================================================
-- Code tables
-- =====================================================================================

CREATE TABLE server_status (code varchar(20) PRIMARY KEY, description text);
CREATE TABLE backup_code (code varchar(20) PRIMARY KEY, description text);
CREATE TABLE job_definition_status (code varchar(20) PRIMARY KEY, description text);
CREATE TABLE at_definition_status (code varchar(20) PRIMARY KEY, description text);
CREATE TABLE job_execution_status (code varchar(20) PRIMARY KEY, description text);
CREATE TABLE job_execution_method (code varchar(20) PRIMARY KEY, description text);
CREATE TABLE alert_type (code varchar(20) PRIMARY KEY, description text);

INSERT INTO server_status VALUES
  ('RUNNING', 'Server is active and running'),
  ('STOPPED', 'Server is stopped');
INSERT INTO backup_code VALUES
  ('FULL',    'Full backup of a database: schema + data + owner globals + database parameters'),
  ('SCHEMA',  'Schema backup of a database: schema + owner globals + database parameters'),
  ('DATA',    'Data backup of a database'),
  ('CLUSTER', 'Full backup of the whole database cluster (pg_dumpall)'),
  ('RDS',     'Schema + data of a database without globals (Amazon RDS)');
INSERT INTO job_definition_status VALUES
  ('ACTIVE',  'Backup job activated and in production'),
  ('STOPPED', 'Backup job stopped'),
  ('DELETED', 'Database no longer exists on the node; definition kept until automatic_deletion_retention');
INSERT INTO at_definition_status VALUES
  ('WAITING', 'Waiting to be handed to at'),
  ('DEFINED', 'Accepted by at'),
  ('ERROR',   'at failed to accept the job');
INSERT INTO job_execution_status VALUES
  ('SUCCEEDED', 'Job finished without errors'),
  ('ERROR',     'Job finished with an error'),
  ('WARNING',   'Job finished with a warning');
INSERT INTO job_execution_method VALUES
  ('CRON', 'Started by cron'),
  ('AT',   'Started by at');
INSERT INTO alert_type VALUES
  ('Backup-def',   'Backup definition alert'),
  ('Snapshot-def', 'Snapshot definition alert'),
  ('Restore-def',  'Restore definition alert');

-- =====================================================================================
-- Default configuration
-- =====================================================================================

CREATE TABLE backup_server_default_config (
  parameter   text PRIMARY KEY,
  value       text NOT NULL CHECK (value !~ '[\x01-\x1f\x7f]'),
  description text
);

CREATE TABLE pgsql_node_default_config (
  parameter   text PRIMARY KEY,
  value       text NOT NULL CHECK (value !~ '[\x01-\x1f\x7f]'),
  description text
);

INSERT INTO backup_server_default_config (parameter, value, description) VALUES
  ('root_backup_partition', '/srv/pgbackman',            'Main partition used by pgbackman'),
  ('root_cron_file',        '/etc/cron.d/pgbackman',     'Crontab file used by pgbackman *Not used*'),
  ('domain',                'example.org',               'Default domain'),
  ('backup_server_status',  'RUNNING',                   'Default backup server status'),
  ('pgbackman_dump',        '/usr/bin/pgbackman_dump',   'Program used to take backup dumps'),
  ('pgbackman_restore',     '/usr/bin/pgbackman_restore','Program used to restore backup dumps'),
  ('admin_user',            'postgres',                  'PostgreSQL admin user'),
  ('backup_user',           'pgbackman',                 'OS user that runs cron and at jobs'),
  ('pgsql_bin_12',          '/usr/lib/postgresql/12/bin','PostgreSQL 12 bin directory'),
  ('pgsql_bin_13',          '/usr/lib/postgresql/13/bin','PostgreSQL 13 bin directory'),
  ('pgsql_bin_14',          '/usr/lib/postgresql/14/bin','PostgreSQL 14 bin directory'),
  ('pgsql_bin_15',          '/usr/lib/postgresql/15/bin','PostgreSQL 15 bin directory'),
  ('pgsql_bin_16',          '/usr/lib/postgresql/16/bin','PostgreSQL 16 bin directory'),
  ('pgsql_bin_17',          '/usr/lib/postgresql/17/bin','PostgreSQL 17 bin directory'),
  ('pgsql_bin_18',          '/usr/lib/postgresql/18/bin','PostgreSQL 18 bin directory');

INSERT INTO pgsql_node_default_config (parameter, value, description) VALUES
  ('pgnode_backup_partition',      '/srv/pgbackman/pgsql_node_%%pgnode%%', 'Partition to save pgbackman information for a pgsql node'),
  ('pgnode_crontab_file',          '/etc/cron.d/pgsql_node_%%pgnode%%',    'Crontab file for pgsql node in the backup server'),
  ('encryption',                   'false',               'GnuPG encryption *Not used*'),
  ('retention_period',             '7 days',              'Retention period for a backup job'),
  ('retention_redundancy',         '1',                   'Retention redundancy for a backup job'),
  ('pgport',                       '5432',                'PostgreSQL port'),
  ('admin_user',                   'postgres',            'PostgreSQL admin user'),
  ('domain',                       'example.org',         'Default domain'),
  ('pgsql_node_status',            'STOPPED',             'pgsql node status'),
  ('backup_job_status',            'ACTIVE',              'Backup job status'),
  ('backup_code',                  'FULL',                'Backup job code'),
  ('backup_minutes_interval',      '01-59',               'Interval the minutes of a backup job are chosen from'),
  ('backup_hours_interval',        '01-06',               'Interval the hour of a backup job is chosen from'),
  ('backup_day_month_cron',        '*',                   'Backup day_month cron default'),
  ('backup_month_cron',            '*',                   'Backup month cron default'),
  ('backup_weekday_cron',          '*',                   'Backup weekday cron default'),
  ('extra_backup_parameters',      '',                    'Extra backup parameters'),
  ('extra_restore_parameters',     '',                    'Extra restore parameters'),
  ('logs_email',                   'example@example.org', 'E-mail to send logs'),
  ('automatic_deletion_retention', '14 days',             'Retention after a backup definition was set to DELETED');

-- =====================================================================================
-- Entity tables
-- =====================================================================================

CREATE TABLE backup_server (
  server_id   serial NOT NULL UNIQUE,
  registered  timestamptz NOT NULL DEFAULT now(),
  hostname    text NOT NULL CHECK (hostname <> '' AND hostname !~ '[\x01-\x20\x7f]'),
  domain_name text NOT NULL CHECK (domain_name <> '' AND domain_name !~ '[\x01-\x20\x7f]'),
  status      varchar(20) NOT NULL DEFAULT 'RUNNING' REFERENCES server_status (code) ON DELETE RESTRICT,
  remarks     text CHECK (remarks !~ '[\x01-\x1f\x7f]'),
  PRIMARY KEY (hostname, domain_name)
);

CREATE TABLE pgsql_node (
  node_id     bigserial NOT NULL UNIQUE,
  registered  timestamptz NOT NULL DEFAULT now(),
  hostname    text NOT NULL CHECK (hostname <> '' AND hostname !~ '[\x01-\x20\x7f]'),
  domain_name text NOT NULL CHECK (domain_name <> '' AND domain_name !~ '[\x01-\x20\x7f]'),
  pgport      integer NOT NULL DEFAULT 5432 CHECK (pgport BETWEEN 1 AND 65535),
  admin_user  text NOT NULL DEFAULT 'postgres' CHECK (admin_user <> '' AND admin_user !~ '[\x01-\x1f\x7f]'),
  pg_version  varchar(5),
  status      varchar(20) NOT NULL DEFAULT 'STOPPED' REFERENCES server_status (code) ON DELETE RESTRICT,
  remarks     text CHECK (remarks !~ '[\x01-\x1f\x7f]'),
  PRIMARY KEY (hostname, domain_name, pgport)
);

CREATE TABLE backup_server_config (
  server_id   integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  parameter   text NOT NULL,
  value       text NOT NULL CHECK (value !~ '[\x01-\x1f\x7f]'),
  description text,
  PRIMARY KEY (server_id, parameter)
);

CREATE TABLE pgsql_node_config (
  node_id     bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  parameter   text NOT NULL,
  value       text NOT NULL CHECK (value !~ '[\x01-\x1f\x7f]'),
  description text,
  PRIMARY KEY (node_id, parameter)
);

CREATE TABLE job_queue (
  id               bigserial NOT NULL UNIQUE,
  registered       timestamptz NOT NULL DEFAULT now(),
  backup_server_id integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  pgsql_node_id    bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  is_assigned      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (backup_server_id, pgsql_node_id, is_assigned)
);

CREATE TABLE backup_definition (
  def_id                  bigserial NOT NULL UNIQUE,
  registered              timestamptz NOT NULL DEFAULT now(),
  backup_server_id        integer NOT NULL REFERENCES backup_server (server_id) ON DELETE RESTRICT,
  pgsql_node_id           bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE RESTRICT,
  dbname                  text NOT NULL CHECK (dbname !~ '[\x01-\x1f\x7f]' AND octet_length(dbname) <= 63),
  minutes_cron            varchar(255) NOT NULL DEFAULT '*' CHECK (validate_cron_field(minutes_cron, 0, 59)),
  hours_cron              varchar(255) NOT NULL DEFAULT '*' CHECK (validate_cron_field(hours_cron, 0, 23)),
  day_month_cron          varchar(255) NOT NULL DEFAULT '*' CHECK (validate_cron_field(day_month_cron, 1, 31)),
  month_cron              varchar(255) NOT NULL DEFAULT '*' CHECK (validate_cron_field(month_cron, 1, 12)),
  weekday_cron            varchar(255) NOT NULL DEFAULT '*' CHECK (validate_cron_field(weekday_cron, 0, 7)),
  backup_code             varchar(10) NOT NULL REFERENCES backup_code (code) ON DELETE RESTRICT,
  encryption              boolean NOT NULL DEFAULT false,
  retention_period        interval NOT NULL DEFAULT '7 days' CHECK (retention_period > interval '0'),
  retention_redundancy    integer NOT NULL DEFAULT 1 CHECK (retention_redundancy >= 0),
  extra_backup_parameters text NOT NULL DEFAULT '' CHECK (extra_backup_parameters !~ '[\x01-\x1f\x7f]'),
  job_status              varchar(20) NOT NULL REFERENCES job_definition_status (code) ON DELETE RESTRICT,
  remarks                 text CHECK (remarks !~ '[\x01-\x1f\x7f]'),
  deleted_at              timestamptz,   -- D35: when job_status became DELETED (quarantine clock)
  PRIMARY KEY (backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron, day_month_cron,
               month_cron, weekday_cron, backup_code, extra_backup_parameters)
);

CREATE TABLE snapshot_definition (
  snapshot_id             bigserial NOT NULL UNIQUE,
  registered              timestamptz NOT NULL DEFAULT now(),
  backup_server_id        integer NOT NULL REFERENCES backup_server (server_id) ON DELETE RESTRICT,
  pgsql_node_id           bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE RESTRICT,
  dbname                  text NOT NULL CHECK (dbname !~ '[\x01-\x1f\x7f]' AND octet_length(dbname) <= 63),
  at_time                 timestamptz NOT NULL DEFAULT now(),
  backup_code             varchar(10) NOT NULL REFERENCES backup_code (code) ON DELETE RESTRICT,
  encryption              boolean NOT NULL DEFAULT false,
  retention_period        interval NOT NULL DEFAULT '7 days' CHECK (retention_period > interval '0'),
  extra_backup_parameters text NOT NULL DEFAULT '' CHECK (extra_backup_parameters !~ '[\x01-\x1f\x7f]'),
  status                  text NOT NULL DEFAULT 'WAITING' REFERENCES at_definition_status (code) ON DELETE RESTRICT,
  remarks                 text CHECK (remarks !~ '[\x01-\x1f\x7f]'),
  pg_dump_release         text DEFAULT NULL CHECK (pg_dump_release ~ '^[0-9]+([._][0-9]+)?$'),
  PRIMARY KEY (backup_server_id, pgsql_node_id, dbname, at_time, backup_code, extra_backup_parameters)
);

CREATE TABLE backup_catalog (
  bck_id                     bigserial PRIMARY KEY,
  registered                 timestamptz NOT NULL DEFAULT now(),
  def_id                     bigint REFERENCES backup_definition (def_id) ON DELETE RESTRICT,
  snapshot_id                bigint REFERENCES snapshot_definition (snapshot_id) ON DELETE RESTRICT,
  procpid                    integer,
  backup_server_id           integer NOT NULL REFERENCES backup_server (server_id) ON DELETE RESTRICT,
  pgsql_node_id              bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE RESTRICT,
  dbname                     text NOT NULL,
  started                    timestamptz,
  finished                   timestamptz,
  duration                   interval,
  pg_dump_file               text,
  pg_dump_file_size          bigint,
  pg_dump_log_file           text,
  pg_dump_roles_file         text,
  pg_dump_roles_file_size    bigint,
  pg_dump_roles_log_file     text,
  pg_dump_dbconfig_file      text,
  pg_dump_dbconfig_file_size bigint,
  pg_dump_dbconfig_log_file  text,
  global_log_file            text NOT NULL,
  execution_status           text REFERENCES job_execution_status (code) ON DELETE RESTRICT,
  execution_method           text REFERENCES job_execution_method (code) ON DELETE RESTRICT,
  error_message              text,
  role_list                  text[],
  pgsql_node_release         text,
  pg_dump_release            text,
  checksum                   text,
  dbname_size                bigint,
  run_uuid                   uuid UNIQUE,
  backup_code                varchar(10) REFERENCES backup_code (code) ON DELETE RESTRICT,
  pg_dump_manifest_file      text,
  CHECK ((def_id IS NULL) <> (snapshot_id IS NULL))
);

CREATE TABLE restore_definition (
  restore_def              bigserial NOT NULL UNIQUE,
  registered               timestamptz NOT NULL DEFAULT now(),
  bck_id                   bigint NOT NULL REFERENCES backup_catalog (bck_id) ON DELETE CASCADE,
  roles_to_restore         text[] CHECK (array_to_string(roles_to_restore, ',') !~ '[\x01-\x1f\x7f]'),
  backup_server_id         integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  target_pgsql_node_id     bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  target_dbname            text NOT NULL CHECK (target_dbname <> '' AND target_dbname !~ '[\x01-\x1f\x7f]' AND octet_length(target_dbname) <= 63),
  renamed_dbname           text CHECK (renamed_dbname !~ '[\x01-\x1f\x7f]' AND octet_length(renamed_dbname) <= 63),
  extra_restore_parameters text CHECK (extra_restore_parameters !~ '[\x01-\x1f\x7f]'),
  at_time                  timestamptz NOT NULL DEFAULT now(),
  status                   text NOT NULL DEFAULT 'WAITING' REFERENCES at_definition_status (code) ON DELETE RESTRICT,
  error_message            text,
  remarks                  text CHECK (remarks !~ '[\x01-\x1f\x7f]'),
  PRIMARY KEY (target_pgsql_node_id, target_dbname, at_time)
);

CREATE TABLE restore_catalog (
  restore_id                bigserial PRIMARY KEY,
  registered                timestamptz NOT NULL DEFAULT now(),
  restore_def               bigint REFERENCES restore_definition (restore_def) ON DELETE CASCADE,
  procpid                   integer,
  backup_server_id          integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  target_pgsql_node_id      bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  source_dbname             text NOT NULL,
  target_dbname             text NOT NULL,
  renamed_dbname            text,
  started                   timestamptz,
  finished                  timestamptz,
  duration                  interval,
  restore_log_file          text,
  global_log_file           text NOT NULL,
  execution_status          text REFERENCES job_execution_status (code) ON DELETE RESTRICT,
  error_message             text,
  role_list                 text[],
  target_pgsql_node_release text,
  backup_pg_release         text,
  run_uuid                  uuid UNIQUE
);

CREATE TABLE alerts (
  alert_id         bigserial PRIMARY KEY,
  registered       timestamptz NOT NULL DEFAULT now(),
  alert_type       text NOT NULL REFERENCES alert_type (code) ON DELETE RESTRICT,
  ref_id           bigint NOT NULL,
  bck_id           bigint NOT NULL REFERENCES backup_catalog (bck_id) ON DELETE CASCADE,
  backup_server_id integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  pgsql_node_id    bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  dbname           text,
  execution_status text REFERENCES job_execution_status (code) ON DELETE RESTRICT,
  error_message    text,
  sendto           text NOT NULL,
  alert_sent       boolean NOT NULL DEFAULT false
);

-- Housekeeping queues (no FKs: rows outlive the objects they describe).
CREATE TABLE pgsql_node_to_delete (
  registered       timestamptz NOT NULL DEFAULT now(),
  backup_server_id integer NOT NULL,
  pgsql_node_id    bigint NOT NULL,
  PRIMARY KEY (backup_server_id, pgsql_node_id)
);

CREATE TABLE pgsql_node_stopped (
  registered    timestamptz NOT NULL DEFAULT now(),
  pgsql_node_id bigint PRIMARY KEY
);

CREATE TABLE catalog_entries_to_delete (
  del_id                    bigserial PRIMARY KEY,
  registered                timestamptz NOT NULL DEFAULT now(),
  def_id                    bigint,
  bck_id                    bigint NOT NULL,
  backup_server_id          integer NOT NULL,
  pg_dump_file              text,
  pg_dump_log_file          text,
  pg_dump_roles_file        text,
  pg_dump_roles_log_file    text,
  pg_dump_dbconfig_file     text,
  pg_dump_dbconfig_log_file text,
  pg_dump_manifest_file     text
);

CREATE TABLE restore_logs_to_delete (
  del_id           bigserial PRIMARY KEY,
  registered       timestamptz NOT NULL DEFAULT now(),
  backup_server_id integer NOT NULL,
  restore_log_file text NOT NULL
);

CREATE TABLE pgbackman_version (
  registered timestamptz NOT NULL DEFAULT now(),
  version    integer NOT NULL,
  tag        text NOT NULL,
  PRIMARY KEY (version, tag)
);

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
CREATE INDEX ON catalog_entries_to_delete (backup_server_id);
CREATE INDEX ON restore_logs_to_delete (backup_server_id);

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
      BEGIN
        IF v_v::interval <= interval '0' THEN
          RAISE EXCEPTION USING ERRCODE = '22007';
        END IF;
      EXCEPTION WHEN others THEN
        RAISE EXCEPTION 'Invalid % value: % (expected a positive interval, e.g. 7 days)', p_parameter, v_v;
      END;
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
    WHEN 'pgnode_backup_partition', 'pgnode_crontab_file' THEN
      IF v_v !~ '^/' OR v_v ~ '(^|/)\.\.(/|$)' THEN
        RAISE EXCEPTION 'Invalid % value: % (absolute path required)', p_parameter, v_v;
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

-- =====================================================================================
-- Lookup functions
-- =====================================================================================

CREATE FUNCTION get_default_backup_server_parameter(p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM backup_server_default_config WHERE parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup server default parameter % does not exist', p_parameter;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_default_pgsql_node_parameter(p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM pgsql_node_default_config WHERE parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'PgSQL node default parameter % does not exist', p_parameter;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_server_config_value(p_server_id integer, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM backup_server_config WHERE server_id = p_server_id AND parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Parameter % does not exist for backup server %', p_parameter, p_server_id;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_pgsql_node_config_value(p_node_id bigint, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT value INTO v FROM pgsql_node_config WHERE node_id = p_node_id AND parameter = p_parameter;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Parameter % does not exist for PgSQL node %', p_parameter, p_node_id;
  END IF;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_definition_def_value(p_def_id bigint, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  IF p_parameter NOT IN ('minutes_cron', 'hours_cron', 'day_month_cron', 'month_cron', 'weekday_cron',
                         'retention_period', 'retention_redundancy', 'extra_backup_parameters',
                         'job_status', 'remarks', 'dbname', 'backup_code', 'backup_server_id',
                         'pgsql_node_id', 'encryption') THEN
    RAISE EXCEPTION 'Unknown backup definition parameter %', p_parameter;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  EXECUTE format('SELECT (%I)::text FROM backup_definition WHERE def_id = $1', p_parameter)
    INTO v USING p_def_id;
  RETURN v;
END;
$$;

CREATE FUNCTION get_pgsql_node_def_value(p_node_id bigint, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  IF p_parameter NOT IN ('pgport', 'admin_user', 'status', 'remarks', 'hostname', 'domain_name') THEN
    RAISE EXCEPTION 'Unknown PgSQL node parameter %', p_parameter;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  EXECUTE format('SELECT (%I)::text FROM pgsql_node WHERE node_id = $1', p_parameter)
    INTO v USING p_node_id;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_server_def_value(p_server_id integer, p_parameter text) RETURNS text
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  IF p_parameter NOT IN ('remarks', 'status', 'hostname', 'domain_name') THEN
    RAISE EXCEPTION 'Unknown backup server parameter %', p_parameter;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  EXECUTE format('SELECT (%I)::text FROM backup_server WHERE server_id = $1', p_parameter)
    INTO v USING p_server_id;
  RETURN v;
END;
$$;

CREATE FUNCTION get_backup_server_fqdn(p_server_id integer) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT hostname || '.' || domain_name FROM backup_server WHERE server_id = p_server_id $$;

CREATE FUNCTION get_pgsql_node_fqdn(p_node_id bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT hostname || '.' || domain_name FROM pgsql_node WHERE node_id = p_node_id $$;

-- 'host.domain' -> server_id, NULL when not registered.
CREATE FUNCTION get_backup_server_id(p_fqdn text) RETURNS integer
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT server_id FROM backup_server WHERE hostname || '.' || domain_name = p_fqdn $$;

-- 'host.domain' or 'host.domain:port' -> node_id; NULL when not registered; error when the
-- FQDN without port matches several nodes.
CREATE FUNCTION get_pgsql_node_id(p_fqdn text) RETURNS bigint
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_m    text[];
  v_ids  bigint[];
BEGIN
  v_m := regexp_match(p_fqdn, '^(.+):([0-9]{1,5})$');
  IF v_m IS NOT NULL THEN
    SELECT array_agg(node_id) INTO v_ids FROM pgsql_node
     WHERE hostname || '.' || domain_name = v_m[1] AND pgport = v_m[2]::integer;
  ELSE
    SELECT array_agg(node_id ORDER BY node_id) INTO v_ids FROM pgsql_node
     WHERE hostname || '.' || domain_name = p_fqdn;
  END IF;
  IF v_ids IS NULL THEN
    RETURN NULL;
  END IF;
  IF cardinality(v_ids) > 1 THEN
    RAISE EXCEPTION 'PgSQL node FQDN % is ambiguous (NodeIDs %); use FQDN:port or the NodeID',
      p_fqdn, array_to_string(v_ids, ',');
  END IF;
  RETURN v_ids[1];
END;
$$;

CREATE FUNCTION get_pgsql_node_port(p_node_id bigint) RETURNS integer
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT pgport FROM pgsql_node WHERE node_id = p_node_id $$;

CREATE FUNCTION get_pgsql_node_admin_user(p_node_id bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT admin_user FROM pgsql_node WHERE node_id = p_node_id $$;

-- Connection data of a node (Python builds the connection kwargs; no DSN strings).
CREATE FUNCTION get_pgsql_node_conninfo(p_node_id bigint)
  RETURNS TABLE (fqdn text, pgport integer, admin_user text)
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
  SELECT n.hostname || '.' || n.domain_name, n.pgport, n.admin_user
    FROM pgsql_node n WHERE n.node_id = p_node_id
$$;

CREATE FUNCTION check_pgsql_node_status(p_node_id bigint) RETURNS void
  LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v text;
BEGIN
  SELECT status INTO v FROM pgsql_node WHERE node_id = p_node_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  ELSIF v <> 'RUNNING' THEN
    RAISE EXCEPTION 'PgSQL node % is %', p_node_id, v;
  END IF;
END;
$$;

CREATE FUNCTION get_dbname_from_bckid(p_bck_id bigint) RETURNS text
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT dbname FROM backup_catalog WHERE bck_id = p_bck_id $$;

CREATE FUNCTION get_backup_server_id_from_bckid(p_bck_id bigint) RETURNS integer
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT backup_server_id FROM backup_catalog WHERE bck_id = p_bck_id $$;

CREATE FUNCTION get_role_list_from_bckid(p_bck_id bigint) RETURNS text[]
  LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp
AS $$ SELECT coalesce(role_list, '{}') FROM backup_catalog WHERE bck_id = p_bck_id $$;

-- 'MM-MM' / 'HH-HH' -> uniformly random zero-padded value inside the closed interval.
CREATE FUNCTION get_minute_from_interval(p_interval text) RETURNS text
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v_m text[];
BEGIN
  v_m := regexp_match(p_interval, '^([0-9]{1,2})-([0-9]{1,2})$');
  IF v_m IS NULL OR v_m[1]::int > v_m[2]::int OR v_m[2]::int > 59 THEN
    RAISE EXCEPTION 'Invalid minutes interval: % (expected a-b within 0-59)', p_interval;
  END IF;
  RETURN lpad((v_m[1]::int + floor(random() * (v_m[2]::int - v_m[1]::int + 1)))::int::text, 2, '0');
END;
$$;

CREATE FUNCTION get_hour_from_interval(p_interval text) RETURNS text
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v_m text[];
BEGIN
  v_m := regexp_match(p_interval, '^([0-9]{1,2})-([0-9]{1,2})$');
  IF v_m IS NULL OR v_m[1]::int > v_m[2]::int OR v_m[2]::int > 23 THEN
    RAISE EXCEPTION 'Invalid hours interval: % (expected a-b within 0-23)', p_interval;
  END IF;
  RETURN lpad((v_m[1]::int + floor(random() * (v_m[2]::int - v_m[1]::int + 1)))::int::text, 2, '0');
END;
$$;

-- =====================================================================================
-- Backup servers
-- =====================================================================================

CREATE FUNCTION register_backup_server(p_hostname text, p_domain text, p_status text, p_remarks text)
  RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_domain text := nullif(p_domain, '');
  v_status text := upper(nullif(p_status, ''));
  v_id     integer;
BEGIN
  IF coalesce(p_hostname, '') = '' THEN
    RAISE EXCEPTION 'A hostname is required to register a backup server';
  END IF;
  v_domain := coalesce(v_domain, get_default_backup_server_parameter('domain'));
  v_status := coalesce(v_status, get_default_backup_server_parameter('backup_server_status'));
  IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_status) THEN
    RAISE EXCEPTION 'Invalid backup server status % (RUNNING or STOPPED)', v_status;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_server WHERE hostname = p_hostname AND domain_name = v_domain) THEN
    RAISE EXCEPTION 'Backup server %.% is already registered', p_hostname, v_domain;
  END IF;
  INSERT INTO backup_server (hostname, domain_name, status, remarks)
  VALUES (p_hostname, v_domain, v_status, p_remarks)
  RETURNING server_id INTO v_id;
  RETURN v_id;
END;
$$;

CREATE FUNCTION delete_backup_server(p_server_id integer) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_definition WHERE backup_server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % still has backup definitions; delete or move them first', p_server_id;
  END IF;
  IF EXISTS (SELECT 1 FROM snapshot_definition WHERE backup_server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % still has snapshot definitions; delete them first', p_server_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE backup_server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % still has backups in the catalog; delete them first', p_server_id;
  END IF;
  DELETE FROM backup_server WHERE server_id = p_server_id;   -- config rows cascade
END;
$$;

CREATE FUNCTION update_backup_server(p_server_id integer, p_remarks text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE backup_server SET remarks = p_remarks WHERE server_id = p_server_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
END;
$$;

-- Generic: one parameter at a time. Unknown parameters are an error, except new
-- pgsql_bin_<major> parameters, which are added.
CREATE FUNCTION update_backup_server_config(p_server_id integer, p_parameter text, p_value text)
  RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_v text := p_value;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF v_v IS NULL THEN
    RAISE EXCEPTION 'A value is required for parameter %', p_parameter;
  END IF;
  IF v_v ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Value for parameter % contains control characters', p_parameter;
  END IF;
  IF p_parameter ~ '^pgsql_bin_[0-9]+$' OR p_parameter IN
     ('root_backup_partition', 'pgbackman_dump', 'pgbackman_restore', 'root_cron_file') THEN
    IF v_v !~ '^/' OR v_v ~ '(^|/)\.\.(/|$)' THEN
      RAISE EXCEPTION 'Invalid % value: % (absolute path required)', p_parameter, v_v;
    END IF;
  ELSIF p_parameter = 'backup_user' THEN
    IF v_v !~ '^[a-z_][a-z0-9_-]{0,31}$' THEN
      RAISE EXCEPTION 'Invalid backup_user value: % (not a valid OS user name)', v_v;
    END IF;
  ELSIF p_parameter = 'backup_server_status' THEN
    v_v := upper(v_v);
    IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_v) THEN
      RAISE EXCEPTION 'Invalid backup server status % (RUNNING or STOPPED)', v_v;
    END IF;
  ELSIF p_parameter IN ('admin_user', 'domain') THEN
    IF v_v = '' OR v_v ~ '\s' THEN
      RAISE EXCEPTION 'Invalid % value: %', p_parameter, v_v;
    END IF;
  END IF;

  UPDATE backup_server_config SET value = v_v
   WHERE server_id = p_server_id AND parameter = p_parameter;
  IF NOT FOUND THEN
    IF p_parameter ~ '^pgsql_bin_[0-9]+$' THEN
      INSERT INTO backup_server_config (server_id, parameter, value, description)
      VALUES (p_server_id, p_parameter, v_v,
              'PostgreSQL ' || substr(p_parameter, 11) || ' bin directory');
    ELSE
      RAISE EXCEPTION 'Unknown backup server parameter %', p_parameter;
    END IF;
  END IF;
END;
$$;

-- =====================================================================================
-- PgSQL nodes
-- =====================================================================================

CREATE FUNCTION register_pgsql_node(p_hostname text, p_domain text, p_pgport integer, p_admin_user text,
                                    p_status text, p_remarks text)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_domain text := nullif(p_domain, '');
  v_port   integer := nullif(p_pgport, 0);
  v_user   text := nullif(p_admin_user, '');
  v_status text := upper(nullif(p_status, ''));
  v_id     bigint;
BEGIN
  IF coalesce(p_hostname, '') = '' THEN
    RAISE EXCEPTION 'A hostname is required to register a PgSQL node';
  END IF;
  v_domain := coalesce(v_domain, get_default_pgsql_node_parameter('domain'));
  v_port   := coalesce(v_port, get_default_pgsql_node_parameter('pgport')::integer);
  v_user   := coalesce(v_user, get_default_pgsql_node_parameter('admin_user'));
  v_status := coalesce(v_status, get_default_pgsql_node_parameter('pgsql_node_status'));
  IF NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_status) THEN
    RAISE EXCEPTION 'Invalid PgSQL node status % (RUNNING or STOPPED)', v_status;
  END IF;
  IF v_port NOT BETWEEN 1 AND 65535 THEN
    RAISE EXCEPTION 'Invalid port %', v_port;
  END IF;
  IF EXISTS (SELECT 1 FROM pgsql_node WHERE hostname = p_hostname AND domain_name = v_domain
                                        AND pgport = v_port) THEN
    RAISE EXCEPTION 'PgSQL node %.%:% is already registered', p_hostname, v_domain, v_port;
  END IF;
  INSERT INTO pgsql_node (hostname, domain_name, pgport, admin_user, status, remarks)
  VALUES (p_hostname, v_domain, v_port, v_user, v_status, p_remarks)
  RETURNING node_id INTO v_id;
  RETURN v_id;
END;
$$;

CREATE FUNCTION delete_pgsql_node(p_node_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_definition WHERE pgsql_node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % still has backup definitions; delete them first', p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM snapshot_definition WHERE pgsql_node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % still has snapshot definitions; delete them first', p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE pgsql_node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % still has backups in the catalog; delete them first', p_node_id;
  END IF;
  DELETE FROM pgsql_node WHERE node_id = p_node_id;   -- config and job_queue rows cascade
END;
$$;

CREATE FUNCTION update_pgsql_node(p_node_id bigint, p_pgport integer, p_admin_user text, p_status text,
                                  p_remarks text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_status text := upper(nullif(p_status, ''));
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  IF v_status IS NOT NULL AND NOT EXISTS (SELECT 1 FROM server_status WHERE code = v_status) THEN
    RAISE EXCEPTION 'Invalid PgSQL node status % (RUNNING or STOPPED)', v_status;
  END IF;
  IF nullif(p_pgport, 0) IS NOT NULL AND p_pgport NOT BETWEEN 1 AND 65535 THEN
    RAISE EXCEPTION 'Invalid port %', p_pgport;
  END IF;
  UPDATE pgsql_node
     SET pgport     = coalesce(nullif(p_pgport, 0), pgport),
         admin_user = coalesce(nullif(p_admin_user, ''), admin_user),
         status     = coalesce(v_status, status),
         remarks    = coalesce(p_remarks, remarks)
   WHERE node_id = p_node_id;
END;
$$;

-- Generic: one parameter at a time, validated; unknown parameter -> error.
CREATE FUNCTION update_pgsql_node_config(p_node_id bigint, p_parameter text, p_value text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_v text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node_config WHERE node_id = p_node_id AND parameter = p_parameter) THEN
    RAISE EXCEPTION 'Unknown PgSQL node parameter %', p_parameter;
  END IF;
  v_v := validate_pgsql_node_config_value(p_parameter, p_value);
  UPDATE pgsql_node_config SET value = v_v WHERE node_id = p_node_id AND parameter = p_parameter;
END;
$$;

-- Upstream 20-argument form (SQL argument order of upstream); NULL keeps the current value.
CREATE FUNCTION update_pgsql_node_config(
    p_node_id bigint, p_backup_minutes_interval text, p_backup_hours_interval text,
    p_backup_weekday_cron text, p_backup_month_cron text, p_backup_day_month_cron text,
    p_backup_code text, p_retention_period interval, p_retention_redundancy integer,
    p_automatic_deletion_retention interval, p_extra_backup_parameters text,
    p_extra_restore_parameters text, p_backup_job_status text, p_domain text, p_logs_email text,
    p_admin_user text, p_pgport integer, p_pgnode_backup_partition text, p_pgnode_crontab_file text,
    p_pgsql_node_status text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_names  text[] := ARRAY['backup_minutes_interval', 'backup_hours_interval', 'backup_weekday_cron',
                           'backup_month_cron', 'backup_day_month_cron', 'backup_code', 'retention_period',
                           'retention_redundancy', 'automatic_deletion_retention',
                           'extra_backup_parameters', 'extra_restore_parameters', 'backup_job_status',
                           'domain', 'logs_email', 'admin_user', 'pgport', 'pgnode_backup_partition',
                           'pgnode_crontab_file', 'pgsql_node_status'];
  v_values text[] := ARRAY[p_backup_minutes_interval, p_backup_hours_interval, p_backup_weekday_cron,
                           p_backup_month_cron, p_backup_day_month_cron, p_backup_code,
                           p_retention_period::text, p_retention_redundancy::text,
                           p_automatic_deletion_retention::text, p_extra_backup_parameters,
                           p_extra_restore_parameters, p_backup_job_status, p_domain, p_logs_email,
                           p_admin_user, p_pgport::text, p_pgnode_backup_partition,
                           p_pgnode_crontab_file, p_pgsql_node_status];
BEGIN
  FOR i IN 1 .. cardinality(v_names) LOOP
    IF v_values[i] IS NOT NULL THEN
      PERFORM update_pgsql_node_config(p_node_id, v_names[i], v_values[i]);
    END IF;
  END LOOP;
END;
$$;

-- =====================================================================================
-- Backup definitions
-- =====================================================================================

CREATE FUNCTION register_backup_definition(
    p_server_id integer, p_node_id bigint, p_dbname text, p_minutes_cron text, p_hours_cron text,
    p_day_month_cron text, p_month_cron text, p_weekday_cron text, p_backup_code text,
    p_encryption boolean, p_retention_period interval, p_retention_redundancy integer,
    p_extra_backup_parameters text, p_job_status text, p_remarks text)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_code   text := upper(nullif(p_backup_code, ''));
  v_dbname text := coalesce(p_dbname, '');
  v_min    text := nullif(p_minutes_cron, '');
  v_hour   text := nullif(p_hours_cron, '');
  v_dom    text := nullif(p_day_month_cron, '');
  v_mon    text := nullif(p_month_cron, '');
  v_dow    text := nullif(p_weekday_cron, '');
  v_ret    interval := p_retention_period;
  v_red    integer := p_retention_redundancy;
  v_extra  text := p_extra_backup_parameters;
  v_status text := upper(nullif(p_job_status, ''));
  v_id     bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;

  v_code   := coalesce(v_code, get_pgsql_node_config_value(p_node_id, 'backup_code'));
  IF NOT EXISTS (SELECT 1 FROM backup_code WHERE code = v_code) THEN
    RAISE EXCEPTION 'Backup code % does not exist', v_code;
  END IF;
  IF v_code = 'CLUSTER' THEN
    v_dbname := '';
  ELSIF v_dbname = '' THEN
    RAISE EXCEPTION 'A database name is required for backup code %', v_code;
  END IF;
  IF v_dbname ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Database name contains control characters';
  END IF;

  v_min    := coalesce(v_min, get_minute_from_interval(get_pgsql_node_config_value(p_node_id, 'backup_minutes_interval')));
  v_hour   := coalesce(v_hour, get_hour_from_interval(get_pgsql_node_config_value(p_node_id, 'backup_hours_interval')));
  v_dom    := coalesce(v_dom, get_pgsql_node_config_value(p_node_id, 'backup_day_month_cron'));
  v_mon    := coalesce(v_mon, get_pgsql_node_config_value(p_node_id, 'backup_month_cron'));
  v_dow    := coalesce(v_dow, get_pgsql_node_config_value(p_node_id, 'backup_weekday_cron'));
  v_ret    := coalesce(v_ret, get_pgsql_node_config_value(p_node_id, 'retention_period')::interval);
  v_red    := coalesce(v_red, get_pgsql_node_config_value(p_node_id, 'retention_redundancy')::integer);
  v_extra  := coalesce(v_extra, get_pgsql_node_config_value(p_node_id, 'extra_backup_parameters'));
  v_status := coalesce(v_status, get_pgsql_node_config_value(p_node_id, 'backup_job_status'));

  IF NOT validate_cron_field(v_min, 0, 59) THEN RAISE EXCEPTION 'Invalid minutes cron field: %', v_min; END IF;
  IF NOT validate_cron_field(v_hour, 0, 23) THEN RAISE EXCEPTION 'Invalid hours cron field: %', v_hour; END IF;
  IF NOT validate_cron_field(v_dom, 1, 31) THEN RAISE EXCEPTION 'Invalid day-of-month cron field: %', v_dom; END IF;
  IF NOT validate_cron_field(v_mon, 1, 12) THEN RAISE EXCEPTION 'Invalid month cron field: %', v_mon; END IF;
  IF NOT validate_cron_field(v_dow, 0, 7) THEN RAISE EXCEPTION 'Invalid weekday cron field: %', v_dow; END IF;
  IF v_ret <= interval '0' THEN RAISE EXCEPTION 'Invalid retention period %', v_ret; END IF;
  IF v_red < 1 THEN RAISE EXCEPTION 'Invalid retention redundancy % (integer >= 1)', v_red; END IF;
  IF v_extra ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Extra backup parameters contain control characters'; END IF;
  IF v_status NOT IN ('ACTIVE', 'STOPPED') THEN
    RAISE EXCEPTION 'Invalid backup job status % (ACTIVE or STOPPED)', v_status;
  END IF;

  BEGIN
    INSERT INTO backup_definition (backup_server_id, pgsql_node_id, dbname, minutes_cron, hours_cron,
                                   day_month_cron, month_cron, weekday_cron, backup_code, encryption,
                                   retention_period, retention_redundancy, extra_backup_parameters,
                                   job_status, remarks)
    VALUES (p_server_id, p_node_id, v_dbname, v_min, v_hour, v_dom, v_mon, v_dow, v_code,
            coalesce(p_encryption, false), v_ret, v_red, v_extra, v_status, p_remarks)
    RETURNING def_id INTO v_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'An identical backup definition already exists for database % on node % and server %',
      v_dbname, p_node_id, p_server_id USING ERRCODE = 'unique_violation';
  END;
  RETURN v_id;
END;
$$;

-- NULL keeps the current value.
CREATE FUNCTION update_backup_definition(
    p_def_id bigint, p_minutes_cron text, p_hours_cron text, p_day_month_cron text, p_month_cron text,
    p_weekday_cron text, p_retention_period interval, p_retention_redundancy integer,
    p_extra_backup_parameters text, p_job_status text, p_remarks text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  d backup_definition%ROWTYPE;
BEGIN
  SELECT * INTO d FROM backup_definition WHERE def_id = p_def_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  d.minutes_cron   := coalesce(nullif(p_minutes_cron, ''), d.minutes_cron);
  d.hours_cron     := coalesce(nullif(p_hours_cron, ''), d.hours_cron);
  d.day_month_cron := coalesce(nullif(p_day_month_cron, ''), d.day_month_cron);
  d.month_cron     := coalesce(nullif(p_month_cron, ''), d.month_cron);
  d.weekday_cron   := coalesce(nullif(p_weekday_cron, ''), d.weekday_cron);
  d.retention_period := coalesce(p_retention_period, d.retention_period);
  d.retention_redundancy := coalesce(p_retention_redundancy, d.retention_redundancy);
  d.extra_backup_parameters := coalesce(p_extra_backup_parameters, d.extra_backup_parameters);
  d.job_status     := coalesce(upper(nullif(p_job_status, '')), d.job_status);
  d.remarks        := coalesce(p_remarks, d.remarks);

  IF NOT validate_cron_field(d.minutes_cron, 0, 59) THEN RAISE EXCEPTION 'Invalid minutes cron field: %', d.minutes_cron; END IF;
  IF NOT validate_cron_field(d.hours_cron, 0, 23) THEN RAISE EXCEPTION 'Invalid hours cron field: %', d.hours_cron; END IF;
  IF NOT validate_cron_field(d.day_month_cron, 1, 31) THEN RAISE EXCEPTION 'Invalid day-of-month cron field: %', d.day_month_cron; END IF;
  IF NOT validate_cron_field(d.month_cron, 1, 12) THEN RAISE EXCEPTION 'Invalid month cron field: %', d.month_cron; END IF;
  IF NOT validate_cron_field(d.weekday_cron, 0, 7) THEN RAISE EXCEPTION 'Invalid weekday cron field: %', d.weekday_cron; END IF;
  IF d.retention_period <= interval '0' THEN RAISE EXCEPTION 'Invalid retention period %', d.retention_period; END IF;
  IF d.retention_redundancy < 1 THEN RAISE EXCEPTION 'Invalid retention redundancy % (integer >= 1)', d.retention_redundancy; END IF;
  IF d.extra_backup_parameters ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Extra backup parameters contain control characters'; END IF;
  IF NOT EXISTS (SELECT 1 FROM job_definition_status WHERE code = d.job_status) THEN
    RAISE EXCEPTION 'Invalid backup job status % (ACTIVE, STOPPED or DELETED)', d.job_status;
  END IF;

  BEGIN
    UPDATE backup_definition
       SET minutes_cron = d.minutes_cron, hours_cron = d.hours_cron, day_month_cron = d.day_month_cron,
           month_cron = d.month_cron, weekday_cron = d.weekday_cron,
           retention_period = d.retention_period, retention_redundancy = d.retention_redundancy,
           extra_backup_parameters = d.extra_backup_parameters, job_status = d.job_status,
           remarks = d.remarks
     WHERE def_id = p_def_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'An identical backup definition already exists' USING ERRCODE = 'unique_violation';
  END;
END;
$$;

CREATE FUNCTION delete_backup_definition_id(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % has backups in the catalog; use force-deletion', p_def_id;
  END IF;
  DELETE FROM backup_definition WHERE def_id = p_def_id;
END;
$$;

CREATE FUNCTION delete_backup_definition_dbname(p_node_id bigint, p_dbname text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname) THEN
    RAISE EXCEPTION 'No backup definitions for database % on PgSQL node %', p_dbname, p_node_id;
  END IF;
  IF EXISTS (SELECT 1 FROM backup_catalog c JOIN backup_definition d ON d.def_id = c.def_id
              WHERE d.pgsql_node_id = p_node_id AND d.dbname = p_dbname) THEN
    RAISE EXCEPTION 'Backup definitions for database % on PgSQL node % have backups in the catalog; use force-deletion',
      p_dbname, p_node_id;
  END IF;
  DELETE FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname;
END;
$$;

CREATE FUNCTION delete_force_backup_definition_id(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE def_id = p_def_id) THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
  WITH del AS (
    DELETE FROM backup_catalog WHERE def_id = p_def_id
    RETURNING def_id, bck_id, backup_server_id, pg_dump_file, pg_dump_log_file, pg_dump_roles_file,
              pg_dump_roles_log_file, pg_dump_dbconfig_file, pg_dump_dbconfig_log_file, pg_dump_manifest_file
  )
  INSERT INTO catalog_entries_to_delete (def_id, bck_id, backup_server_id, pg_dump_file, pg_dump_log_file,
                                         pg_dump_roles_file, pg_dump_roles_log_file, pg_dump_dbconfig_file,
                                         pg_dump_dbconfig_log_file, pg_dump_manifest_file)
  SELECT * FROM del;
  DELETE FROM backup_definition WHERE def_id = p_def_id;
END;
$$;

CREATE FUNCTION delete_force_backup_definition_dbname(p_node_id bigint, p_dbname text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname) THEN
    RAISE EXCEPTION 'No backup definitions for database % on PgSQL node %', p_dbname, p_node_id;
  END IF;
  WITH del AS (
    DELETE FROM backup_catalog
     WHERE def_id IN (SELECT def_id FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname)
    RETURNING def_id, bck_id, backup_server_id, pg_dump_file, pg_dump_log_file, pg_dump_roles_file,
              pg_dump_roles_log_file, pg_dump_dbconfig_file, pg_dump_dbconfig_log_file, pg_dump_manifest_file
  )
  INSERT INTO catalog_entries_to_delete (def_id, bck_id, backup_server_id, pg_dump_file, pg_dump_log_file,
                                         pg_dump_roles_file, pg_dump_roles_log_file, pg_dump_dbconfig_file,
                                         pg_dump_dbconfig_log_file, pg_dump_manifest_file)
  SELECT * FROM del;
  DELETE FROM backup_definition WHERE pgsql_node_id = p_node_id AND dbname = p_dbname;
END;
$$;

CREATE FUNCTION update_backup_definition_status_to_delete(p_def_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE backup_definition SET job_status = 'DELETED' WHERE def_id = p_def_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Backup definition % does not exist', p_def_id;
  END IF;
END;
$$;

-- =====================================================================================
-- Snapshots and restores
-- =====================================================================================

CREATE FUNCTION register_snapshot_definition(
    p_server_id integer, p_node_id bigint, p_dbname text, p_at_time timestamptz, p_backup_code text,
    p_retention_period interval, p_extra_backup_parameters text, p_remarks text, p_pg_dump_release text)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_code   text := upper(nullif(p_backup_code, ''));
  v_dbname text := coalesce(p_dbname, '');
  v_ret    interval := p_retention_period;
  v_extra  text := p_extra_backup_parameters;
  v_rel    text := nullif(p_pg_dump_release, '');
  v_id     bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_node_id;
  END IF;
  v_code  := coalesce(v_code, get_pgsql_node_config_value(p_node_id, 'backup_code'));
  v_ret   := coalesce(v_ret, get_pgsql_node_config_value(p_node_id, 'retention_period')::interval);
  v_extra := coalesce(v_extra, get_pgsql_node_config_value(p_node_id, 'extra_backup_parameters'));
  IF NOT EXISTS (SELECT 1 FROM backup_code WHERE code = v_code) THEN
    RAISE EXCEPTION 'Backup code % does not exist', v_code;
  END IF;
  IF v_code = 'CLUSTER' THEN
    v_dbname := '';
  ELSIF v_dbname = '' THEN
    RAISE EXCEPTION 'A database name is required for backup code %', v_code;
  END IF;
  IF v_dbname ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Database name contains control characters'; END IF;
  IF v_extra ~ '[\x01-\x1f\x7f]' THEN RAISE EXCEPTION 'Extra backup parameters contain control characters'; END IF;
  IF v_ret <= interval '0' THEN RAISE EXCEPTION 'Invalid retention period %', v_ret; END IF;
  IF v_rel IS NOT NULL AND v_rel !~ '^[0-9]+([._][0-9]+)?$' THEN
    RAISE EXCEPTION 'Invalid pg_dump release % (e.g. 15)', v_rel;
  END IF;
  BEGIN
    INSERT INTO snapshot_definition (backup_server_id, pgsql_node_id, dbname, at_time, backup_code,
                                     retention_period, extra_backup_parameters, remarks, pg_dump_release)
    VALUES (p_server_id, p_node_id, v_dbname, coalesce(p_at_time, now()), v_code, v_ret, v_extra,
            p_remarks, v_rel)
    RETURNING snapshot_id INTO v_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'An identical snapshot definition already exists for database % at %', v_dbname, p_at_time
      USING ERRCODE = 'unique_violation';
  END;
  RETURN v_id;
END;
$$;

CREATE FUNCTION update_snapshot_status(p_snapshot_id bigint, p_status text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM at_definition_status WHERE code = upper(p_status)) THEN
    RAISE EXCEPTION 'Invalid snapshot status %', p_status;
  END IF;
  UPDATE snapshot_definition SET status = upper(p_status) WHERE snapshot_id = p_snapshot_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Snapshot definition % does not exist', p_snapshot_id;
  END IF;
END;
$$;

CREATE FUNCTION update_restore_status(p_restore_def bigint, p_status text) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM at_definition_status WHERE code = upper(p_status)) THEN
    RAISE EXCEPTION 'Invalid restore status %', p_status;
  END IF;
  UPDATE restore_definition SET status = upper(p_status) WHERE restore_def = p_restore_def;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Restore definition % does not exist', p_restore_def;
  END IF;
END;
$$;

CREATE FUNCTION register_restore_definition(
    p_at_time timestamptz, p_server_id integer, p_target_node_id bigint, p_bck_id bigint,
    p_target_dbname text, p_renamed_dbname text, p_extra_restore_parameters text,
    p_roles_to_restore text[])
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v_id bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM backup_server WHERE server_id = p_server_id) THEN
    RAISE EXCEPTION 'Backup server % does not exist', p_server_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pgsql_node WHERE node_id = p_target_node_id) THEN
    RAISE EXCEPTION 'PgSQL node % does not exist', p_target_node_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM backup_catalog WHERE bck_id = p_bck_id) THEN
    RAISE EXCEPTION 'Backup % does not exist in the catalog', p_bck_id;
  END IF;
  IF coalesce(p_target_dbname, '') = '' THEN
    RAISE EXCEPTION 'A target database name is required';
  END IF;
  IF p_target_dbname ~ '[\x01-\x1f\x7f]' OR p_renamed_dbname ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Database name contains control characters';
  END IF;
  IF p_extra_restore_parameters ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Extra restore parameters contain control characters';
  END IF;
  IF array_to_string(p_roles_to_restore, ',') ~ '[\x01-\x1f\x7f]' THEN
    RAISE EXCEPTION 'Role names contain control characters';
  END IF;
  INSERT INTO restore_definition (at_time, backup_server_id, target_pgsql_node_id, bck_id, target_dbname,
                                  renamed_dbname, extra_restore_parameters, roles_to_restore)
  VALUES (coalesce(p_at_time, now()), p_server_id, p_target_node_id, p_bck_id, p_target_dbname,
          nullif(p_renamed_dbname, ''), p_extra_restore_parameters, p_roles_to_restore)
  RETURNING restore_def INTO v_id;
  RETURN v_id;
END;
$$;

-- =====================================================================================
-- Catalog registration (idempotent on run_uuid)
-- =====================================================================================

CREATE FUNCTION register_backup_catalog(
    p_def_id bigint, p_procpid integer, p_server_id integer, p_node_id bigint, p_dbname text,
    p_started timestamptz, p_finished timestamptz, p_duration interval,
    p_pg_dump_file text, p_pg_dump_file_size bigint, p_pg_dump_log_file text,
    p_pg_dump_roles_file text, p_pg_dump_roles_file_size bigint, p_pg_dump_roles_log_file text,
    p_pg_dump_dbconfig_file text, p_pg_dump_dbconfig_file_size bigint, p_pg_dump_dbconfig_log_file text,
    p_global_log_file text, p_execution_status text, p_execution_method text, p_error_message text,
    p_snapshot_id bigint, p_role_list text[], p_pgsql_node_release text, p_pg_dump_release text,
    p_run_uuid uuid DEFAULT NULL, p_backup_code text DEFAULT NULL, p_checksum text DEFAULT NULL,
    p_pg_dump_manifest_file text DEFAULT NULL, p_dbname_size bigint DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE
  v_id   bigint;
  v_code text := upper(nullif(p_backup_code, ''));
BEGIN
  IF p_run_uuid IS NOT NULL THEN
    SELECT bck_id INTO v_id FROM backup_catalog WHERE run_uuid = p_run_uuid;
    IF FOUND THEN
      RETURN v_id;
    END IF;
  END IF;
  IF v_code IS NULL THEN
    IF p_def_id IS NOT NULL THEN
      SELECT backup_code INTO v_code FROM backup_definition WHERE def_id = p_def_id;
    ELSE
      SELECT backup_code INTO v_code FROM snapshot_definition WHERE snapshot_id = p_snapshot_id;
    END IF;
  END IF;
  INSERT INTO backup_catalog (def_id, procpid, backup_server_id, pgsql_node_id, dbname, started, finished,
                              duration, pg_dump_file, pg_dump_file_size, pg_dump_log_file,
                              pg_dump_roles_file, pg_dump_roles_file_size, pg_dump_roles_log_file,
                              pg_dump_dbconfig_file, pg_dump_dbconfig_file_size, pg_dump_dbconfig_log_file,
                              global_log_file, execution_status, execution_method, error_message,
                              snapshot_id, role_list, pgsql_node_release, pg_dump_release,
                              run_uuid, backup_code, checksum, pg_dump_manifest_file, dbname_size)
  VALUES (p_def_id, p_procpid, p_server_id, p_node_id, p_dbname, p_started, p_finished,
          coalesce(p_duration, p_finished - p_started), p_pg_dump_file, p_pg_dump_file_size,
          p_pg_dump_log_file, p_pg_dump_roles_file, p_pg_dump_roles_file_size, p_pg_dump_roles_log_file,
          p_pg_dump_dbconfig_file, p_pg_dump_dbconfig_file_size, p_pg_dump_dbconfig_log_file,
          p_global_log_file, upper(p_execution_status), upper(p_execution_method), p_error_message,
          p_snapshot_id, p_role_list, p_pgsql_node_release, p_pg_dump_release,
          p_run_uuid, v_code, p_checksum, p_pg_dump_manifest_file, p_dbname_size)
  ON CONFLICT (run_uuid) DO NOTHING
  RETURNING bck_id INTO v_id;
  IF v_id IS NULL THEN          -- lost a race with a concurrent ingest of the same run
    SELECT bck_id INTO v_id FROM backup_catalog WHERE run_uuid = p_run_uuid;
  END IF;
  RETURN v_id;
END;
$$;

CREATE FUNCTION register_restore_catalog(
    p_restore_def bigint, p_procpid integer, p_server_id integer, p_target_node_id bigint,
    p_source_dbname text, p_target_dbname text, p_renamed_dbname text, p_started timestamptz,
    p_finished timestamptz, p_duration interval, p_restore_log_file text, p_global_log_file text,
    p_execution_status text, p_error_message text, p_role_list text[],
    p_target_pgsql_node_release text, p_backup_pg_release text, p_run_uuid uuid DEFAULT NULL)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
DECLARE v_id bigint;
BEGIN
  IF p_run_uuid IS NOT NULL THEN
    SELECT restore_id INTO v_id FROM restore_catalog WHERE run_uuid = p_run_uuid;
    IF FOUND THEN
      RETURN v_id;
    END IF;
  END IF;
  INSERT INTO restore_catalog (restore_def, procpid, backup_server_id, target_pgsql_node_id, source_dbname,
                               target_dbname, renamed_dbname, started, finished, duration, restore_log_file,
                               global_log_file, execution_status, error_message, role_list,
                               target_pgsql_node_release, backup_pg_release, run_uuid)
  VALUES (p_restore_def, p_procpid, p_server_id, p_target_node_id, p_source_dbname, p_target_dbname,
          nullif(p_renamed_dbname, ''), p_started, p_finished, coalesce(p_duration, p_finished - p_started),
          p_restore_log_file, p_global_log_file, upper(p_execution_status), p_error_message, p_role_list,
          p_target_pgsql_node_release, p_backup_pg_release, p_run_uuid)
  ON CONFLICT (run_uuid) DO NOTHING
  RETURNING restore_id INTO v_id;
  IF v_id IS NULL THEN
    SELECT restore_id INTO v_id FROM restore_catalog WHERE run_uuid = p_run_uuid;
  END IF;
  RETURN v_id;
END;
$$;

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
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM enqueue_crontab_job(p_server_id, p_node_id, 'Backup job inserted after crontab generation error');
END;
$$;

-- queue_classic style: pop the oldest queued node of a server (NULL when empty).
CREATE FUNCTION get_next_crontab_id_to_generate(p_server_id integer) RETURNS bigint
  LANGUAGE sql SECURITY INVOKER SET search_path = public, pg_temp
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
  LANGUAGE sql SECURITY INVOKER SET search_path = public, pg_temp
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

-- =====================================================================================
-- Trigger functions and triggers
-- =====================================================================================

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
    INSERT INTO restore_logs_to_delete (backup_server_id, restore_log_file)
    VALUES (OLD.backup_server_id, OLD.restore_log_file);
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
    INSERT INTO alerts (alert_type, ref_id, bck_id, backup_server_id, pgsql_node_id, dbname,
                        execution_status, error_message, sendto)
    VALUES (CASE WHEN NEW.snapshot_id IS NULL THEN 'Backup-def' ELSE 'Snapshot-def' END,
            coalesce(NEW.def_id, NEW.snapshot_id), NEW.bck_id, NEW.backup_server_id, NEW.pgsql_node_id,
            NEW.dbname, NEW.execution_status, NEW.error_message,
            coalesce((SELECT value FROM pgsql_node_config
                       WHERE node_id = NEW.pgsql_node_id AND parameter = 'logs_email'),
                     (SELECT value FROM pgsql_node_default_config WHERE parameter = 'logs_email'),
                     ''));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER generate_backup_catalog_alert AFTER INSERT OR UPDATE ON backup_catalog
  FOR EACH ROW EXECUTE FUNCTION trg_generate_backup_catalog_alert();

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

-- =====================================================================================
-- Version
-- =====================================================================================

INSERT INTO pgbackman_version (version, tag) VALUES (1, 'v_2_0_0');

-- =====================================================================================
-- Grants
-- =====================================================================================

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO pgbackman_role_rw, pgbackman_role_ro;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO pgbackman_role_rw;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO pgbackman_role_rw;
GRANT EXECUTE ON FUNCTION validate_cron_field(text, integer, integer) TO pgbackman_role_ro;

DO $grants$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v')
  LOOP
    IF r.relkind = 'r' THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.%I TO pgbackman_role_rw', r.relname);
    ELSE
      EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.%I FROM pgbackman_role_rw', r.relname);
      EXECUTE format('GRANT SELECT ON TABLE public.%I TO pgbackman_role_rw, pgbackman_role_ro', r.relname);
    END IF;
  END LOOP;
END
$grants$;

GRANT SELECT ON server_status, backup_code, job_definition_status, at_definition_status,
                job_execution_status, job_execution_method, alert_type, pgbackman_version
  TO pgbackman_role_ro;

RESET ROLE;
COMMIT;

\echo 'PgBackMan catalog installed (version 1, v_2_0_0) in database' :"pgb_dbname"
