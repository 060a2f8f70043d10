#!/usr/bin/env bash
# Command 2 of the README (and what .ci/run runs): install the test prerequisites that are
# missing, then run every check and every test tier.
#   - FreeRADIUS 3.2 from Debian's packages (freeradius, freeradius-mysql, freeradius-utils)
#   - MariaDB: started when it is installed but not running (TEST_DATABASE_URL points elsewhere)
#   - node_modules: `npm ci` when missing or older than package-lock.json
# Then: typecheck, lint (zero warnings), format, schema.gql check, and the unit, integration
# (MariaDB + SQLite) and end-to-end (real FreeRADIUS) tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- FreeRADIUS -------------------------------------------------------------------------------
if ! command -v freeradius >/dev/null || ! command -v radclient >/dev/null \
  || [ ! -e /usr/lib/freeradius/rlm_sql_mysql.so ]; then
  say "Installing FreeRADIUS from Debian's packages"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    freeradius freeradius-mysql freeradius-utils
fi
freeradius -v | head -n 1

# --- MariaDB ----------------------------------------------------------------------------------
db_url="${TEST_DATABASE_URL:-mysql://root@127.0.0.1:3306}"
db_hostport="${db_url#*://}"; db_hostport="${db_hostport#*@}"; db_hostport="${db_hostport%%/*}"
db_host="${db_hostport%%:*}"; db_port="${db_hostport##*:}"; [ "$db_port" = "$db_hostport" ] && db_port=3306
db_up() { (exec 3<>"/dev/tcp/$db_host/$db_port") 2>/dev/null; }
if ! db_up; then
  if [ -z "${TEST_DATABASE_URL:-}" ] && [ -x /usr/sbin/mariadbd ]; then
    say "Starting the installed MariaDB"
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do db_up && break; sleep 0.5; done
  fi
  if ! db_up; then
    echo "MariaDB is not reachable at $db_host:$db_port. Install it (apt-get install -y mariadb-server)" >&2
    echo "and allow root@127.0.0.1 without a password, or set TEST_DATABASE_URL=mysql://user:pass@host:port" >&2
    echo "to a server where that user may CREATE and DROP databases." >&2
    exit 1
  fi
fi
echo "MariaDB reachable at $db_host:$db_port"

# --- Node packages ----------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi

# --- Checks -----------------------------------------------------------------------------------
say "typecheck";      npm run -s typecheck
say "lint";           npm run -s lint
say "format";         npm run -s format:check
say "schema.gql";     npm run -s schema:check

# --- Tests ------------------------------------------------------------------------------------
say "tests: unit, integration (MariaDB and SQLite), end-to-end (real FreeRADIUS)"
report="$(mktemp -t radgraph-jest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
npx jest --ci --json --outputFile="$report" || status=$?
node -e '
  const r = require(process.argv[1]);
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
