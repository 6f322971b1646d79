#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core (which brings no
# browser of its own). Make sure it is there: install it when we are root (CI),
# otherwise say exactly how, and fail. Never let the browser tests skip.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "ensure-chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file." >&2
  exit 1
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing; installing Debian's chromium with apt-get (a minute or two)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  if [ -x "$CHROMIUM" ]; then
    echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
    exit 0
  fi
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing." >&2
  exit 1
fi

cat >&2 <<MSG
ensure-chromium: the browser tests need Chromium at $CHROMIUM, and it is missing.
Install it (Debian/Ubuntu):

    sudo apt-get update && sudo apt-get install -y chromium

or point CHROMIUM_PATH at a Chromium/Chrome binary, e.g.

    CHROMIUM_PATH=/path/to/chrome npm test

(\`npx playwright install\` is not used: the tests run Debian's Chromium through playwright-core.)
MSG
exit 1
