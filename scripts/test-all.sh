#!/usr/bin/env bash
# Command 2 of the README (and what .ci/run runs): install the test prerequisites that are
# missing, then run every check and every test tier.
#   - FreeRADIUS 3.2 from Debian's packages (freeradius, freeradius-mysql, freeradius-utils)
#   - MariaDB: started when it is installed but not running (TEST_DATABASE_URL points elsewhere);
#     as root, a test user is created when root cannot log in over TCP (stock Debian)
#   - Redis (the multi-instance tests): installed from Debian's redis-server when missing, started
#     on 127.0.0.1:6379 when not running (TEST_REDIS_URL points elsewhere)
#   - Chromium from Debian's packages (the operator console's browser test), when missing
#   - openssl (the TLS-to-MariaDB test), when missing
#   - node_modules: `npm ci` when missing or older than package-lock.json
# Then: typecheck, lint (zero warnings), format, schema.gql check, and the unit, integration
# (MariaDB + SQLite) and end-to-end (real FreeRADIUS) tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian keeps freeradius and mariadbd in /usr/sbin, which a normal user's PATH lacks.
export PATH="$PATH:/usr/sbin:/sbin"

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- FreeRADIUS -------------------------------------------------------------------------------
if ! command -v freeradius >/dev/null || ! command -v radclient >/dev/null \
  || [ ! -e /usr/lib/freeradius/rlm_sql_mysql.so ]; then
  say "Installing FreeRADIUS from Debian's packages"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    freeradius freeradius-mysql freeradius-utils
  # The package starts Debian's own FreeRADIUS on 1812/1813 (the default RADIUS_ACCT_PORT of
  # radgraph's listener). The tests start their own FreeRADIUS on free ports, so the service
  # this run just installed is stopped and left disabled.
  as_root systemctl disable --now freeradius >/dev/null 2>&1 \
    || as_root service freeradius stop >/dev/null 2>&1 || true
fi
freeradius -v | sed -n 1p  # sed reads it all: head could SIGPIPE freeradius under pipefail

# --- Chromium (the console's end-to-end test drives Debian's, never a downloaded browser) -------
if [ ! -x /usr/bin/chromium ]; then
  say "Installing Chromium from Debian's packages"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
/usr/bin/chromium --version 2>/dev/null || true

# --- openssl (the TLS-to-MariaDB test makes its certificate with it) ---------------------------
if ! command -v openssl >/dev/null; then
  say "Installing openssl from Debian's packages"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl
fi

# --- Node packages ----------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi

# --- MariaDB ----------------------------------------------------------------------------------
db_url="${TEST_DATABASE_URL:-mysql://root@127.0.0.1:3306}"
db_hostport="${db_url#*://}"; db_hostport="${db_hostport#*@}"; db_hostport="${db_hostport%%/*}"
db_host="${db_hostport%%:*}"; db_port="${db_hostport##*:}"; [ "$db_port" = "$db_hostport" ] && db_port=3306
db_up() { (exec 3<>"/dev/tcp/$db_host/$db_port") 2>/dev/null; }
wait_db() { for _ in $(seq 1 60); do db_up && return 0; sleep 0.5; done; return 1; }
# A real login, not just an open port: prints the server's error when it fails.
db_login() {
  node -e 'require("mysql2/promise").createConnection({ uri: process.argv[1], connectTimeout: 5000 })
    .then((c) => c.end()).catch((e) => { console.error(e.message); process.exit(1); })' "$1"
}
if ! db_up && [ -z "${TEST_DATABASE_URL:-}" ] && [ -x /usr/sbin/mariadbd ]; then
  say "Starting the installed MariaDB"
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  if ! wait_db && command -v service >/dev/null && [ -e /etc/init.d/mariadb ]; then
    # A stock Debian mariadbd refuses to run as root; its init script starts it as mysql.
    as_root service mariadb start || true
    wait_db || true
  fi
fi
if ! db_up; then
  echo "MariaDB is not reachable at $db_host:$db_port. Install it (apt-get install -y mariadb-server)," >&2
  echo "or set TEST_DATABASE_URL=mysql://user:pass@host:port to a server where that user may" >&2
  echo "CREATE and DROP databases named radgraph_t_*." >&2
  exit 1
fi
if ! login_error="$(db_login "$db_url" 2>&1)"; then
  # Stock Debian lets root in only through the Unix socket. As root, make a test user that may
  # manage the radgraph_t_* databases the tests create, and use it for this run.
  if [ -z "${TEST_DATABASE_URL:-}" ] && [ "$(id -u)" -eq 0 ] && command -v mariadb >/dev/null; then
    say "Creating the MariaDB test user radgraph_test@127.0.0.1 ($login_error)"
    pw="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    mariadb -uroot <<SQL
CREATE USER IF NOT EXISTS 'radgraph_test'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'radgraph_test'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`radgraph\\_t\\_%\`.* TO 'radgraph_test'@'127.0.0.1';
SQL
    export TEST_DATABASE_URL="mysql://radgraph_test:$pw@$db_host:$db_port"
    login_error="$(db_login "$TEST_DATABASE_URL" 2>&1)" || {
      echo "MariaDB login still fails: $login_error" >&2
      exit 1
    }
  else
    echo "Cannot log in to MariaDB at $db_host:$db_port: $login_error" >&2
    echo "Set TEST_DATABASE_URL=mysql://user:pass@host:port (a user that may CREATE and DROP" >&2
    echo "databases named radgraph_t_*), or run this script as root to create one." >&2
    exit 1
  fi
fi
echo "MariaDB at $db_host:$db_port: login ok"

# --- Redis ------------------------------------------------------------------------------------
redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
redis_hostport="${redis_url#*://}"; redis_hostport="${redis_hostport#*@}"; redis_hostport="${redis_hostport%%/*}"
redis_host="${redis_hostport%%:*}"; redis_port="${redis_hostport##*:}"; [ "$redis_port" = "$redis_hostport" ] && redis_port=6379
redis_up() { (exec 3<>"/dev/tcp/$redis_host/$redis_port") 2>/dev/null; }
if ! redis_up && [ -z "${TEST_REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null; then
    say "Installing Redis from Debian's packages"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server
  fi
  if ! redis_up; then
    say "Starting Redis on 127.0.0.1:6379 (in memory only)"
    as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 40); do redis_up && break; sleep 0.25; done
  fi
fi
if ! redis_up; then
  echo "Redis is not reachable at $redis_host:$redis_port. Install it (apt-get install -y redis-server)" >&2
  echo "and start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379), or set" >&2
  echo "TEST_REDIS_URL=redis://host:port to one." >&2
  exit 1
fi
echo "Redis at $redis_host:$redis_port: reachable"

# --- Checks -----------------------------------------------------------------------------------
say "typecheck";      npm run -s typecheck
say "lint";           npm run -s lint
say "format";         npm run -s format:check
say "schema.gql";     npm run -s schema:check

# --- Tests ------------------------------------------------------------------------------------
say "tests: unit, integration (MariaDB and SQLite), end-to-end (real FreeRADIUS, Chromium)"
report="$(mktemp -t radgraph-jest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
# Every test process keeps what it printed (the apps' JSON logs at debug) in one directory,
# with the secrets the tests handed to radgraph; test/logs then checks that none leaked.
RADGRAPH_TEST_LOG_DIR="$(mktemp -d -t radgraph-test-logs-XXXXXX)"
export RADGRAPH_TEST_LOG_DIR
trap 'rm -f "$report"; rm -rf "$RADGRAPH_TEST_LOG_DIR"' EXIT
# Two test files at a time: most of a test waits on a database, a server or a child process,
# so two workers finish in about 7 minutes what one does in 11 (jest's default on 2 cores is 1).
npx jest --ci --maxWorkers=2 --json --outputFile="$report" --selectProjects unit integration e2e || status=$?
node -e '
  const r = require(process.argv[1]);
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$report" || status=1
say "logs: no secret in anything the tests' apps logged"
npx jest --ci --selectProjects logs || status=1
exit "$status"
