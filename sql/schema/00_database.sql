-- PgBackMan catalog: database-level privileges, the owner role for everything created after
-- this point, and default privileges for objects the owner creates later.
-- Included by sql/pgbackman.sql and sql/pgbackman_5.sql inside their transaction, as a
-- superuser, with the psql variable pgb_dbname naming the catalog database. Leaves the
-- transaction running as pgbackman_role_owner (SET LOCAL ROLE).

ALTER DATABASE :"pgb_dbname" OWNER TO pgbackman_role_owner;
REVOKE ALL ON DATABASE :"pgb_dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"pgb_dbname" TO pgbackman_role_rw;
GRANT CONNECT ON DATABASE :"pgb_dbname" TO pgbackman_role_server, pgbackman_role_ro;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Everything below is created by (and therefore owned by) the owner role.
SET LOCAL ROLE pgbackman_role_owner;
SET LOCAL search_path = public, pg_temp;

-- Objects created later (numbered upgrades) by the owner: readable by rw and server, and
-- callable by rw; a backup server gets EXECUTE on a new function only by an explicit GRANT.
-- No login role writes a table (D43): every change goes through a SECURITY DEFINER function.
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLES FROM pgbackman_role_rw;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM pgbackman_role_rw;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  GRANT SELECT ON TABLES TO pgbackman_role_rw, pgbackman_role_server;
ALTER DEFAULT PRIVILEGES FOR ROLE pgbackman_role_owner IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO pgbackman_role_rw;
