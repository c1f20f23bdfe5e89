-- PgBackMan catalog: default configuration of backup servers and pgsql nodes.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

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
  ('pgbackman_dump',        '/usr/bin/pgbackman_dump',   'Not used: [backup_server] pgbackman_dump of the config file'),
  ('pgbackman_restore',     '/usr/bin/pgbackman_restore','Not used: [backup_server] pgbackman_restore of the config file'),
  ('admin_user',            'postgres',                  'PostgreSQL admin user'),
  ('backup_user',           'pgbackman',                 'OS user that runs cron and at jobs'),
  ('encryption_recipients', '',                          'age public keys (age1...) encrypted backups are encrypted to; this server cannot decrypt them'),
  ('max_parallel_backups',  'auto',                      'Dumps this backup server runs at once (auto = 2 per CPU, a number, or unlimited); the others wait their turn'),
  ('pgsql_bin_12',          '/usr/lib/postgresql/12/bin','PostgreSQL 12 bin directory'),
  ('pgsql_bin_13',          '/usr/lib/postgresql/13/bin','PostgreSQL 13 bin directory'),
  ('pgsql_bin_14',          '/usr/lib/postgresql/14/bin','PostgreSQL 14 bin directory'),
  ('pgsql_bin_15',          '/usr/lib/postgresql/15/bin','PostgreSQL 15 bin directory'),
  ('pgsql_bin_16',          '/usr/lib/postgresql/16/bin','PostgreSQL 16 bin directory'),
  ('pgsql_bin_17',          '/usr/lib/postgresql/17/bin','PostgreSQL 17 bin directory'),
  ('pgsql_bin_18',          '/usr/lib/postgresql/18/bin','PostgreSQL 18 bin directory'),
  ('offsite_url',           '',                          'Offsite copies: s3://bucket/prefix (empty = off)'),
  ('offsite_endpoint_url',  '',                          'S3 endpoint of MinIO, Ceph RGW... (empty = AWS)'),
  ('offsite_retention_period', '90 days',                'How long offsite copies are kept'),
  ('min_free_disk_space',   '10%',                       'Free space a backup partition must keep (percent of its size or bytes, e.g. 10% or 50 GB); less raises a Disk-space alert');

INSERT INTO pgsql_node_default_config (parameter, value, description) VALUES
  ('pgnode_backup_partition',      '/srv/pgbackman/pgsql_node_%%pgnode%%', 'Partition to save pgbackman information for a pgsql node'),
  ('pgnode_crontab_file',          '/etc/cron.d/pgsql_node_%%pgnode%%',    'Crontab file for pgsql node in the backup server'),
  ('encryption',                   'false',               'Default of new definitions and snapshots: encrypt backups with age (needs the backup server''s encryption_recipients)'),
  ('backup_compression',           'gzip:6',              'Compression of backups: gzip:N, zstd:N or lz4:N (pg_dump 16+ except CLUSTER), none'),
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
  ('automatic_deletion_retention', '14 days',             'Retention after a backup definition was set to DELETED'),
  ('stale_backup_grace',           '4 hours',             'How long after a scheduled run a definition without a new successful backup is STALE'),
  ('backup_timeout',               '1 day',               'Wall-clock limit of one backup run; a run still going then ends as one ERROR'),
  ('max_parallel_backups',         '4',                   'Dumps one backup server runs at once against this node (a number, or unlimited); the others wait their turn');
