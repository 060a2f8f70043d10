#!/usr/bin/env bash
#
# Run FreeRADIUS 3.2 with radgraph's overlay.
#
#   scripts/freeradius.sh          run FreeRADIUS in the foreground, logging to stdout
#   scripts/freeradius.sh --check  check the configuration (freeradius -C) and exit
#
# It assembles a raddb in a temporary directory: a copy of Debian's stock
# /etc/freeradius/3.0 with radius-config/ on top. The overlay's mods-enabled/
# and sites-enabled/ replace the stock ones entirely, so only the modules and
# the one virtual server that radgraph needs are loaded (no "default" or
# "inner-tunnel" site, no EAP, no proxy socket): FreeRADIUS listens only on
# RADIUS_LISTEN_ADDR, on RADIUS_AUTH_PORT and RADIUS_ACCT_PORT.
#
# Everything is configured through the environment; see radius-config/README.md.
#   RADGRAPH_DB_HOST      (default 127.0.0.1)
#   RADGRAPH_DB_PORT      (default 3306)
#   RADGRAPH_DB_NAME      (required)
#   RADGRAPH_DB_USER      (required)
#   RADGRAPH_DB_PASSWORD  (default empty)
#   RADIUS_LISTEN_ADDR    (default 127.0.0.1)
#   RADIUS_AUTH_PORT      (default 1812)
#   RADIUS_ACCT_PORT      (default 1813)
#   RADIUS_DEBUG          (default 0; 1 = freeradius -xx, 2 = -xxx: log every request)
#   RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR (default no; yes = drop Access-Requests without one)
#
# The script execs FreeRADIUS, so its pid is FreeRADIUS's pid: SIGTERM to it
# stops the server. A small watcher removes the temporary directory once
# FreeRADIUS has exited, however it exits (see cleanup_when_done below).
set -euo pipefail

readonly INSTALL_HINT='apt-get update && apt-get install -y freeradius freeradius-mysql freeradius-utils'
readonly STOCK_DIR=/etc/freeradius/3.0
readonly SQL_MYSQL_DRIVER=/usr/lib/freeradius/rlm_sql_mysql.so
OVERLAY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../radius-config" && pwd)"
readonly OVERLAY_DIR

die() {
  echo "freeradius.sh: $*" >&2
  exit 1
}

mode=run
case "${1:-}" in
  '') ;;
  --check) mode=check ;;
  -h | --help)
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
    exit 0
    ;;
  *) die "unknown argument '$1' (usage: $0 [--check])" ;;
esac
[[ $# -le 1 ]] || die "too many arguments (usage: $0 [--check])"

# --- Prerequisites ---------------------------------------------------------
# Debian installs the daemon in /usr/sbin, which is not on a normal user's PATH.
FREERADIUS_BIN="$(PATH="$PATH:/usr/sbin:/sbin" command -v freeradius || true)"
[[ -n "$FREERADIUS_BIN" ]] ||
  die "FreeRADIUS is not installed (no 'freeradius' binary). Install Debian's packages: $INSTALL_HINT"
[[ -f "$SQL_MYSQL_DRIVER" ]] ||
  die "the FreeRADIUS MySQL driver ($SQL_MYSQL_DRIVER) is missing. Install it: $INSTALL_HINT"
if [[ ! -r "$STOCK_DIR/radiusd.conf" ]]; then
  # Debian makes /etc/freeradius readable only by root and the freerad group.
  if [[ -e /etc/freeradius && "$(id -u)" -ne 0 ]] && ! id -nG | tr ' ' '\n' | grep -qx freerad; then
    die "cannot read $STOCK_DIR as $(id -un): Debian lets only root and the freerad group read it. Run as root, or add this user to the group: usermod -aG freerad $(id -un) (then log in again)"
  fi
  die "the stock FreeRADIUS configuration $STOCK_DIR/radiusd.conf is missing or unreadable. (Re)install it: $INSTALL_HINT"
fi

# --- Environment -----------------------------------------------------------
# FreeRADIUS expands an unset $ENV{X} to an empty string (an empty port means
# the default RADIUS port), so the defaults and the checks live here.
export RADGRAPH_DB_HOST="${RADGRAPH_DB_HOST:-127.0.0.1}"
export RADGRAPH_DB_PORT="${RADGRAPH_DB_PORT:-3306}"
export RADGRAPH_DB_PASSWORD="${RADGRAPH_DB_PASSWORD:-}"
export RADIUS_LISTEN_ADDR="${RADIUS_LISTEN_ADDR:-127.0.0.1}"
export RADIUS_AUTH_PORT="${RADIUS_AUTH_PORT:-1812}"
export RADIUS_ACCT_PORT="${RADIUS_ACCT_PORT:-1813}"
RADIUS_DEBUG="${RADIUS_DEBUG:-0}"
export RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR="${RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR:-no}"

[[ -n "${RADGRAPH_DB_NAME:-}" ]] || die "RADGRAPH_DB_NAME is not set (the MySQL/MariaDB database that holds the FreeRADIUS tables)"
[[ -n "${RADGRAPH_DB_USER:-}" ]] || die "RADGRAPH_DB_USER is not set (the MySQL/MariaDB user FreeRADIUS logs in as)"
export RADGRAPH_DB_NAME RADGRAPH_DB_USER

check_port() { # name value
  [[ "$2" =~ ^[0-9]+$ ]] && ((10#$2 >= 1 && 10#$2 <= 65535)) ||
    die "$1 must be a port number between 1 and 65535, got '$2'"
}
check_port RADGRAPH_DB_PORT "$RADGRAPH_DB_PORT"
check_port RADIUS_AUTH_PORT "$RADIUS_AUTH_PORT"
check_port RADIUS_ACCT_PORT "$RADIUS_ACCT_PORT"
[[ "$RADIUS_AUTH_PORT" != "$RADIUS_ACCT_PORT" ]] ||
  die "RADIUS_AUTH_PORT and RADIUS_ACCT_PORT are both $RADIUS_AUTH_PORT; they must differ"
[[ -n "$RADGRAPH_DB_HOST" ]] || die "RADGRAPH_DB_HOST is empty"
[[ -n "$RADIUS_LISTEN_ADDR" ]] || die "RADIUS_LISTEN_ADDR is empty"
# A value with a double quote or a newline would break out of the quoted
# strings in the configuration.
for var in RADGRAPH_DB_HOST RADGRAPH_DB_NAME RADGRAPH_DB_USER RADGRAPH_DB_PASSWORD RADIUS_LISTEN_ADDR; do
  [[ "${!var}" != *[$'"\n\\']* ]] || die "$var must not contain a double quote, a backslash or a newline"
done
case "$RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR" in
  yes | no) ;;
  *) die "RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR must be yes or no, got '$RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR'" ;;
esac
case "$RADIUS_DEBUG" in
  0 | '') debug_flags=() ;;
  1) debug_flags=(-xx) ;;
  2) debug_flags=(-xxx) ;;
  *) die "RADIUS_DEBUG must be 0, 1 or 2, got '$RADIUS_DEBUG'" ;;
esac

# --- Assemble the raddb ----------------------------------------------------
# The name is set and the traps armed before the directory exists, so a signal
# at any point before the exec below leaves nothing behind.
raddb="${TMPDIR:-/tmp}/radgraph-freeradius.$$.${RANDOM}${RANDOM}"
[[ ! -e "$raddb" && ! -L "$raddb" ]] || die "$raddb already exists"
trap 'rm -rf "$raddb"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -m 0700 "$raddb"

cp -a "$STOCK_DIR/." "$raddb/"
# The overlay's lists of enabled modules and sites are complete: drop the stock ones.
rm -rf "$raddb/mods-enabled" "$raddb/sites-enabled"
mkdir "$raddb/mods-enabled" "$raddb/sites-enabled"
# Overlay files replace stock files of the same name; the enabled entries are
# relative symlinks into mods-available/ and sites-available/.
(cd "$OVERLAY_DIR" && tar --exclude=./README.md -cf - .) | (cd "$raddb" && tar -xf - --no-same-owner)

# Privileges. Debian's radiusd.conf has `security { user = freerad; group = freerad }`.
# - As root (production, docker): we keep that drop. FreeRADIUS reads
#   radiusd.conf as root, then switches to freerad before it instantiates the
#   modules, which read more files under the raddb (the attr_filter and
#   preprocess lists, queries.conf, ...); a file it cannot read stops it with
#   "Permission denied". So the whole copy goes to the freerad group,
#   read-only, whatever owners and modes the checkout of radius-config/ has.
# - As any other user, FreeRADIUS cannot switch users (it dies with "Cannot
#   initialize supplementary group list for user freerad"), so in the copy the
#   user/group lines are commented out and it runs as the calling user, who
#   owns the copy. That user needs the freerad group only to read the stock
#   /etc/freeradius/3.0 (see above).
if [[ "$(id -u)" -eq 0 ]]; then
  if getent group freerad >/dev/null; then
    chgrp -hR freerad "$raddb" # -h: symlinks themselves, never their targets
  fi
  chmod -R u+rwX,g+rX,g-w,o-rwx "$raddb"
else
  chmod -R u+rwX,go-rwx "$raddb"
  sed -i -E '/^[[:space:]]*security[[:space:]]*\{/,/^[[:space:]]*\}/ s/^([[:space:]]*)(user|group)([[:space:]]*=)/\1#\2\3/' "$raddb/radiusd.conf"
fi

args=(-d "$raddb" -l stdout "${debug_flags[@]}")

if [[ "$mode" == check ]]; then
  # Checks the whole configuration and instantiates the modules: the sql
  # module connects to the database and reads the nas table.
  "$FREERADIUS_BIN" -C "${args[@]}"
  exit $? # the EXIT trap removes the raddb
fi

# --- Run ---------------------------------------------------------------------
# cleanup_when_done: fd 9 is the write end of a pipe whose reader removes the
# raddb when it reads end-of-file, i.e. when every holder of the write end is
# gone. After exec, FreeRADIUS holds it (and passes it to its children), so the
# directory goes when FreeRADIUS exits, even on SIGKILL. The reader ignores
# SIGINT/SIGTERM/SIGHUP so that Ctrl-C on the terminal (which signals the whole
# process group) stops FreeRADIUS but not the cleanup. It keeps the script's
# stdout and stderr, so whoever reads them sees end-of-file only after the
# directory is gone. (The EXIT trap stays for the few lines until exec, which
# does not run it.)
exec 9> >(
  trap '' INT TERM HUP
  cd /
  cat >/dev/null
  rm -rf "$raddb"
)

echo "freeradius.sh: raddb $raddb; auth ${RADIUS_LISTEN_ADDR}:${RADIUS_AUTH_PORT}, acct ${RADIUS_LISTEN_ADDR}:${RADIUS_ACCT_PORT}; database ${RADGRAPH_DB_USER}@${RADGRAPH_DB_HOST}:${RADGRAPH_DB_PORT}/${RADGRAPH_DB_NAME}"
exec "$FREERADIUS_BIN" -f "${args[@]}"
