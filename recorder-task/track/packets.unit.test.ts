/** Every stream here crosses the 65535 → 0 sequence wrap and the 2^32 timestamp wrap. */
import { describe, expect, it } from 'vitest';
import { orderPackets, type CapturedPacket } from './packets.ts';

const TWO_TO_32 = 0x1_0000_0000;
const FIRST_SEQUENCE = 65533;
const FIRST_TIMESTAMP = TWO_TO_32 - 2 * 960;

/** Packet i of a 20 ms Opus-like stream (seq +1, +960 ticks), received at 20 ms × i + jitter. */
const packet = (i: number, receivedAtMs = 1_000 + 20 * i): CapturedPacket => {
  const data = Buffer.alloc(12 + 3);
  data[0] = 0x80;
  data[1] = 111;
  data.writeUInt16BE((FIRST_SEQUENCE + i) & 0xffff, 2);
  data.writeUInt32BE((FIRST_TIMESTAMP + 960 * i) % TWO_TO_32, 4);
  data.writeUInt32BE(0xabcd, 8);
  data.set([0xf8, 0xff, i], 12);
  return { receivedAtMs, data };
};

describe('orderPackets', () => {
  it('orders by extended sequence across the wraps, with timestamps unwrapped too', () => {
    const arrival = [0, 1, 2, 3, 4, 5].map((i) => packet(i));
    const track = orderPackets([...arrival].reverse()); // array order is not arrival order
    expect(track.packets.map((p) => p.sequence)).toEqual([65533, 65534, 65535, 0, 1, 2]);
    expect(track.packets.map((p) => p.extendedTimestamp - track.packets[0]!.extendedTimestamp)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * 960));
    expect(track.packets[2]!.timestamp).toBe(0); // 2^32 wraps one packet before 65536 does
    expect(track.stats).toEqual({ packets: 6, duplicates: 0, lost: 0, reordered: 0, malformed: 0 });
    expect(track.missingRuns).toEqual([]);
    expect([...track.packets[5]!.payload]).toEqual([0xf8, 0xff, 5]);
  });

  it('keeps a late packet from before the wrap (65534 after 1), counted as reordered', () => {
    const late = packet(1, 1_000 + 20 * 4 + 5);
    const track = orderPackets([packet(0), packet(2), packet(3), packet(4), late, packet(5)]);
    expect(track.packets.map((p) => p.sequence)).toEqual([65533, 65534, 65535, 0, 1, 2]);
    expect(track.stats).toMatchObject({ packets: 6, reordered: 1, lost: 0 });
  });

  it('drops duplicates (the first copy wins), even when the copy arrives across the wrap', () => {
    const copy = { receivedAtMs: 1_000 + 20 * 5 + 1, data: Buffer.from(packet(2).data) };
    const track = orderPackets([packet(0), packet(1), packet(2), packet(3), packet(4), packet(5), copy, packet(2, 1_000 + 20 * 2)]);
    expect(track.packets).toHaveLength(6);
    expect(track.stats).toMatchObject({ duplicates: 2, reordered: 0 });
  });

  it('measures holes as runs of missing sequence numbers across the wrap', () => {
    const track = orderPackets([0, 1, 4, 5, 6, 9].map((i) => packet(i)));
    expect(track.stats).toMatchObject({ packets: 6, lost: 4 });
    expect(track.missingRuns).toEqual([
      { afterIndex: 1, missing: 2 }, // 65535 and 0
      { afterIndex: 4, missing: 2 },
    ]);
  });

  it('skips datagrams that are not RTP and counts them', () => {
    const rtcp = { receivedAtMs: 1_001, data: Buffer.from('80c8000600000001', 'hex') };
    const short = { receivedAtMs: 1_002, data: Buffer.from([0x80, 0x6f]) };
    const track = orderPackets([packet(0), rtcp, short, packet(3)]);
    expect(track.stats).toMatchObject({ packets: 2, malformed: 2, lost: 2 });
  });

  it('orders ties in receive time by their position in the log', () => {
    const sameTime = [packet(4, 5), packet(3, 5)];
    const track = orderPackets(sameTime);
    // Both stamped 5 ms: sequence 1 comes first in the log, so 0 is the late one.
    expect(track.stats.reordered).toBe(1);
    expect(track.packets.map((p) => p.sequence)).toEqual([0, 1]);
  });
});
