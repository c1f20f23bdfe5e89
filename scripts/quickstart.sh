#!/usr/bin/env bash
# make quickstart: a whole small PgBackMan system on this machine, private to this checkout.
#   - cron and atd running (host services: started when they are not, never stopped here)
#   - a private PostgreSQL cluster holding the catalog and a demo database (the demo node)
#   - the backup server's config file (its programs log in as pgbackman_role_server) and an
#     operator's one for the shell (pgbackman_role_rw), this host registered as backup
#     server, the cluster as PgSQL node, a backup definition for the demo database
#   - pgbackman_control, pgbackman_maintenance and pgbackman_alerts started
#   - a first real backup taken and shown from the catalog
# Everything lives in this checkout's .quickstart/ (data directory, config, logs, backups,
# pidfiles, shell history) except the node's crontab file, /etc/cron.d/pgbackman_qs_<id>_*,
# where <id> is derived from the checkout's path; the port is chosen free on the first run
# and remembered in .quickstart/state. Two checkouts on one host never touch each other.
# Running it twice is harmless.
# `scripts/quickstart.sh stop` (make quickstart-stop) stops every process this checkout's
# quickstart started, removes its at jobs and its crontab files, and keeps the data.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
QS="$REPO/.quickstart"
STATE="$QS/state"
VENV_BIN="$REPO/.venv/bin"
CONF="$QS/pgbackman.conf"              # the backup server's: daemons and jobs
SHELL_CONF="$QS/pgbackman-shell.conf"  # the operator's: the shell
ROOT="$QS/backups"
RUN="$QS/run"
LOG="$QS/pgbackman.log"
PGLOG="$QS/postgresql.log"
ID=$(printf '%s' "$REPO" | sha256sum | cut -c1-8)
CRON_PREFIX="/etc/cron.d/pgbackman_qs_${ID}_"
DAEMONS=(pgbackman_control pgbackman_maintenance pgbackman_alerts)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

step() { printf '\n==> %s\n' "$*"; }
die() { echo "quickstart: $*" >&2; exit 1; }
remembered() { [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | tail -n 1; }
as_pg() { runuser -u postgres -- "$@"; }
psql_su() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

[ "$(id -u)" -eq 0 ] || die "run it as root (it starts cron and writes /etc/cron.d)"

# This checkout's state: a .quickstart/ copied from another checkout is not ours.
if [ -f "$STATE" ] && [ "$(remembered checkout)" != "$REPO" ]; then
  die "$QS belongs to the checkout $(remembered checkout); remove it (rm -rf $QS) and run again"
fi
PORT=$(remembered port || true)
DATA=$(remembered data || true)

# The pid in a pidfile, when it is alive and is that program run with this checkout's config.
our_pid() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null | tr -dc '0-9')
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF "$CONF" || return 1
  echo "$pid"
}

stop_quickstart() {
  local name pid n job
  [ -f "$STATE" ] || { echo "quickstart: nothing to stop in $REPO"; return 0; }
  for name in "${DAEMONS[@]}"; do
    if pid=$(our_pid "$RUN/$name.pid"); then
      kill -TERM "$pid" 2>/dev/null || true
      for n in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      echo "stopped $name (pid $pid)"
    fi
    rm -f "$RUN/$name.pid"
  done
  # at jobs queued by this checkout's pgbackman_control (they name its config file).
  if command -v atq >/dev/null; then
    for job in $(atq 2>/dev/null | awk '{print $1}'); do
      if at -c "$job" 2>/dev/null | grep -qF -- "$CONF"; then atrm "$job" && echo "removed at job $job"; fi
    done
  fi
  for f in "$CRON_PREFIX"*; do
    [ -e "$f" ] && rm -f -- "$f" && echo "removed $f"
  done
  if [ -n "$DATA" ] && [ -n "$PGBIN" ] && as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    echo "stopped the PostgreSQL cluster in $DATA"
  fi
  echo "quickstart stopped (data kept in $QS)"
}

if [ "${1:-}" = "stop" ]; then
  stop_quickstart
  exit 0
fi

[ -n "$PGBIN" ] || die "PostgreSQL server binaries not found (make deps installs them)"
[ -x "$VENV_BIN/pgbackman" ] || die "$VENV_BIN/pgbackman not found (make venv installs it)"

step "cron and atd"
start_service() {
  local daemon=$1
  pgrep -x "$daemon" >/dev/null && { echo "$daemon is running"; return 0; }
  if [ -d /run/systemd/system ]; then systemctl start "$daemon"; else "$daemon"; fi
  echo "started $daemon"
}
start_service cron
start_service atd

step "Private PostgreSQL cluster"
mkdir -p "$QS" "$RUN"
chmod 0755 "$QS"
if [ -z "$DATA" ]; then
  # The cluster runs as postgres: it needs a way down to its data directory.
  if as_pg test -x "$QS"; then DATA="$QS/data"; else DATA="/var/lib/pgbackman/quickstart-$ID/data"; fi
fi
if [ -z "$PORT" ]; then
  PORT=$("$VENV_BIN/python" - "$ID" <<'EOF'
import socket, sys
start = 55432 + int(sys.argv[1], 16) % 2000
for port in list(range(start, 57500)) + list(range(55432, start)):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
EOF
  )
fi
printf 'checkout=%s\nport=%s\ndata=%s\nid=%s\n' "$REPO" "$PORT" "$DATA" "$ID" >"$STATE"
echo "data directory $DATA, port $PORT"
if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  chown postgres: "$DATA"
  chmod 0700 "$DATA"
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" \
    "$PORT" >>"$DATA/postgresql.conf"
fi
touch "$PGLOG" && chown postgres: "$PGLOG"
if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$PGLOG" -w start >/dev/null
fi

step "Catalog database pgbackman (sql/pgbackman.sql; a no-op when already there)"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
  -f "$REPO/sql/pgbackman.sql"
# A quickstart catalog of an earlier build says (1, 'v_2_0_0'): renumbered (else a no-op).
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d pgbackman \
  -f "$REPO/sql/pgbackman_5.sql"

step "Demo database on the demo PgSQL node"
if [ "$(psql_su -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = 'demo'")" = 0 ]; then
  psql_su -d postgres -c "CREATE DATABASE demo"
  psql_su -d demo -c "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
    INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 1000) g;"
fi

FQDN=$(hostname -f 2>/dev/null || hostname)
HOST=${FQDN%%.*}
DOMAIN=${FQDN#*.}
[ "$DOMAIN" = "$FQDN" ] && DOMAIN=localdomain && FQDN="$HOST.$DOMAIN"

step "Configuration $CONF (the backup server) and $SHELL_CONF (the operator's shell)"
mkdir -p "$ROOT"
chmod 0700 "$ROOT"
# The backup server's own file decides what its root processes may touch (crontab_dir; the
# demo runs its jobs as root, which the file must allow); its programs log in as
# pgbackman_role_server, which cannot change definitions. The shell is an operator's:
# pgbackman_role_rw.
write_conf() {
  local file=$1 role=$2
  cat >"$file.tmp" <<EOF
# written by PgBackMan make quickstart for the checkout $REPO
[backup_server]
backup_server = $FQDN
root_backup_partition = $ROOT
crontab_dir = /etc/cron.d
allow_root_backup_user = ON

[pgbackman_database]
host = 127.0.0.1
port = $PORT
dbname = pgbackman
user = $role

[pgbackman_control]
pidfile = $RUN/pgbackman_control.pid

[pgbackman_maintenance]
pidfile = $RUN/pgbackman_maintenance.pid

[pgbackman_alerts]
pidfile = $RUN/pgbackman_alerts.pid

[logging]
log_level = INFO
log_file = $LOG

[output]
history_file = $QS/history
EOF
  chmod 0600 "$file.tmp"
  mv "$file.tmp" "$file"
}
write_conf "$CONF" pgbackman_role_server
write_conf "$SHELL_CONF" pgbackman_role_rw
export PGBACKMAN_CONFIG="$SHELL_CONF"

step "Registering $FQDN as backup server and the demo node (127.0.0.1:$PORT)"
psql_su -d pgbackman <<EOF
UPDATE backup_server_default_config SET value = '$ROOT' WHERE parameter = 'root_backup_partition';
UPDATE backup_server_default_config SET value = 'root' WHERE parameter = 'backup_user';
UPDATE pgsql_node_default_config SET value = '$ROOT/pgsql_node_%%pgnode%%' WHERE parameter = 'pgnode_backup_partition';
UPDATE pgsql_node_default_config SET value = '${CRON_PREFIX}node_%%pgnode%%' WHERE parameter = 'pgnode_crontab_file';
EOF
if [ -z "$(psql_su -d pgbackman -c "SELECT server_id FROM backup_server WHERE hostname = '$HOST' AND domain_name = '$DOMAIN'")" ]; then
  "$VENV_BIN/pgbackman" -C "register_backup_server $HOST $DOMAIN 'quickstart backup server'"
fi
node_id() { psql_su -d pgbackman -c "SELECT node_id FROM pgsql_node WHERE hostname = '127' AND domain_name = '0.0.1' AND pgport = $PORT"; }
NODE_ID=$(node_id)
if [ -z "$NODE_ID" ]; then
  "$VENV_BIN/pgbackman" -C "register_pgsql_node 127 0.0.1 $PORT postgres RUNNING 'quickstart demo node'"
  NODE_ID=$(node_id)
fi

step "Backup definition for database demo (FULL, daily at 01:30)"
def_id() { psql_su -d pgbackman -c "SELECT def_id FROM backup_definition WHERE pgsql_node_id = $NODE_ID AND dbname = 'demo' ORDER BY def_id LIMIT 1"; }
DEF_ID=$(def_id)
if [ -z "$DEF_ID" ]; then
  "$VENV_BIN/pgbackman" -C "register_backup_definition $FQDN $NODE_ID demo '' 30 01 '*' '*' '*' FULL false '7 days' 1 '' ACTIVE 'quickstart demo'"
  DEF_ID=$(def_id)
fi

step "pgbackman_control, pgbackman_maintenance, pgbackman_alerts"
for name in "${DAEMONS[@]}"; do
  if pid=$(our_pid "$RUN/$name.pid"); then
    echo "$name is running (pid $pid)"
    continue
  fi
  "$VENV_BIN/$name" --config "$CONF"
  for n in $(seq 1 100); do our_pid "$RUN/$name.pid" >/dev/null && break; sleep 0.1; done
  pid=$(our_pid "$RUN/$name.pid") || die "$name did not start (see $LOG)"
  echo "started $name (pid $pid)"
done
CRONTAB=$(psql_su -d pgbackman -c "SELECT value FROM pgsql_node_config WHERE node_id = $NODE_ID AND parameter = 'pgnode_crontab_file'")
for n in $(seq 1 100); do [ -f "$CRONTAB" ] && grep -q -- "--def-id" "$CRONTAB" && break; sleep 0.1; done
echo "crontab file $CRONTAB:"
grep -v '^#' "$CRONTAB" | sed '/^$/d' || true

step "First backup of demo (pgbackman_dump --def-id $DEF_ID)"
if [ "$(psql_su -d pgbackman -c "SELECT count(*) FROM backup_catalog WHERE def_id = $DEF_ID AND execution_status = 'SUCCEEDED'")" = 0 ]; then
  "$VENV_BIN/pgbackman_dump" --config "$CONF" --def-id "$DEF_ID"
else
  echo "demo has a backup already"
fi

step "The backup catalog"
"$VENV_BIN/pgbackman" -C "show_backup_catalog all all demo all all"

cat <<EOF

PgBackMan quickstart is running (stop it with: make quickstart-stop).
Config:  $CONF (backup server, pgbackman_role_server)
         $SHELL_CONF (shell, pgbackman_role_rw)
Logs:    $LOG (PostgreSQL: $PGLOG)
Backups: $ROOT
Shell:   $VENV_BIN/pgbackman --config $SHELL_CONF
EOF
