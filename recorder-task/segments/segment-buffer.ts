/**
 * The hot-path side of segments. The UDP loop calls `append` for every datagram: it copies
 * the bytes into one growable buffer and returns; nothing awaits, nothing touches disk or S3.
 * Every `segmentSeconds` (or at `maxSegmentBytes`) the roller seals the buffer into a segment
 * and hands it to a sink that must return at once (the uploader queues it).
 */
import type { Logger } from '../../shared/logger.ts';
import { silentLogger } from '../../shared/logger.ts';
import {
  assertRecordPayload,
  encodeSegmentHeader,
  RECORD_HEADER_BYTES,
  segmentHeaderBytes,
  writeRecord,
  type RecordKind,
} from './format.ts';

/** A sealed segment: the encoded bytes plus what the manifest and gap reports need. */
export interface SealedSegment {
  readonly index: number;
  readonly bytes: Buffer;
  readonly packets: number;
  /** Receive times of the earliest and latest datagram, ms since the epoch (NaN if empty). */
  readonly firstReceivedAtMs: number;
  readonly lastReceivedAtMs: number;
}

export interface SegmentBufferOptions {
  readonly recordingId: string;
  /** Index of the first segment; a recorder resuming a recording continues after the last one. */
  readonly firstSegmentIndex?: number;
  /** Starting capacity; it doubles when full and keeps its size across seals. */
  readonly initialCapacityBytes?: number;
  /** Wall clock for the header's created-at, ms since the epoch. */
  readonly nowMs?: () => number;
}

export class SegmentBuffer {
  readonly recordingId: string;
  private readonly headerBytes: number;
  private readonly nowMs: () => number;
  private buffer: Buffer;
  /** Where the next record goes; the header is written into the reserved front at seal. */
  private offset: number;
  private index: number;
  private packets = 0;
  private firstMs = Number.NaN;
  private lastMs = Number.NaN;

  constructor(options: SegmentBufferOptions) {
    this.recordingId = options.recordingId;
    this.headerBytes = segmentHeaderBytes(options.recordingId);
    this.nowMs = options.nowMs ?? Date.now;
    this.index = options.firstSegmentIndex ?? 0;
    // allocUnsafe: every byte handed out is written first, so zero-filling would be wasted work.
    this.buffer = Buffer.allocUnsafe(Math.max(options.initialCapacityBytes ?? 256 * 1024, this.headerBytes + RECORD_HEADER_BYTES));
    this.offset = this.headerBytes;
  }

  /** Encoded size of the open segment if it were sealed now, header included. */
  get byteLength(): number {
    return this.offset;
  }

  get packetCount(): number {
    return this.packets;
  }

  /** Index the open segment will carry when sealed. */
  get segmentIndex(): number {
    return this.index;
  }

  get capacityBytes(): number {
    return this.buffer.length;
  }

  get firstReceivedAtMs(): number {
    return this.firstMs;
  }

  get lastReceivedAtMs(): number {
    return this.lastMs;
  }

  /** Copies one datagram in. Synchronous; allocates only when the buffer has to grow. */
  append(kind: RecordKind, receivedAtMs: number, data: Uint8Array): void {
    assertRecordPayload(data);
    const needed = this.offset + RECORD_HEADER_BYTES + data.length;
    if (needed > this.buffer.length) this.grow(needed);
    this.offset = writeRecord(this.buffer, this.offset, kind, receivedAtMs, data);
    // Packets are stamped in arrival order, but a stamp from another clock source must not
    // make first/last lie, so keep the extremes.
    if (this.packets === 0 || receivedAtMs < this.firstMs) this.firstMs = receivedAtMs;
    if (this.packets === 0 || receivedAtMs > this.lastMs) this.lastMs = receivedAtMs;
    this.packets += 1;
  }

  /** Seals the open segment and starts the next (index + 1). The result is its own copy. */
  sealSegment(): SealedSegment {
    const header = encodeSegmentHeader({ recordingId: this.recordingId, segmentIndex: this.index, createdAtMs: this.nowMs() });
    header.copy(this.buffer, 0);
    // One exact-size copy per segment (every few seconds) keeps the big buffer warm for reuse
    // and lets the sealed bytes live on in the upload queue without pinning spare capacity.
    const bytes = Buffer.allocUnsafe(this.offset);
    this.buffer.copy(bytes, 0, 0, this.offset);
    const sealed: SealedSegment = {
      index: this.index,
      bytes,
      packets: this.packets,
      firstReceivedAtMs: this.firstMs,
      lastReceivedAtMs: this.lastMs,
    };
    this.index += 1;
    this.offset = this.headerBytes;
    this.packets = 0;
    this.firstMs = Number.NaN;
    this.lastMs = Number.NaN;
    return sealed;
  }

  /** The encoded segment only; see `sealSegment` for its details. */
  seal(): Buffer {
    return this.sealSegment().bytes;
  }

  private grow(needed: number): void {
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buffer.copy(next, 0, 0, this.offset);
    this.buffer = next;
  }
}

export interface SegmentRollerOptions extends SegmentBufferOptions {
  /** Called with each sealed segment. It must return at once: it runs on the UDP loop. */
  readonly sink: (segment: SealedSegment) => void;
  /** Longest span of a segment, from its first datagram; a crash loses at most this much. */
  readonly segmentSeconds?: number;
  /** A segment is sealed before it would grow past this size. */
  readonly maxSegmentBytes?: number;
  readonly logger?: Logger;
}

export const DEFAULT_SEGMENT_SECONDS = 5;
export const MAX_SEGMENT_SECONDS = 10;
export const DEFAULT_MAX_SEGMENT_BYTES = 8 * 1024 * 1024;

/**
 * Seals by time and by size. Time is checked by `tick()` (driven by `start()`'s timer or by a
 * test), never per packet; size is checked on `append`. Empty segments are never sealed, so
 * silence costs no objects and segment indexes stay contiguous.
 */
export class SegmentRoller {
  private readonly buffer: SegmentBuffer;
  private readonly sink: (segment: SealedSegment) => void;
  private readonly segmentMs: number;
  private readonly maxSegmentBytes: number;
  private readonly nowMs: () => number;
  private readonly logger: Logger;
  /** When the open segment got its first datagram, by `nowMs`; NaN while it is empty. */
  private openedAtMs = Number.NaN;
  private timer: NodeJS.Timeout | undefined;
  private sealedCount = 0;
  private sinkErrorCount = 0;

  constructor(options: SegmentRollerOptions) {
    const seconds = options.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS;
    if (!(seconds > 0 && seconds <= MAX_SEGMENT_SECONDS)) {
      throw new RangeError(`segmentSeconds must be in (0, ${MAX_SEGMENT_SECONDS}], got ${seconds}`);
    }
    this.segmentMs = seconds * 1000;
    this.maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    this.nowMs = options.nowMs ?? Date.now;
    this.sink = options.sink;
    this.logger = options.logger ?? silentLogger;
    this.buffer = new SegmentBuffer(options);
    if (this.maxSegmentBytes <= this.buffer.byteLength + RECORD_HEADER_BYTES) {
      throw new RangeError(`maxSegmentBytes ${this.maxSegmentBytes} leaves no room for a record`);
    }
  }

  get stats(): { sealed: number; sinkErrors: number; openPackets: number; openBytes: number } {
    return { sealed: this.sealedCount, sinkErrors: this.sinkErrorCount, openPackets: this.buffer.packetCount, openBytes: this.buffer.byteLength };
  }

  append(kind: RecordKind, receivedAtMs: number, data: Uint8Array): void {
    if (this.buffer.packetCount > 0 && this.buffer.byteLength + RECORD_HEADER_BYTES + data.length > this.maxSegmentBytes) {
      this.roll();
    }
    if (this.buffer.packetCount === 0) this.openedAtMs = this.nowMs();
    this.buffer.append(kind, receivedAtMs, data);
  }

  /** Seals the open segment if it has been open for `segmentSeconds`. */
  tick(): void {
    if (this.buffer.packetCount > 0 && this.nowMs() - this.openedAtMs >= this.segmentMs) this.roll();
  }

  /** Seals whatever is open (stop, SIGTERM). A no-op when empty. */
  flush(): void {
    if (this.buffer.packetCount > 0) this.roll();
  }

  /** Drives `tick` from a timer that does not keep the process alive. */
  start(tickIntervalMs = 250): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), tickIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and seals the open segment. Idempotent. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private roll(): void {
    const segment = this.buffer.sealSegment();
    this.openedAtMs = Number.NaN;
    this.sealedCount += 1;
    try {
      this.sink(segment);
    } catch (error) {
      // A throwing sink must not take the UDP loop down with it; it is counted and logged
      // (the uploader's enqueue never throws, so this is a wiring bug, not an outage).
      this.sinkErrorCount += 1;
      this.logger.error('segment sink threw', { segmentIndex: segment.index, packets: segment.packets, error });
    }
  }
}
