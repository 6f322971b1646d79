import { CandidateFilter } from '../../src/transport/webrtc/candidate-filter'

const candidate = (address: string, type = 'host', extra = '') => ({
  type: 'candidate',
  candidate: { candidate: `candidate:1 1 udp 2122260223 ${address} 50000 typ ${type}${extra}`, sdpMid: '0', sdpMLineIndex: 0 },
})
const sent = (filter: CandidateFilter, signals: unknown[]) => [...signals.flatMap((s) => filter.pass(s)), ...filter.complete()]
const addressesOf = (signals: unknown[]) => signals.map((s) => (s as ReturnType<typeof candidate>).candidate?.candidate.split(' ')[4] ?? (s as { type: string }).type)

describe('CandidateFilter (which of our ICE candidates are signalled)', () => {
  it('what @roamhq/wrtc gathers on a machine with a LAN interface: loopback left out, the LAN addresses kept', () => {
    // As gathered here (fd00::2 and 192.0.2.2 on eth0, then lo), tcp candidates included.
    const gathered = [candidate('fd00::2'), candidate('192.0.2.2'), candidate('::1'), candidate('127.0.0.1'), candidate('192.0.2.2', 'host', ' tcptype passive')]
    expect(addressesOf(sent(new CandidateFilter(), gathered))).toEqual(['fd00::2', '192.0.2.2', '192.0.2.2'])
  })

  it('loopback gathered before any other host candidate is held, and dropped once one comes', () => {
    expect(addressesOf(sent(new CandidateFilter(), [candidate('127.0.0.1'), candidate('10.1.2.3')]))).toEqual(['10.1.2.3'])
  })

  it('a machine with nothing but loopback signals its loopback candidates once gathering completes', () => {
    const filter = new CandidateFilter()
    expect(filter.pass(candidate('127.0.0.1'))).toEqual([])
    expect(filter.pass(candidate('::1'))).toEqual([])
    expect(addressesOf(filter.complete())).toEqual(['127.0.0.1', '::1'])
    // After that (an ICE restart gathers again), loopback passes at once: it is all this peer has.
    expect(addressesOf(filter.pass(candidate('127.0.0.1')))).toEqual(['127.0.0.1'])
  })

  it.each(['0.0.0.0', '::', '169.254.10.20', 'fe80::1', 'FE80::abcd', '224.0.0.251', '239.255.255.250', 'ff02::1'])('never signals %s (no remote can reach it)', (address) => {
    expect(sent(new CandidateFilter(), [candidate(address), candidate(address, 'srflx', ' raddr 0.0.0.0 rport 0')])).toEqual([])
  })

  it('keeps private, public, mDNS, server-reflexive and relay candidates, and the end-of-candidates signal', () => {
    const kept = [
      candidate('192.168.1.20'), candidate('10.0.0.5'), candidate('172.16.3.4'), candidate('fd12::5'),
      candidate('203.0.113.9', 'srflx', ' raddr 192.168.1.20 rport 50000'), candidate('198.51.100.3', 'relay'),
      candidate('2c0c3f8e-1234-4d1a-9a6b-0123456789ab.local'),
      { type: 'candidate', candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 } },
      { type: 'offer', sdp: 'v=0' },
    ]
    expect(sent(new CandidateFilter(), kept)).toEqual(kept)
  })

  it('a server-reflexive candidate does not count as another host: a loopback-only peer still sends its loopback', () => {
    expect(addressesOf(sent(new CandidateFilter(), [candidate('127.0.0.1'), candidate('203.0.113.9', 'srflx')]))).toEqual(['203.0.113.9', '127.0.0.1'])
  })
})
