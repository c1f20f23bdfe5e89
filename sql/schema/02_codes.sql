-- PgBackMan catalog: code tables and their rows.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

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
-- Every kind of trouble raises an alert row (raise_alert()); pgbackman_alerts delivers them.
INSERT INTO alert_type VALUES
  ('Backup-def',       'A scheduled backup failed'),
  ('Snapshot-def',     'A snapshot failed'),
  ('Restore-def',      'A restore failed'),
  ('Backup-integrity', 'A stored backup is missing, corrupt or unverifiable'),
  ('Backup-stale',     'A backup definition has no recent successful backup'),
  ('Backup-locked',    'A backup run found its previous run still going'),
  ('Config-refused',   'A catalog value was refused by a backup server'),
  ('Maintenance',      'A maintenance task failed'),
  ('Offsite',          'An offsite copy could not be uploaded, verified or expired'),
  ('Restore-drill',    'A restore drill failed: the newest backup did not restore and check cleanly'),
  ('Disk-space',       'A backup partition has less free space than its backup server allows');
