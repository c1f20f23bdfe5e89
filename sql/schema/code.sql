-- PgBackMan catalog: functions, triggers and views.
-- Included by sql/pgbackman.sql (fresh install) and sql/pgbackman_5.sql (upgrade from
-- PgBackMan 1.x), after sql/schema/tables.sql, as pgbackman_role_owner.
-- A new part holding functions, triggers or views is added HERE, once, for both paths.

\ir 10_internal.sql
\ir 11_lookups.sql
\ir 12_servers.sql
\ir 13_nodes.sql
\ir 14_definitions.sql
\ir 15_snapshots_restores.sql
\ir 16_registration.sql
\ir 17_maintenance.sql
\ir 18_control.sql
\ir 19_restore_drills.sql
\ir 19_clones.sql
\ir 19_disk_usage.sql
\ir 20_triggers.sql
\ir 30_views.sql
