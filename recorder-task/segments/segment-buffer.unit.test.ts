import { describe, expect, it } from 'vitest';
import { decodeSegment, RECORD_HEADER_BYTES, RecordKind, segmentHeaderBytes } from './format.ts';
import { SegmentBuffer, SegmentRoller, type SealedSegment } from './segment-buffer.ts';

const recordingId = 'rec_test';
const packet = (length: number, fill: number) => Buffer.alloc(length, fill);

describe('SegmentBuffer', () => {
  it('grows past its initial capacity and seals exactly what was appended', () => {
    const buffer = new SegmentBuffer({ recordingId, initialCapacityBytes: 64, nowMs: () => 1_000 });
    for (let i = 0; i < 500; i += 1) buffer.append(i % 10 === 0 ? RecordKind.Rtcp : RecordKind.Rtp, 5_000 + i, packet(200 + (i % 7), i & 0xff));
    expect(buffer.packetCount).toBe(500);
    expect(buffer.byteLength).toBe(segmentHeaderBytes(recordingId) + 500 * RECORD_HEADER_BYTES + [...Array(500).keys()].reduce((s, i) => s + 200 + (i % 7), 0));
    expect(buffer.capacityBytes).toBeGreaterThanOrEqual(buffer.byteLength);

    const decoded = decodeSegment(buffer.seal());
    expect(decoded.header).toMatchObject({ recordingId, segmentIndex: 0, createdAtMs: 1_000 });
    expect(decoded.records).toHaveLength(500);
    expect(decoded.records[10]).toMatchObject({ kind: RecordKind.Rtcp, receivedAtMs: 5_010 });
    expect(decoded.records[499]!.data).toEqual(packet(200 + (499 % 7), 499 & 0xff));
  });

  it('resets after seal, keeps its capacity, and numbers segments on', () => {
    const buffer = new SegmentBuffer({ recordingId, firstSegmentIndex: 7, initialCapacityBytes: 64 });
    buffer.append(RecordKind.Rtp, 1, packet(1000, 1));
    const capacity = buffer.capacityBytes;
    const first = buffer.sealSegment();
    expect(first).toMatchObject({ index: 7, packets: 1, firstReceivedAtMs: 1, lastReceivedAtMs: 1 });
    expect(buffer).toMatchObject({ packetCount: 0, byteLength: segmentHeaderBytes(recordingId), capacityBytes: capacity, segmentIndex: 8 });
    buffer.append(RecordKind.Rtp, 2, packet(10, 2));
    const second = buffer.sealSegment();
    // The first segment's bytes are its own copy: later appends do not touch them.
    expect(decodeSegment(first.bytes).records[0]!.data).toEqual(packet(1000, 1));
    expect(decodeSegment(second.bytes).header.segmentIndex).toBe(8);
  });
});

function rollerWithClock(options: { segmentSeconds?: number; maxSegmentBytes?: number } = {}) {
  let now = 1_000_000;
  const sealed: SealedSegment[] = [];
  const roller = new SegmentRoller({ recordingId, nowMs: () => now, sink: (s) => sealed.push(s), ...options });
  return { roller, sealed, advance: (ms: number) => (now += ms), now: () => now };
}

describe('SegmentRoller', () => {
  it('seals by time from the first datagram, default 5 s', () => {
    const { roller, sealed, advance, now } = rollerWithClock();
    roller.tick();
    advance(3_000);
    roller.append(RecordKind.Rtp, now(), packet(100, 1));
    advance(4_999);
    roller.append(RecordKind.Rtp, now(), packet(100, 2));
    roller.tick();
    expect(sealed).toHaveLength(0);
    advance(1);
    roller.tick();
    expect(sealed).toHaveLength(1);
    expect(sealed[0]).toMatchObject({ index: 0, packets: 2, firstReceivedAtMs: 1_003_000, lastReceivedAtMs: 1_007_999 });
  });

  it('never seals an empty segment', () => {
    const { roller, sealed, advance } = rollerWithClock({ segmentSeconds: 1 });
    for (let i = 0; i < 10; i += 1) {
      advance(1_000);
      roller.tick();
    }
    roller.flush();
    expect(sealed).toHaveLength(0);
  });

  it('seals before a segment would pass maxSegmentBytes', () => {
    const maxSegmentBytes = 10_000;
    const { roller, sealed } = rollerWithClock({ maxSegmentBytes });
    for (let i = 0; i < 100; i += 1) roller.append(RecordKind.Rtp, i, packet(1_189, i));
    roller.flush();
    expect(sealed.length).toBeGreaterThan(10);
    expect(sealed.every((s) => s.bytes.length <= maxSegmentBytes)).toBe(true);
    expect(sealed.map((s) => s.index)).toEqual([...sealed.keys()]);
    expect(sealed.reduce((n, s) => n + s.packets, 0)).toBe(100);
    expect(sealed.flatMap((s) => decodeSegment(s.bytes).records.map((r) => r.receivedAtMs))).toEqual([...Array(100).keys()]);
  });

  it('accepts 0 < segmentSeconds <= 10 only', () => {
    const sink = () => undefined;
    expect(() => new SegmentRoller({ recordingId, sink, segmentSeconds: 11 })).toThrow(RangeError);
    expect(() => new SegmentRoller({ recordingId, sink, segmentSeconds: 0 })).toThrow(RangeError);
    expect(() => new SegmentRoller({ recordingId, sink, segmentSeconds: 10 })).not.toThrow();
  });

  it('keeps the loop alive when the sink throws, and counts it', () => {
    const roller = new SegmentRoller({
      recordingId,
      sink: () => {
        throw new Error('boom');
      },
    });
    roller.append(RecordKind.Rtp, 1, packet(10, 1));
    expect(() => roller.flush()).not.toThrow();
    expect(roller.stats).toMatchObject({ sealed: 1, sinkErrors: 1, openPackets: 0 });
  });

  it('stop seals the open segment and is idempotent', () => {
    const { roller, sealed } = rollerWithClock();
    roller.start(10);
    roller.append(RecordKind.Rtcp, 1, packet(28, 1));
    roller.stop();
    roller.stop();
    expect(sealed).toHaveLength(1);
  });
});
