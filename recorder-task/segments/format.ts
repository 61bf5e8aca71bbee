/**
 * The segment wire format: a small framed log of the datagrams one recording received.
 * A segment is written whole (sealed in memory, then stored), yet the decoder still tolerates
 * a torn tail, so a file cut by a crash, a full disk or a partial copy gives back every record
 * that made it. All integers are big-endian (network order, like RTP itself).
 *
 * File header (24 bytes + recording id):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  magic "CAPSEG01" (8 ASCII bytes)             |
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  version (1)  | reserved (0)  |     recording id length       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                        segment index                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |            created at, ms since the Unix epoch (u64)          |
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |              recording id (UTF-8, length as above)          ...
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Then records, back to back, until the end of the file (11 bytes + payload each):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     kind      |   received at, µs since the Unix epoch (u64)  |
 *    +-+-+-+-+-+-+-+-+                                               +
 *    |                                                               |
 *    +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |               |         payload length        |  payload    ...
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * kind: 1 = RTP, 2 = RTCP (the datagram exactly as received, compound RTCP included).
 * "created at" is when the segment was sealed; record times say when each datagram arrived.
 * There is no record count or trailer: a sealed segment ends where the file ends, so the
 * writer never seeks back, and a truncated file is told apart by a record that does not fit.
 * u64 values are written as two u32 halves (no BigInt per packet); µs since the epoch stay
 * exact in a double until the year 2255.
 */
import { SegmentFormatError } from './errors.ts';

export const SEGMENT_MAGIC = 'CAPSEG01';
export const SEGMENT_FORMAT_VERSION = 1;
/** Bytes of the header before the recording id. */
export const SEGMENT_HEADER_FIXED_BYTES = 24;
/** kind u8 + received-at u64 + length u16. */
export const RECORD_HEADER_BYTES = 11;
/** The length field is a u16; a UDP datagram over IPv4/IPv6 without jumbograms always fits. */
export const MAX_RECORD_PAYLOAD_BYTES = 0xffff;

export const RecordKind = { Rtp: 1, Rtcp: 2 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export interface SegmentHeader {
  readonly version: number;
  readonly recordingId: string;
  readonly segmentIndex: number;
  readonly createdAtMs: number;
}

export interface SegmentRecord {
  readonly kind: RecordKind;
  /** Receive time, ms since the Unix epoch, µs resolution. */
  readonly receivedAtMs: number;
  /** A view into the decoded buffer: copy it if the buffer is reused. */
  readonly data: Buffer;
}

export interface DecodedSegment {
  readonly header: SegmentHeader;
  readonly records: SegmentRecord[];
  /** Trailing bytes that did not form a whole, valid record (0 for an intact segment). */
  readonly truncatedBytes: number;
  /** Why decoding stopped: the end, a record cut short, or a byte that is not a record kind. */
  readonly tail: 'complete' | 'truncated' | 'invalid_record';
}

const MAGIC_BYTES = Buffer.from(SEGMENT_MAGIC, 'ascii');
const TWO_POW_32 = 2 ** 32;

function writeU64(target: Buffer, value: number, offset: number): void {
  const high = Math.floor(value / TWO_POW_32);
  target.writeUInt32BE(high, offset);
  target.writeUInt32BE(value - high * TWO_POW_32, offset + 4);
}

function readU64(source: Buffer, offset: number): number {
  return source.readUInt32BE(offset) * TWO_POW_32 + source.readUInt32BE(offset + 4);
}

export function segmentHeaderBytes(recordingId: string): number {
  return SEGMENT_HEADER_FIXED_BYTES + Buffer.byteLength(recordingId, 'utf8');
}

export function encodeSegmentHeader(header: Omit<SegmentHeader, 'version'>): Buffer {
  const id = Buffer.from(header.recordingId, 'utf8');
  if (id.length > 0xffff) throw new RangeError(`recording id is ${id.length} bytes; at most 65535 fit`);
  if (!Number.isInteger(header.segmentIndex) || header.segmentIndex < 0 || header.segmentIndex >= TWO_POW_32) {
    throw new RangeError(`segment index ${header.segmentIndex} is not a u32`);
  }
  const out = Buffer.alloc(SEGMENT_HEADER_FIXED_BYTES + id.length);
  MAGIC_BYTES.copy(out, 0);
  out.writeUInt8(SEGMENT_FORMAT_VERSION, 8);
  out.writeUInt16BE(id.length, 10);
  out.writeUInt32BE(header.segmentIndex, 12);
  writeU64(out, Math.max(0, Math.round(header.createdAtMs)), 16);
  id.copy(out, SEGMENT_HEADER_FIXED_BYTES);
  return out;
}

/**
 * Writes one record at `offset` of `target` (which must have room) and returns the offset
 * after it. The hot path calls this straight into its preallocated buffer: no allocation.
 */
export function writeRecord(target: Buffer, offset: number, kind: RecordKind, receivedAtMs: number, data: Uint8Array): number {
  target[offset] = kind;
  writeU64(target, Math.round(receivedAtMs * 1000), offset + 1);
  target.writeUInt16BE(data.length, offset + 9);
  target.set(data, offset + RECORD_HEADER_BYTES);
  return offset + RECORD_HEADER_BYTES + data.length;
}

/** One record as its own buffer: for tools and tests; the hot path uses `writeRecord`. */
export function encodeRecord(kind: RecordKind, receivedAtMs: number, data: Uint8Array): Buffer {
  assertRecordPayload(data);
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + data.length);
  writeRecord(out, 0, kind, receivedAtMs, data);
  return out;
}

export function assertRecordPayload(data: Uint8Array): void {
  if (data.length > MAX_RECORD_PAYLOAD_BYTES) {
    throw new RangeError(`datagram of ${data.length} bytes does not fit a record (max ${MAX_RECORD_PAYLOAD_BYTES})`);
  }
}

export function decodeSegmentHeader(buf: Buffer): { header: SegmentHeader; headerBytes: number } {
  // Magic first, on whatever bytes there are: a short foreign file is "not a segment", and
  // only a prefix of the magic itself reads as a segment cut inside its header.
  const start = buf.subarray(0, MAGIC_BYTES.length);
  if (!start.equals(MAGIC_BYTES.subarray(0, start.length))) {
    throw new SegmentFormatError('bad_magic', `starts with 0x${start.toString('hex')}`);
  }
  if (buf.length < SEGMENT_HEADER_FIXED_BYTES) {
    throw new SegmentFormatError('truncated_header', `${buf.length} bytes, the fixed header alone is ${SEGMENT_HEADER_FIXED_BYTES}`);
  }
  const version = buf.readUInt8(8);
  if (version !== SEGMENT_FORMAT_VERSION) {
    throw new SegmentFormatError('unsupported_version', `version ${version}, this reader knows ${SEGMENT_FORMAT_VERSION}`);
  }
  const idBytes = buf.readUInt16BE(10);
  const headerBytes = SEGMENT_HEADER_FIXED_BYTES + idBytes;
  if (buf.length < headerBytes) {
    throw new SegmentFormatError('truncated_header', `recording id needs ${idBytes} bytes, ${buf.length - SEGMENT_HEADER_FIXED_BYTES} present`);
  }
  const header: SegmentHeader = {
    version,
    segmentIndex: buf.readUInt32BE(12),
    createdAtMs: readU64(buf, 16),
    recordingId: buf.toString('utf8', SEGMENT_HEADER_FIXED_BYTES, headerBytes),
  };
  return { header, headerBytes };
}

/**
 * Decodes a whole segment. A bad header throws `SegmentFormatError`; a bad tail does not:
 * the complete records before it come back and `truncatedBytes` says how much was dropped.
 */
export function decodeSegment(buf: Buffer): DecodedSegment {
  const { header, headerBytes } = decodeSegmentHeader(buf);
  const records: SegmentRecord[] = [];
  let offset = headerBytes;
  let tail: DecodedSegment['tail'] = 'complete';
  while (offset < buf.length) {
    if (buf.length - offset < RECORD_HEADER_BYTES) {
      tail = 'truncated';
      break;
    }
    const kind = buf[offset];
    if (kind !== RecordKind.Rtp && kind !== RecordKind.Rtcp) {
      tail = 'invalid_record';
      break;
    }
    const length = buf.readUInt16BE(offset + 9);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > buf.length) {
      tail = 'truncated';
      break;
    }
    records.push({ kind, receivedAtMs: readU64(buf, offset + 1) / 1000, data: buf.subarray(offset + RECORD_HEADER_BYTES, end) });
    offset = end;
  }
  return { header, records, truncatedBytes: buf.length - offset, tail };
}
