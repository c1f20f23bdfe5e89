#!/usr/bin/env bash
# make quickstart: the embedded default of INTERFACES.md, on this machine, idempotently.
#   - a private PostgreSQL cluster (port $QS_PORT) holding the catalog and a demo database
#   - the config file ~/.pgbackman/pgbackman.conf (written only if absent or ours)
#   - this host registered as backup server, the cluster registered as demo PgSQL node
#   - a backup definition for the demo database, pgbackman_control started,
#     a first real backup taken and shown from the catalog.
# `scripts/quickstart.sh stop` stops the daemon and the cluster.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
QS_DIR=${PGBACKMAN_QUICKSTART_DIR:-/var/lib/pgbackman/quickstart}
QS_PORT=${PGBACKMAN_QUICKSTART_PORT:-55432}
VENV_BIN="$REPO/.venv/bin"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
DATA="$QS_DIR/data"
ROOT="$QS_DIR/backups"
CONF_DIR="${HOME:-/root}/.pgbackman"
CONF="$CONF_DIR/pgbackman.conf"
MARK="# written by PgBackMan make quickstart"
FQDN=$(hostname -f 2>/dev/null || hostname)
HOST=${FQDN%%.*}
DOMAIN=${FQDN#*.}
[ "$DOMAIN" = "$FQDN" ] && DOMAIN=localdomain && FQDN="$HOST.$DOMAIN"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_su() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$QS_PORT" -U postgres "$@"; }
step() { printf '\n==> %s\n' "$*"; }

if [ "${1:-}" = "stop" ]; then
  [ -f "$QS_DIR/control.pid" ] && kill "$(cat "$QS_DIR/control.pid")" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop 2>/dev/null || true
  echo "quickstart stopped"
  exit 0
fi

[ -n "$PGBIN" ] || { echo "PostgreSQL server binaries not found (make deps installs them)" >&2; exit 1; }

step "Private PostgreSQL cluster in $DATA (port $QS_PORT)"
mkdir -p "$QS_DIR"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$QS_DIR"; chmod 0755 "$QS_DIR"; fi
if [ ! -f "$DATA/PG_VERSION" ]; then
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" \
    "$QS_PORT" "$QS_DIR" >>"$DATA/postgresql.conf"
fi
if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$QS_DIR/server.log" -w start >/dev/null
fi

step "Catalog database pgbackman (sql/pgbackman.sql; a no-op when already there)"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$QS_PORT" -U postgres -d postgres \
  -f "$REPO/sql/pgbackman.sql"
# A quickstart catalog of an earlier build says (1, 'v_2_0_0'): renumbered (else a no-op).
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$QS_PORT" -U postgres -d pgbackman \
  -f "$REPO/sql/pgbackman_5.sql"

step "Demo database on the demo PgSQL node"
if [ "$(psql_su -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'demo'")" = 0 ]; then
  psql_su -d postgres -c "CREATE DATABASE demo"
  psql_su -d demo -c "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
    INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 1000) g;"
fi

step "Configuration $CONF"
mkdir -p "$CONF_DIR" "$ROOT"
chmod 0700 "$ROOT"
if [ ! -f "$CONF" ] || head -n 1 "$CONF" | grep -qF "$MARK"; then
  cat >"$CONF" <<EOF
$MARK
[backup_server]
backup_server = $FQDN
root_backup_partition = $ROOT

[pgbackman_database]
host = 127.0.0.1
port = $QS_PORT
dbname = pgbackman
user = pgbackman_role_rw

[pgbackman_control]
pidfile = $QS_DIR/control.pid

[logging]
log_level = INFO
log_file = $QS_DIR/pgbackman.log
EOF
  chmod 0600 "$CONF"
else
  echo "keeping existing $CONF (not written by quickstart)"
fi
export PGBACKMAN_CONFIG="$CONF"

step "Registering $FQDN as backup server and the demo node (127.0.0.1:$QS_PORT)"
psql_su -d pgbackman <<EOF
UPDATE backup_server_default_config SET value = '$ROOT' WHERE parameter = 'root_backup_partition';
UPDATE backup_server_default_config SET value = '$VENV_BIN/pgbackman_dump' WHERE parameter = 'pgbackman_dump';
UPDATE backup_server_default_config SET value = '$VENV_BIN/pgbackman_restore' WHERE parameter = 'pgbackman_restore';
UPDATE backup_server_default_config SET value = 'root' WHERE parameter = 'backup_user';
UPDATE pgsql_node_default_config SET value = '$ROOT/pgsql_node_%%pgnode%%' WHERE parameter = 'pgnode_backup_partition';
EOF
if [ -z "$(psql_su -d pgbackman -c "SELECT server_id FROM backup_server WHERE hostname = '$HOST' AND domain_name = '$DOMAIN'")" ]; then
  "$VENV_BIN/pgbackman" -C "register_backup_server $HOST $DOMAIN 'quickstart backup server'"
fi
NODE_ID=$(psql_su -d pgbackman -c "SELECT node_id FROM pgsql_node WHERE hostname = '127' AND domain_name = '0.0.1' AND pgport = $QS_PORT")
if [ -z "$NODE_ID" ]; then
  "$VENV_BIN/pgbackman" -C "register_pgsql_node 127 0.0.1 $QS_PORT postgres RUNNING 'quickstart demo node'"
  NODE_ID=$(psql_su -d pgbackman -c "SELECT node_id FROM pgsql_node WHERE hostname = '127' AND domain_name = '0.0.1' AND pgport = $QS_PORT")
fi

step "Backup definition for database demo (FULL, daily at 01:30)"
DEF_ID=$(psql_su -d pgbackman -c "SELECT def_id FROM backup_definition WHERE pgsql_node_id = $NODE_ID AND dbname = 'demo' ORDER BY def_id LIMIT 1")
if [ -z "$DEF_ID" ]; then
  "$VENV_BIN/pgbackman" -C "register_backup_definition $FQDN $NODE_ID demo '' 30 01 '*' '*' '*' FULL false '7 days' 1 '' ACTIVE 'quickstart demo'"
  DEF_ID=$(psql_su -d pgbackman -c "SELECT def_id FROM backup_definition WHERE pgsql_node_id = $NODE_ID AND dbname = 'demo' ORDER BY def_id LIMIT 1")
fi

step "pgbackman_control (crontab files, directories, local cache)"
if [ -f "$QS_DIR/control.pid" ] && kill -0 "$(cat "$QS_DIR/control.pid")" 2>/dev/null; then
  echo "already running (pid $(cat "$QS_DIR/control.pid"))"
else
  "$VENV_BIN/pgbackman_control"
  sleep 2
fi
CRONTAB=$(psql_su -d pgbackman -c "SELECT value FROM pgsql_node_config WHERE node_id = $NODE_ID AND parameter = 'pgnode_crontab_file'")
echo "crontab file $CRONTAB:"
grep -v '^#' "$CRONTAB" | sed '/^$/d' || true

step "First backup of demo (pgbackman_dump --def-id $DEF_ID)"
"$VENV_BIN/pgbackman_dump" --def-id "$DEF_ID"

step "The backup catalog"
"$VENV_BIN/pgbackman" -C "show_backup_catalog all all demo all all"
echo
echo "Done. Open the shell with: PGBACKMAN_CONFIG=$CONF $VENV_BIN/pgbackman"
