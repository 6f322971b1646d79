#!/usr/bin/env bash
# The NAT lab (scripts/nat-lab/, used by __tests__/integration/nat-lab.test.ts
# and `npm run bench:nat`) needs Debian's nftables and coturn. Install them when
# we are root (CI), otherwise say exactly how, and fail: the lab test never skips.
set -euo pipefail

missing=()
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
command -v turnserver >/dev/null 2>&1 || missing+=(coturn)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-nat-lab: installing ${missing[*]} with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # coturn's package would start its own service where an init system runs; the lab starts its own turnserver.
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi

cat >&2 <<MSG
ensure-nat-lab: the NAT lab test needs ${missing[*]} and root (network namespaces).
Install (Debian/Ubuntu) and run the tests as root, as CI does:

    sudo apt-get update && sudo apt-get install -y ${missing[*]}
MSG
exit 1
