#!/usr/bin/env bash
# The cluster tests (signal server over Redis/Valkey) start a real redis-server
# on a free port. Make sure Debian's is there: install it when we are root (CI),
# otherwise say exactly how, and fail. Never let those tests skip.
# Where Debian also packages valkey-server (trixie and later), install it too:
# .ci/run then runs the cluster tests against it as well.
set -euo pipefail

REDIS="${REDIS_SERVER:-redis-server}"

have() { command -v "$1" >/dev/null 2>&1; }

if [ -n "${REDIS_SERVER:-}" ]; then
  if have "$REDIS"; then exit 0; fi
  echo "ensure-redis: REDIS_SERVER=$REDIS_SERVER is not an executable." >&2
  exit 1
fi

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }

if [ "$(id -u)" = "0" ] && have apt-get; then
  export DEBIAN_FRONTEND=noninteractive
  if ! have redis-server; then
    echo "ensure-redis: redis-server is missing; installing Debian's redis-server with apt-get..."
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
  fi
  if ! have valkey-server && [ -n "$(candidate valkey-server)" ] && [ "$(candidate valkey-server)" != "(none)" ]; then
    echo "ensure-redis: installing Debian's valkey-server as well..."
    apt-get install -y -qq valkey-server >/dev/null
  fi
fi

if have redis-server; then
  exit 0
fi

cat >&2 <<MSG
ensure-redis: the cluster tests need Debian's redis-server, and it is missing.
Install it (Debian/Ubuntu):

    sudo apt-get update && sudo apt-get install -y redis-server

or point REDIS_SERVER at a redis-server or valkey-server binary, e.g.

    REDIS_SERVER=/usr/bin/valkey-server npm test
MSG
exit 1
