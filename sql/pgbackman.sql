-- =====================================================================================
-- PgBackMan catalog schema, version 5 ('v_2_0_0') -- fresh install
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
-- Layout: this file creates the roles (schema/00_roles.sql) and the database and opens the
-- transaction; the objects are in sql/schema/NN_<part>.sql, pulled in with psql's \ir through
-- schema/00_database.sql (privileges), schema/tables.sql (tables, codes, defaults, indexes),
-- schema/code.sql (functions, triggers, views), schema/version.sql and schema/90_grants.sql.
-- sql/pgbackman_5.sql (upgrade from PgBackMan 1.x) pulls in the SAME files, so a new part is
-- listed once, in tables.sql or code.sql, and both paths build the same catalog
-- (tests/integration/upgrade/test_upgrade_equivalence.py compares them).
--
-- Versions: numbering continues upstream's (1 = 1.0.0 ... 4 = master after 1.2.0); this
-- schema is 5 ('v_2_0_0'). A later change n edits the NN_<part>.sql files, adds
-- sql/pgbackman_<n>.sql for existing catalogs (one transaction, SET LOCAL ROLE
-- pgbackman_role_owner, grants SELECT on any new view to pgbackman_role_ro explicitly since
-- default privileges cannot tell views from tables, ends with its own pgbackman_version row)
-- and adds that row to schema/version.sql. pgbackman_upgrade_catalog (catalog/upgrade.py)
-- applies, as a superuser, the files whose number is > max(pgbackman_version.version).
--
-- Privilege model (sql/schema/90_grants.sql): nobody but the owner writes a table; the
-- login roles change the catalog only through SECURITY DEFINER functions (owned by
-- pgbackman_role_owner, search_path pinned, arguments validated).
--   pgbackman_role_owner  NOLOGIN; owns the database and every object in it.
--   pgbackman_role_rw     LOGIN (operators, the shell); CONNECT, TEMPORARY, USAGE, SELECT on
--                         every table and view, EXECUTE on every function. No INSERT, UPDATE,
--                         DELETE or TRUNCATE on any table, no sequence rights. Member of
--                         pgbackman_role_server. Cannot CREATE/ALTER/DROP anything.
--   pgbackman_role_server LOGIN (backup servers: control, maintenance, dump, restore);
--                         CONNECT, USAGE, SELECT on every table and view, EXECUTE on the
--                         functions their programs need only (record results, alerts and
--                         integrity, work the job queue, delete what retention allows). It
--                         cannot register, update or delete servers, nodes, definitions or
--                         configuration.
--   pgbackman_role_ro     LOGIN; CONNECT, USAGE, SELECT on every view, on the code tables and on
--                         pgbackman_version (needed for the shell's version check). Nothing else:
--                         EXECUTE on functions is revoked from PUBLIC; ro may only execute the
--                         pure helper validate_cron_field().
--   PUBLIC                no CONNECT on the database, no CREATE on schema public.
--   Default privileges for objects created later by pgbackman_role_owner: SELECT on tables for
--   rw and server, EXECUTE on functions for rw (server: explicit grants only).
--
-- Deliberate deviations from upstream (rafaelma/pgbackman master), one line each:
--   D01 Objects are owned by NOLOGIN pgbackman_role_owner (upstream: rw owned everything, no GRANTs).
--   D02 pgbackman_role_ro gets SELECT on views/code tables (upstream: ro could read nothing).
--   D03 Schema version row is (5,'v_2_0_0'), after upstream's 1..4 (upstream's fresh install said 3
--       with version 4 objects). Catalogs of this rewrite's (1,'v_2_0_0') are renumbered to 5.
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
--   D26 Retention (pgbackman/core/retention.py, upstream's view get_cron_catalog_entries_to_
--       delete_by_retention is gone, D39): only SUCCEEDED backups whose files verify count
--       towards retention_redundancy (< 1 treated as 1); failed runs are deletable only when older
--       than the period AND a newer intact backup exists. The newest intact backup is never deleted.
--   D27 Snapshot retention (upstream view get_at_catalog_entries_to_delete_by_retention, gone):
--       a snapshot definition is deleted only once it has no backup left.
--   D28 Views use joins instead of per-row lookup functions (fleet scale; ro needs no EXECUTE).
--   D29 show_jobs_queue shows the node's own domain (upstream bug #47 variant).
--   D30 get_role_list_from_bckid returns an empty array instead of raising.
--   D31 generate_backup_catalog_alert: on UPDATE only when the status changes to ERROR.
--   D32 catalog_entries_to_delete: + pg_dump_manifest_file.
--   D33 Indexes for 10k definitions / 1M catalog rows (see "Indexes").
--   D34 delete_* functions raise a clear message when the object is still referenced.
--   D35 backup_definition.deleted_at (stamped by trigger when job_status becomes DELETED) is the
--       quarantine clock of purge_deleted_backup_definition() (upstream's view used "registered",
--       which every UPDATE resets).
--   D36 alerts: + delivered, sent_at, delivery_attempts, last_delivery_error (per-channel delivery
--       by pgbackman_alerts: record_alert_delivery(), record_alert_delivery_failure()).
--   D37 New trigger generate_restore_catalog_alert: a failed restore raises a Restore-def alert
--       (upstream had the type but nothing raised it).
--   D38 Node config stale_backup_grace; views show_alerts and backup_definition_health (read by
--       the monitoring programs, also as pgbackman_role_ro); get_open_alert_episodes().
--   D39 The show_* views are the shell's listings (pgbackman/catalog/listings.py reads them with
--       WHERE filters): columns named as the shell prints them, ids as numbers, plus raw
--       lower-case columns to filter and sort on; no ORDER BY (the reader orders).
--   D40 Offsite copies (issue 18): backup server config offsite_url, offsite_endpoint_url,
--       offsite_retention_period (validated by update_backup_server_config); backup_catalog
--       offsite_status/location/endpoint/updated/error and local_deleted_at, written only by
--       set_backup_offsite_status() (SECURITY DEFINER); register_backup_catalog marks a good
--       backup PENDING when its server has offsite on; delete_backup_catalog keeps a row whose
--       copy is UPLOADED (local_deleted_at) and local retention skips it; a row deleted
--       otherwise queues its copy in offsite_copies_to_delete (trigger); view
--       offsite_copy_summary; alert type Offsite.
--   D41 backup_catalog.integrity (INTACT, MISSING, CORRUPT, UNVERIFIED, LEGACY), integrity_checked,
--       integrity_detail: what is known about a backup's files (record_backup_integrity()).
--   D42 catalog_entries_to_delete and restore_logs_to_delete carry the identity of the row
--       (node, dbname, code, snapshot / restore definition): maintenance deletes a path only
--       when it is exactly what was written for that row.
--   D43 Login roles write no table: every change goes through a SECURITY DEFINER function; new
--       role pgbackman_role_server for backup servers; move_backup_definitions(),
--       claim_waiting_snapshot()/claim_waiting_restore(), purge_deleted_backup_definition().
--   D44 Retention intervals (retention_period, automatic_deletion_retention) must be more than 0
--       and at most 100 years (retention_interval_ok(), table CHECKs and functions); queries use
--       retention_cutoff(), which cannot overflow. The three retention views are gone: the
--       rules live in pgbackman/core/retention.py, the floor in delete_backup_catalog().
-- =====================================================================================

\set ON_ERROR_STOP 1
\set QUIET 1
\if :{?pgb_dbname}
\else
\set pgb_dbname pgbackman
\endif

-- ---------------------------------------------------------------- roles (cluster-wide)
\ir schema/00_roles.sql

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

\ir schema/00_database.sql
\ir schema/tables.sql
\ir schema/code.sql
\ir schema/version.sql
\ir schema/90_grants.sql

SELECT format('PgBackMan catalog installed (version %s, %s) in database %s', version, tag,
              current_database()) AS pgb_msg
  FROM pgbackman_version ORDER BY version DESC LIMIT 1 \gset

RESET ROLE;
COMMIT;

\echo :pgb_msg
