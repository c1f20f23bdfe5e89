-- PgBackMan catalog: the cluster-wide roles of the privilege model (see sql/pgbackman.sql).
-- Included by sql/pgbackman.sql (before the database exists, outside its transaction) and by
-- sql/pgbackman_5.sql (inside its transaction), as a superuser. Creates only what is missing:
-- an existing role (e.g. upstream's pgbackman_role_rw with its password) is left as it is.

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
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgbackman_role_server') THEN
    CREATE ROLE pgbackman_role_server LOGIN;
  END IF;
  -- Operators can do everything a backup server does (upstream set-ups log in as rw only).
  IF NOT EXISTS (SELECT 1 FROM pg_auth_members
                  WHERE roleid = 'pgbackman_role_server'::regrole
                    AND member = 'pgbackman_role_rw'::regrole) THEN
    GRANT pgbackman_role_server TO pgbackman_role_rw;
  END IF;
END
$roles$;
