/**
 * Every case runs on packets whose sequence numbers cross 65535 → 0 and whose timestamps
 * cross 2^32 (20 ms Opus frames: +1 sequence, +960 ticks).
 */
import { describe, expect, it } from 'vitest';
import {
  SequenceExtender,
  TimestampExtender,
  seqDiff,
  seqLessThan,
  timestampDiff,
  timestampLessThan,
  wireSequence,
  wireTimestamp,
} from './sequence.ts';

const TWO_TO_32 = 0x1_0000_0000;
const TICKS_PER_PACKET = 960;

interface Wire {
  sequence: number;
  timestamp: number;
}

/** Packet i of a stream that starts 3 packets before both wraps. */
const wire = (i: number): Wire => ({
  sequence: (65533 + i) & 0xffff,
  timestamp: (TWO_TO_32 - 3 * TICKS_PER_PACKET + i * TICKS_PER_PACKET) % TWO_TO_32,
});

/** Feeds packets (by index, in arrival order) through both extenders; returns offsets from the first. */
const extendAll = (indexes: number[]) => {
  const sequences = new SequenceExtender();
  const timestamps = new TimestampExtender();
  const extended = indexes.map((i) => ({ sequence: sequences.extend(wire(i).sequence), timestamp: timestamps.extend(wire(i).timestamp) }));
  const first = extended[0]!;
  return {
    sequenceOffsets: extended.map((e) => e.sequence - first.sequence),
    timestampOffsets: extended.map((e) => (e.timestamp - first.timestamp) / TICKS_PER_PACKET),
    extended,
    sequences,
    timestamps,
  };
};

describe('seqDiff / timestampDiff (signed distance on the circle)', () => {
  it('is +1 packet from just before the wraps to just after them', () => {
    expect(seqDiff(wire(3).sequence, wire(2).sequence)).toBe(1);
    expect(timestampDiff(wire(3).timestamp, wire(2).timestamp)).toBe(TICKS_PER_PACKET);
    expect(seqDiff(wire(1).sequence, wire(5).sequence)).toBe(-4);
    expect(timestampDiff(wire(1).timestamp, wire(5).timestamp)).toBe(-4 * TICKS_PER_PACKET);
  });

  it('tops out at half the range, which reads as negative', () => {
    expect(seqDiff(wire(32767).sequence, wire(0).sequence)).toBe(32767);
    expect(seqDiff(wire(32768).sequence, wire(0).sequence)).toBe(-32768);
    expect(timestampDiff((wire(0).timestamp + 0x7fff_ffff) % TWO_TO_32, wire(0).timestamp)).toBe(0x7fff_ffff);
    expect(timestampDiff((wire(0).timestamp + 0x8000_0000) % TWO_TO_32, wire(0).timestamp)).toBe(-0x8000_0000);
  });
});

describe('seqLessThan / timestampLessThan', () => {
  it('orders packets across the wraps', () => {
    for (const [a, b] of [
      [0, 5],
      [2, 3],
      [1, 4],
    ] as const) {
      expect(seqLessThan(wire(a).sequence, wire(b).sequence)).toBe(true);
      expect(seqLessThan(wire(b).sequence, wire(a).sequence)).toBe(false);
      expect(timestampLessThan(wire(a).timestamp, wire(b).timestamp)).toBe(true);
      expect(timestampLessThan(wire(b).timestamp, wire(a).timestamp)).toBe(false);
    }
    expect(seqLessThan(wire(3).sequence, wire(3).sequence)).toBe(false);
    expect(timestampLessThan(wire(3).timestamp, wire(3).timestamp)).toBe(false);
  });

  it('puts neither first when they are exactly half the range apart (RFC 1982: undefined)', () => {
    expect(seqLessThan(wire(2).sequence, (wire(2).sequence + 0x8000) & 0xffff)).toBe(false);
    expect(seqLessThan((wire(2).sequence + 0x8000) & 0xffff, wire(2).sequence)).toBe(false);
    expect(timestampLessThan(wire(2).timestamp, (wire(2).timestamp + 0x8000_0000) % TWO_TO_32)).toBe(false);
    expect(timestampLessThan((wire(2).timestamp + 0x8000_0000) % TWO_TO_32, wire(2).timestamp)).toBe(false);
  });
});

describe('SequenceExtender / TimestampExtender', () => {
  it('count one cycle when both counters wrap forward, and give the wire values back', () => {
    const run = extendAll([0, 1, 2, 3, 4, 5]);
    expect(run.sequenceOffsets).toEqual([0, 1, 2, 3, 4, 5]);
    expect(run.timestampOffsets).toEqual([0, 1, 2, 3, 4, 5]);
    expect(run.extended.map((e) => wireSequence(e.sequence))).toEqual([65533, 65534, 65535, 0, 1, 2]);
    expect(run.extended.map((e) => wireTimestamp(e.timestamp))).toEqual([0, 1, 2, 3, 4, 5].map((i) => wire(i).timestamp));
    expect([run.sequences.cycles, run.timestamps.cycles]).toEqual([1, 1]);
  });

  it('put a late packet from before the wraps into the previous cycle (65534 after 1)', () => {
    // Arrival: 65533, 0, 1, then the late 65534, then 2.
    const run = extendAll([0, 3, 4, 1, 5]);
    expect(run.sequenceOffsets).toEqual([0, 3, 4, 1, 5]);
    expect(run.timestampOffsets).toEqual([0, 3, 4, 1, 5]);
    expect(run.sequences.highest).toBe(run.extended[4]!.sequence);
  });

  it('keep a packet that precedes the first one across the wraps non-negative', () => {
    // The first arrival is sequence 1 (after both wraps); 65534 and 65535 come late.
    const run = extendAll([4, 1, 2, 5]);
    expect(run.sequenceOffsets).toEqual([0, -3, -2, 1]);
    expect(run.timestampOffsets).toEqual([0, -3, -2, 1]);
    for (const e of run.extended) expect(Math.min(e.sequence, e.timestamp)).toBeGreaterThanOrEqual(0);
    expect([run.sequences.cycles, run.timestamps.cycles]).toEqual([0, 0]);
  });

  it('give a duplicate the same extended numbers as the original, before and after the wraps', () => {
    const run = extendAll([1, 2, 2, 3, 3, 1, 4]);
    expect(run.sequenceOffsets).toEqual([0, 1, 1, 2, 2, 0, 3]);
    expect(run.timestampOffsets).toEqual([0, 1, 1, 2, 2, 0, 3]);
  });

  it('stay exact over many sequence wraps while timestamps wrap too', () => {
    const indexes = Array.from({ length: 5 * 65536 / 97 }, (_, k) => k * 97);
    const run = extendAll(indexes);
    expect(run.sequenceOffsets).toEqual(indexes);
    expect(run.timestampOffsets).toEqual(indexes);
    expect(run.sequences.cycles).toBe(5);
    expect(run.timestamps.cycles).toBe(1);
  });

  it('follow a 90 kHz clock through several 2^32 wraps (one every 13.3 h) with sequences wrapping', () => {
    const sequences = new SequenceExtender();
    const timestamps = new TimestampExtender();
    const step = 0x4000_0000; // a quarter of the range per packet: always "forward"
    const start = { sequence: sequences.extend(65535), timestamp: timestamps.extend(TWO_TO_32 - 3000) };
    for (let i = 1; i <= 12; i++) {
      expect(sequences.extend((65535 + i) & 0xffff) - start.sequence).toBe(i);
      expect(timestamps.extend((TWO_TO_32 - 3000 + i * step) % TWO_TO_32) - start.timestamp).toBe(i * step);
    }
    expect([sequences.cycles, timestamps.cycles]).toEqual([1, 3]);
  });
});
