/** The hot-path router: routing, holding unknown SSRCs, latching, and surviving garbage. */
import { describe, expect, it } from 'vitest';
import type { RegisteredTrack } from '../../shared/recording/tracks.ts';
import { mulberry32 } from '../../test/support/prng.ts';
import { IngestRouter, RECORD_RTCP, RECORD_RTP } from './router.ts';

function rtp(ssrc: number, seq: number, pt = 96, payload = 160): Buffer {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 960) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

function track(id: string, ssrc: number | null, pt = 96): RegisteredTrack {
  return { track_id: id, ssrc, payload_type: pt, codec: 'opus', clock_rate: 48000, channels: 2, kind: 'audio', peer_id: null, display_name: null, track_type: null, registered_at: '2026-01-01T00:00:00Z' };
}

function setup(holdMs = 10_000, holdBytes = 1 << 20) {
  const appended: { kind: number; atMs: number; data: Buffer }[] = [];
  const latched: [string, number][] = [];
  const router = new IngestRouter({
    maxDatagramBytes: 1500,
    holdMs,
    holdBytes,
    sink: { append: (kind, atMs, data) => appended.push({ kind, atMs, data }) },
    onLatch: (trackId, ssrc) => latched.push([trackId, ssrc]),
  });
  return { router, appended, latched };
}

describe('IngestRouter', () => {
  it('appends packets of registered SSRCs and counts loss, duplicates and reordering across the sequence wrap', () => {
    const { router, appended } = setup();
    router.registerTracks([track('a', 1111)]);
    for (const seq of [65533, 65534, 65535, 1, 0, 0, 3]) router.onRtpPort(rtp(1111, seq), 1);
    expect(appended).toHaveLength(7);
    const stats = router.ssrcStats.get(1111)!;
    expect(stats.duplicates).toBe(1);
    expect(stats.reordered).toBe(1);
    expect(stats.lost).toBe(1); // 2 never came
  });

  it('holds an unknown SSRC and hands its packets over, in order, on a late registration', () => {
    const { router, appended } = setup();
    for (let seq = 0; seq < 5; seq++) router.onRtpPort(rtp(2222, seq), seq);
    expect(appended).toHaveLength(0);
    expect(router.counters.unknownSsrcPackets).toBe(5);
    router.registerTracks([track('b', 2222)]);
    expect(appended.map((a) => a.atMs)).toEqual([0, 1, 2, 3, 4]);
    router.onRtpPort(rtp(2222, 5), 5);
    expect(appended).toHaveLength(6);
  });

  it('drops held packets older than the hold time and says so', () => {
    const { router, appended } = setup(1000);
    router.onRtpPort(rtp(3333, 0), 0);
    router.onRtpPort(rtp(3333, 1), 900);
    router.expireHeld(1500);
    expect(router.dropped.unknown_ssrc_expired).toBe(1);
    router.registerTracks([track('c', 3333)]);
    expect(appended.map((a) => a.atMs)).toEqual([900]);
  });

  it('bounds held bytes', () => {
    const { router } = setup(10_000, 500);
    for (let seq = 0; seq < 10; seq++) router.onRtpPort(rtp(4444, seq), seq);
    expect(router.dropped.unknown_ssrc_overflow).toBe(8);
  });

  it('latches a registration without SSRC to the first SSRC of its payload type; a later SSRC on it is an SSRC change', () => {
    const { router, appended, latched } = setup();
    router.onRtpPort(rtp(5555, 0, 97), 0);
    router.registerTracks([track('d', null, 97)]);
    expect(latched).toEqual([['d', 5555]]);
    expect(appended).toHaveLength(1);
    router.onRtpPort(rtp(6666, 0, 97), 1);
    expect(router.counters.ssrcChanges).toBe(1);
    expect(appended).toHaveLength(1);
  });

  it('keeps RTCP from either port, muxed or not, and refuses RTP on the RTCP port', () => {
    const { router, appended } = setup();
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    router.onRtpPort(sr, 1);
    router.onRtcpPort(sr, 2);
    router.onRtcpPort(rtp(1, 1), 3);
    expect(appended.map((a) => a.kind)).toEqual([RECORD_RTCP, RECORD_RTCP]);
    expect(router.dropped.rtcp_malformed).toBe(1);
  });

  it('a flood of distinct unknown SSRCs cannot grow memory: no stats for them, held SSRCs capped', () => {
    const { router } = setup();
    for (let ssrc = 1; ssrc <= 100_000; ssrc++) router.onRtpPort(rtp(ssrc, 0), 0);
    expect(router.ssrcStats.size).toBe(0);
    expect(router.heldSsrcs.length).toBeLessThanOrEqual(1024);
    expect(router.dropped.unknown_ssrc_overflow).toBeGreaterThan(90_000);
  });

  it('fuzz: 1 000 000 random and mutated datagrams never throw, are counted by reason, and good packets still land', () => {
    const { router, appended } = setup(2000);
    router.registerTracks([track('good', 0xcafe)]);
    const random = mulberry32(20261123);
    const pool = Buffer.alloc(1 << 16);
    for (let j = 0; j < pool.length; j++) pool[j] = Math.floor(random() * 256);
    let goodSent = 0;
    let seq = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const roll = random();
      let packet: Buffer;
      if (roll < 0.1) {
        packet = rtp(0xcafe, seq++);
        goodSent++;
      } else if (roll < 0.55) {
        // Random bytes of random length, up to past the datagram limit.
        const length = Math.floor(random() * 1600);
        const offset = Math.floor(random() * (pool.length - length));
        packet = Buffer.from(pool.subarray(offset, offset + length));
      } else {
        packet = rtp(Math.floor(random() * 8), Math.floor(random() * 65536), Math.floor(random() * 128), Math.floor(random() * 200));
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) packet[Math.floor(random() * Math.min(16, packet.length))] = Math.floor(random() * 256);
      }
      router.onRtpPort(packet, i);
      if (i % 50_000 === 0) router.expireHeld(i);
    }
    const goodLanded = appended.filter((a) => a.kind === RECORD_RTP && a.data.length >= 12 && a.data.readUInt32BE(8) === 0xcafe).length;
    expect(goodLanded).toBeGreaterThanOrEqual(goodSent);
    const dropped = Object.values(router.dropped).reduce((a, b) => a + b, 0);
    expect(dropped).toBeGreaterThan(100_000);
    expect(router.counters.datagrams).toBe(1_000_000);
    for (const reason of ['too_short', 'bad_version'] as const) expect(router.dropped[reason]).toBeGreaterThan(0);
  }, 60_000);
});
