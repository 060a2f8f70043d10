#!/usr/bin/env bash
#
# radgraph, MariaDB, Redis and FreeRADIUS 3.2 with Docker compose, in one command (from
# anywhere in the checkout):
#
#   docker/up.sh                 create the secrets that are missing, then build and start all
#                                four, and wait until every one is healthy
#   docker/up.sh --secrets-only  only create the secrets that are missing
#
# The secrets are files in docker/secrets/ (RADGRAPH_SECRETS_DIR elsewhere; the directory is
# its owner's only), never committed and never in the image: random 32-byte hex values for the
# MariaDB passwords, the admin token, SECRETS_KEY and the token /metrics needs, and the
# DATABASE_URL built from the database password. A secret that exists is never overwritten
# (SECRETS_KEY encrypts the stored RouterOS passwords; MariaDB keeps the password it was first
# started with).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
secrets="${RADGRAPH_SECRETS_DIR:-$here/secrets}"

case "${1:-}" in
  '' | --secrets-only) ;;
  *)
    echo "usage: $0 [--secrets-only]" >&2
    exit 2
    ;;
esac

# The directory is its owner's only; the files in it are readable by all, because compose
# bind-mounts each one into containers whose users (node, mysql, freerad) are not its owner.
mkdir -p "$secrets"
chmod 700 "$secrets"
# Absolute, for compose (docker-compose.yml reads RADGRAPH_SECRETS_DIR from its own directory).
secrets="$(cd "$secrets" && pwd)"
umask 022
for name in db_root_password db_password admin_token secrets_key metrics_token; do
  if [ ! -s "$secrets/$name.txt" ]; then
    od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' > "$secrets/$name.txt"
    echo >> "$secrets/$name.txt"
    echo "created $secrets/$name.txt"
  fi
done
if [ ! -s "$secrets/database_url.txt" ]; then
  printf 'mysql://radgraph:%s@mariadb:3306/radgraph\n' "$(cat "$secrets/db_password.txt")" \
    > "$secrets/database_url.txt"
  echo "created $secrets/database_url.txt"
fi
# Readable in the containers even when made earlier under a stricter umask.
chmod 644 "$secrets"/*.txt
[ "${1:-}" = --secrets-only ] && exit 0

command -v docker >/dev/null || {
  echo "docker is not installed: https://docs.docker.com/engine/install/" >&2
  exit 1
}
# `up --wait` needs the compose plugin (v2.1 or later); without it docker only says
# "unknown shorthand flag: 'f' in -f".
docker compose version >/dev/null 2>&1 || {
  echo "docker's compose plugin is not installed: https://docs.docker.com/compose/install/linux/" >&2
  exit 1
}
RADGRAPH_SECRETS_DIR="$secrets" docker compose -f "$here/docker-compose.yml" up -d --build --wait
echo
echo "radgraph: http://localhost:4000/graphql  (Authorization: Bearer \$(cat $secrets/admin_token.txt))"
echo "metrics:  http://localhost:4000/metrics  (Authorization: Bearer \$(cat $secrets/metrics_token.txt))"
echo "NAS: RADIUS authentication to this host's 1812/udp, accounting to 1813/udp (add the NAS with createNas)"
