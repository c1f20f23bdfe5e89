-- PgBackMan catalog: entity tables, housekeeping queues and the version table.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

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
  -- NULL: the node's backup_compression when the job runs
  backup_compression      text CHECK (backup_compression = validate_backup_compression(backup_compression)),
  retention_period        interval NOT NULL DEFAULT '7 days' CHECK (retention_interval_ok(retention_period)),
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
  backup_compression      text CHECK (backup_compression = validate_backup_compression(backup_compression)),
  retention_period        interval NOT NULL DEFAULT '7 days' CHECK (retention_interval_ok(retention_period)),
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
  excluded_tables            text[],  -- FULL/DATA/RDS: tables whose data the archive does not hold
  compression                text,    -- what the run used, e.g. gzip:6, zstd:3, none
  encrypted                  boolean NOT NULL DEFAULT false,  -- every file encrypted with age
  encryption_recipients      text[],  -- the age public keys the files were encrypted to
  -- Offsite copy (object storage): NULL status = none wanted (offsite off when it was taken).
  -- PENDING (to upload), UPLOADED (every file and the manifest checked), ERROR (why in
  -- offsite_error; retried), EXPIRED (deleted by offsite retention). Written only by
  -- set_backup_offsite_status().
  offsite_status             text CHECK (offsite_status IN ('PENDING', 'UPLOADED', 'ERROR', 'EXPIRED')),
  offsite_location           text CHECK (offsite_location ~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\x01-\x1f\x7f]*/$'),
  offsite_endpoint           text CHECK (offsite_endpoint !~ '[\x01-\x20\x7f@]'),
  offsite_updated            timestamptz,
  offsite_error              text,
  -- Local files removed by retention while the offsite copy lives on: the row stays (a
  -- restore fetches the copy) until offsite retention expires it.
  local_deleted_at           timestamptz,
  -- D41: what is known about the stored files of a SUCCEEDED backup, and since when:
  --   INTACT     present with their recorded sizes, manifest and checksums verified
  --              (by pgbackman_dump when it wrote them, by maintenance since);
  --   MISSING    a file is gone or has another size;  CORRUPT  a checksum does not match;
  --   UNVERIFIED a backup this software wrote has no checksum or manifest in the catalog
  --              (tampering): never counted by retention, restored only when forced;
  --   LEGACY     imported from upstream 1.x (no manifest ever existed): restorable as
  --              "legacy, unverified", never counted by retention.
  -- Set only through register_backup_catalog() and record_backup_integrity(); NULL for runs
  -- that did not succeed.
  integrity                  text CHECK (integrity IN ('INTACT', 'MISSING', 'CORRUPT', 'UNVERIFIED', 'LEGACY')),
  integrity_checked          timestamptz,
  integrity_detail           text,
  wait_duration              interval,  -- waited for a slot (max_parallel_backups) before dumping
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

-- Restore drills (docs/manual.rst "Restore drills"): every drill_interval the newest SUCCEEDED
-- backup of a definition is restored into a scratch database on the drill node, checked
-- against the facts recorded at dump time and dropped again (pgbackman_restore --drill N).
-- pgbackman_control of the definition's backup server queues the run as an at job when the
-- drill is due (get_due_restore_drills); queued_at / queue_status say what it last did.
CREATE TABLE restore_drill (
  drill_id         bigserial PRIMARY KEY,
  registered       timestamptz NOT NULL DEFAULT now(),
  def_id           bigint NOT NULL REFERENCES backup_definition (def_id) ON DELETE CASCADE,
  drill_node_id    bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  drill_interval   interval NOT NULL CHECK (drill_interval BETWEEN interval '1 hour' AND interval '3650 days'),
  status           varchar(20) NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'STOPPED')),
  queued_at        timestamptz,
  queue_status     text REFERENCES at_definition_status (code) ON DELETE RESTRICT,
  remarks          text CHECK (remarks !~ '[\x01-\x1f\x7f]'),
  UNIQUE (def_id, drill_node_id)
);

-- One row per drill run: what it proved (bck_id), what it checked, what went wrong.
CREATE TABLE restore_drill_run (
  drill_run_id     bigserial PRIMARY KEY,
  registered       timestamptz NOT NULL DEFAULT now(),
  drill_id         bigint NOT NULL REFERENCES restore_drill (drill_id) ON DELETE CASCADE,
  def_id           bigint NOT NULL,
  bck_id           bigint REFERENCES backup_catalog (bck_id) ON DELETE SET NULL,
  backup_server_id integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  drill_node_id    bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  procpid          integer,
  dbname           text,
  scratch_dbname   text,
  started          timestamptz,
  finished         timestamptz,
  duration         interval,
  execution_status text REFERENCES job_execution_status (code) ON DELETE RESTRICT,
  checks           text[],              -- what was checked, one line each
  roles_created    text[],              -- roles the run created on the drill node (and dropped)
  error_message    text,
  drill_log_file   text,
  global_log_file  text NOT NULL,
  run_uuid         uuid UNIQUE
);

-- clone_database: a snapshot of a database taken now and restored under another name, as one
-- at job (pgbackman_restore --clone N). The run fills snapshot_id and restore_def, so the
-- restore shows in show_restore_catalog like any other.
CREATE TABLE clone_definition (
  clone_id                 bigserial PRIMARY KEY,
  registered               timestamptz NOT NULL DEFAULT now(),
  backup_server_id         integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  source_pgsql_node_id     bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  source_dbname            text NOT NULL CHECK (source_dbname <> '' AND source_dbname !~ '[\x01-\x1f\x7f]' AND octet_length(source_dbname) <= 63),
  target_pgsql_node_id     bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  target_dbname            text NOT NULL CHECK (target_dbname <> '' AND target_dbname !~ '[\x01-\x1f\x7f]' AND octet_length(target_dbname) <= 63),
  renamed_dbname           text CHECK (renamed_dbname <> '' AND renamed_dbname !~ '[\x01-\x1f\x7f]' AND octet_length(renamed_dbname) <= 63),
  roles_to_restore         text[] NOT NULL DEFAULT '{}' CHECK (array_to_string(roles_to_restore, ',') !~ '[\x01-\x1f\x7f]'),
  extra_restore_parameters text NOT NULL DEFAULT '' CHECK (extra_restore_parameters !~ '[\x01-\x1f\x7f]'),
  at_time                  timestamptz NOT NULL DEFAULT now(),
  status                   text NOT NULL DEFAULT 'WAITING' REFERENCES at_definition_status (code) ON DELETE RESTRICT,
  snapshot_id              bigint REFERENCES snapshot_definition (snapshot_id) ON DELETE SET NULL,
  restore_def              bigint REFERENCES restore_definition (restore_def) ON DELETE SET NULL,
  error_message            text,
  remarks                  text CHECK (remarks !~ '[\x01-\x1f\x7f]')
);

-- Disk usage measured by pgbackman_maintenance on each backup server (so any shell can show
-- it): one row per (server, node partition, day), today's row rewritten at each measurement.
-- Bytes are allocated bytes, as du counts them; other_bytes are the files of the partition
-- that belong to no backup of the catalog (logs of restores and drills, partial or orphaned
-- files); job_bytes: {"def:<DefID>": bytes, "snapshot:<SnapshotID>": bytes}.
CREATE TABLE disk_usage (
  backup_server_id integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  pgsql_node_id    bigint NOT NULL REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  day              date NOT NULL,
  measured         timestamptz NOT NULL,
  partition_path   text NOT NULL,
  fs_id            text NOT NULL,
  fs_path          text NOT NULL,
  fs_size_bytes    bigint NOT NULL CHECK (fs_size_bytes >= 0),
  fs_free_bytes    bigint NOT NULL CHECK (fs_free_bytes >= 0),
  disk_bytes       bigint NOT NULL CHECK (disk_bytes >= 0),
  other_bytes      bigint NOT NULL CHECK (other_bytes >= 0),
  job_bytes        jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (backup_server_id, pgsql_node_id, day)
);

-- Upstream's columns, generalised: an alert need not be about one catalog row (a stale
-- definition, a refused config value, a full partition), so ref_id, bck_id, pgsql_node_id and
-- sendto may be NULL. ref_id is the def_id / snapshot_id / restore_def the alert is about.
CREATE TABLE alerts (
  alert_id         bigserial PRIMARY KEY,
  registered       timestamptz NOT NULL DEFAULT now(),
  alert_type       text NOT NULL REFERENCES alert_type (code) ON DELETE RESTRICT,
  ref_id           bigint,
  bck_id           bigint REFERENCES backup_catalog (bck_id) ON DELETE CASCADE,
  backup_server_id integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  pgsql_node_id    bigint REFERENCES pgsql_node (node_id) ON DELETE CASCADE,
  dbname           text,
  execution_status text REFERENCES job_execution_status (code) ON DELETE RESTRICT,
  error_message    text,
  sendto           text,
  alert_sent       boolean NOT NULL DEFAULT false,
  run_uuid         uuid UNIQUE,           -- exactly-once ingest of alerts spooled while the catalog was down
  episode_key      text,                  -- set when raised for an episode (alert_episode)
  -- Delivery by pgbackman_alerts: alert_sent is true once every channel it needs ('mail',
  -- 'urls') is in "delivered"; failures count attempts and keep the last error for show_alerts.
  delivered        text[] NOT NULL DEFAULT '{}',
  sent_at          timestamptz,
  delivery_attempts integer NOT NULL DEFAULT 0,
  last_delivery_error text
);

-- Open episodes: one alert per episode (e.g. 'stale:def:42'), however many passes see it.
-- raise_alert() opens an episode and alerts only when it was not open; end_alert_episode()
-- closes it when the trouble is over, so the next occurrence alerts again.
CREATE TABLE alert_episode (
  episode_key      text PRIMARY KEY CHECK (episode_key <> ''),
  backup_server_id integer NOT NULL REFERENCES backup_server (server_id) ON DELETE CASCADE,
  opened           timestamptz NOT NULL DEFAULT now(),
  alert_id         bigint
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

-- The identity columns (node, dbname, code, snapshot) let maintenance check that every path
-- is exactly what pgbackman_dump writes for that backup before it deletes anything (D42).
CREATE TABLE catalog_entries_to_delete (
  del_id                    bigserial PRIMARY KEY,
  registered                timestamptz NOT NULL DEFAULT now(),
  def_id                    bigint,
  bck_id                    bigint NOT NULL,
  backup_server_id          integer NOT NULL,
  pgsql_node_id             bigint,
  dbname                    text,
  backup_code               text,
  snapshot_id               bigint,
  pg_dump_file              text,
  pg_dump_log_file          text,
  pg_dump_roles_file        text,
  pg_dump_roles_log_file    text,
  pg_dump_dbconfig_file     text,
  pg_dump_dbconfig_log_file text,
  pg_dump_manifest_file     text
);

-- Offsite copies whose catalog row was deleted otherwise than by offsite retention (forced
-- deletion of a definition, a node's removal...): every fact their object keys derive from,
-- kept until pgbackman_maintenance (offsite-retention) has deleted the objects.
CREATE TABLE offsite_copies_to_delete (
  del_id                bigserial PRIMARY KEY,
  registered            timestamptz NOT NULL DEFAULT now(),
  bck_id                bigint NOT NULL,
  backup_server_id      integer NOT NULL,
  def_id                bigint,
  snapshot_id           bigint,
  dbname                text NOT NULL,
  finished              timestamptz,
  server_fqdn           text NOT NULL,
  node_fqdn             text NOT NULL,
  node_port             integer NOT NULL,
  pg_dump_file          text,
  pg_dump_roles_file    text,
  pg_dump_dbconfig_file text,
  pg_dump_manifest_file text,
  offsite_status        text,
  offsite_location      text NOT NULL,
  offsite_endpoint      text
);

CREATE TABLE restore_logs_to_delete (
  del_id               bigserial PRIMARY KEY,
  registered           timestamptz NOT NULL DEFAULT now(),
  backup_server_id     integer NOT NULL,
  restore_log_file     text NOT NULL,
  restore_def          bigint,          -- identity of the log (D42): restore definition or drill
  target_pgsql_node_id bigint,
  target_dbname        text,
  restore_job          text NOT NULL DEFAULT 'restoredef'
                       CHECK (restore_job IN ('restoredef', 'drill'))
);

CREATE TABLE pgbackman_version (
  registered timestamptz NOT NULL DEFAULT now(),
  version    integer NOT NULL,
  tag        text NOT NULL,
  PRIMARY KEY (version, tag)
);

-- What an upgrade could not carry over from the catalog it started from, and why (e.g. a
-- PgBackMan 1.x configuration value this version refuses, a catalog row whose dump file was
-- recorded as 'None'). Written by sql/pgbackman_5.sql and later numbered upgrades; empty
-- after a fresh install. Operators read it after an upgrade (docs/manual.rst, Migration).
CREATE TABLE upgrade_not_carried (
  id           bigserial PRIMARY KEY,
  registered   timestamptz NOT NULL DEFAULT now(),
  from_version integer NOT NULL,        -- schema version of the catalog before the upgrade
  from_tag     text NOT NULL,
  object       text NOT NULL,           -- the table (or kind of object) the item belonged to
  ref          text NOT NULL,           -- which one: 'bck_id 42', 'node 3 retention_period', ...
  value        text,                    -- what was there
  reason       text NOT NULL            -- why it was not carried over and what was done instead
);
