import { describe, expect, it } from 'vitest';
import { SegmentFormatError } from './errors.ts';
import {
  decodeSegment,
  decodeSegmentHeader,
  encodeRecord,
  encodeSegmentHeader,
  RECORD_HEADER_BYTES,
  RecordKind,
  SEGMENT_HEADER_FIXED_BYTES,
} from './format.ts';

const header = { recordingId: 'rec_01jabcdefghjkmnpqrstvwxyz0', segmentIndex: 42, createdAtMs: 1_780_000_000_123 };

function payload(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));
}

const records = [
  { kind: RecordKind.Rtp, receivedAtMs: 1_780_000_000_000.125, data: payload(172, 1) },
  { kind: RecordKind.Rtcp, receivedAtMs: 1_780_000_000_001.5, data: payload(52, 2) },
  { kind: RecordKind.Rtp, receivedAtMs: 1_780_000_000_002, data: Buffer.alloc(0) },
  { kind: RecordKind.Rtp, receivedAtMs: 1_780_000_000_019.999, data: payload(1500, 3) },
];

function segmentOf(list: typeof records): Buffer {
  return Buffer.concat([encodeSegmentHeader(header), ...list.map((r) => encodeRecord(r.kind, r.receivedAtMs, r.data))]);
}

describe('segment format', () => {
  it('round-trips the header and RTP/RTCP records of 0 to 1500 bytes, µs exact', () => {
    const decoded = decodeSegment(segmentOf(records));
    expect(decoded.header).toEqual({ version: 1, ...header });
    expect(decoded.truncatedBytes).toBe(0);
    expect(decoded.tail).toBe('complete');
    expect(decoded.records.map((r) => ({ ...r, data: Buffer.from(r.data) }))).toEqual(records);
  });

  it('lays out the header as documented', () => {
    const bytes = encodeSegmentHeader(header);
    expect(bytes.subarray(0, 8).toString('ascii')).toBe('CAPSEG01');
    expect(bytes.length).toBe(SEGMENT_HEADER_FIXED_BYTES + header.recordingId.length);
    expect(bytes.readUInt32BE(12)).toBe(42);
  });

  it('a header-only segment has no records', () => {
    expect(decodeSegment(encodeSegmentHeader(header))).toMatchObject({ records: [], truncatedBytes: 0, tail: 'complete' });
  });

  it('keeps every earlier record when the last one is cut at any byte', () => {
    const whole = segmentOf(records);
    const lastRecordBytes = RECORD_HEADER_BYTES + 1500;
    const lastStart = whole.length - lastRecordBytes;
    for (let cut = 1; cut < lastRecordBytes; cut += 1) {
      const decoded = decodeSegment(whole.subarray(0, lastStart + cut));
      expect(decoded.records).toHaveLength(3);
      expect(decoded.truncatedBytes).toBe(cut);
      expect(decoded.tail).toBe('truncated');
      expect(Buffer.from(decoded.records[2]!.data)).toEqual(Buffer.alloc(0));
    }
    expect(decodeSegment(whole.subarray(0, lastStart)).truncatedBytes).toBe(0);
  });

  it('stops at a byte that is not a record kind and counts the rest as dropped', () => {
    const torn = Buffer.concat([segmentOf(records.slice(0, 2)), Buffer.alloc(100)]);
    expect(decodeSegment(torn)).toMatchObject({ truncatedBytes: 100, tail: 'invalid_record' });
    expect(decodeSegment(torn).records).toHaveLength(2);
  });

  it('rejects a bad magic, an unknown version and a cut header with a typed error', () => {
    const good = segmentOf(records);
    const badMagic = Buffer.from(good);
    badMagic.write('NOTASEG!', 0, 'ascii');
    const badVersion = Buffer.from(good);
    badVersion[8] = 9;
    const cases: [Buffer, string][] = [
      [badMagic, 'bad_magic'],
      [Buffer.from('garbage'), 'bad_magic'],
      [Buffer.alloc(0), 'truncated_header'],
      [good.subarray(0, 5), 'truncated_header'],
      [badVersion, 'unsupported_version'],
      [good.subarray(0, 10), 'truncated_header'],
      [good.subarray(0, SEGMENT_HEADER_FIXED_BYTES + 3), 'truncated_header'],
    ];
    for (const [bytes, reason] of cases) {
      const error = (() => {
        try {
          decodeSegmentHeader(bytes);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(SegmentFormatError);
      expect((error as SegmentFormatError).reason).toBe(reason);
      expect(() => decodeSegment(bytes)).toThrow(SegmentFormatError);
    }
  });

  it('refuses payloads that do not fit the u16 length', () => {
    expect(() => encodeRecord(RecordKind.Rtp, 0, Buffer.alloc(65_536))).toThrow(RangeError);
    expect(decodeSegment(Buffer.concat([encodeSegmentHeader(header), encodeRecord(RecordKind.Rtp, 0, Buffer.alloc(65_535))])).records).toHaveLength(1);
  });
});
