#!/usr/bin/env bash
# Install the Debian packages PgBackMan and its test-suite need, only those that are missing.
set -euo pipefail

missing=()
have_pg_server() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

have_pg_server || missing+=(postgresql)
have_pkg postgresql-client-common || missing+=(postgresql-client)
command -v cron >/dev/null || missing+=(cron)
command -v atd >/dev/null || missing+=(at)
have_pkg libpq-dev || missing+=(libpq-dev)
command -v gcc >/dev/null || missing+=(gcc)
command -v runuser >/dev/null || missing+=(util-linux)
[[ -x /usr/bin/time ]] || missing+=(time)   # bench/: peak RSS of pg_dump / pg_restore
command -v openssl >/dev/null || missing+=(openssl)   # tests: TLS certificates (catalog, SMTP)
command -v age >/dev/null || missing+=(age)   # decrypting a backup by hand; tests: age-keygen, age -d
command -v man >/dev/null || missing+=(man-db)        # tests: the manual pages render (man -l)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The postgresql package starts a system cluster; PgBackMan never needs it.
  if command -v pg_lsclusters >/dev/null && [ "$(id -u)" -eq 0 ]; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
      pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
    done
  fi
fi

# atd must run for snapshot/restore jobs (and their tests). Start it when it is not running.
if [ "$(id -u)" -eq 0 ] && command -v atd >/dev/null && ! pgrep -x atd >/dev/null; then
  atd || true
fi
exit 0
