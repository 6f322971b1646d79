/**
 * The three NAT behaviours of the lab as nftables rulesets (RFC 4787 terms).
 * Each runs in its router's namespace, `wan0` facing the lab's internet and
 * `lan0` the home network. Verified by ./probe.ts before any result counts.
 *
 * - port-restricted cone: `masquerade`. Linux keeps the inside source port
 *   when it is free, so one inside socket gets one outside port whatever the
 *   destination (endpoint-independent mapping); conntrack lets in only
 *   replies from the exact address and port sent to (address- and
 *   port-dependent filtering).
 * - symmetric: `masquerade fully-random`: a random outside port for every
 *   new destination address or port (address- and port-dependent mapping),
 *   same filtering.
 * - full cone: `masquerade`, plus a dynamic map from each outgoing UDP
 *   source port to the inside address that used it; anything arriving at
 *   that port from anywhere is DNAT'ed in (endpoint-independent filtering).
 */
export type NatType = 'full-cone' | 'port-restricted' | 'symmetric'

/** How long the full cone keeps a port open to everyone after its last outgoing packet (a common router default). */
const FULL_CONE_TIMEOUT = '5m'

export function natRuleset(type: NatType, table: string): string {
  const postrouting = (masquerade: string): string => `
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" ${masquerade}
  }`
  switch (type) {
    case 'port-restricted':
      return `table ip ${table} {${postrouting('masquerade')}\n}\n`
    case 'symmetric':
      return `table ip ${table} {${postrouting('masquerade fully-random')}\n}\n`
    case 'full-cone':
      return `table ip ${table} {
  map fullcone {
    type inet_service : ipv4_addr
    flags dynamic,timeout
    timeout ${FULL_CONE_TIMEOUT}
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan0" dnat to udp dport map @fullcone
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "lan0" meta l4proto udp update @fullcone { udp sport : ip saddr }
  }${postrouting('masquerade')}
}
`
  }
}
