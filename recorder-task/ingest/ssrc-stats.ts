/**
 * Live per-SSRC counters for /metrics: packets, bytes, loss, duplicates and reordering,
 * in O(1) per packet. Finalization recomputes the exact figures from the segments.
 */
import { SequenceExtender } from '../rtp/sequence.ts';

/** How far back a duplicate is still recognized, in packets (a power of two). */
const WINDOW = 2048;

export class SsrcStats {
  packets = 0;
  bytes = 0;
  duplicates = 0;
  reordered = 0;
  lastAtMs: number;
  private readonly extender = new SequenceExtender();
  private readonly seen = new Float64Array(WINDOW).fill(-1);
  private baseExtended = -1;
  private maxExtended = -1;
  private unique = 0;

  constructor(
    readonly payloadType: number,
    readonly firstAtMs: number,
  ) {
    this.lastAtMs = firstAtMs;
  }

  observe(sequence: number, bytes: number, atMs: number): void {
    this.packets++;
    this.bytes += bytes;
    this.lastAtMs = atMs;
    const extended = this.extender.extend(sequence);
    const slot = extended & (WINDOW - 1);
    if (this.seen[slot] === extended) {
      this.duplicates++;
      return;
    }
    this.seen[slot] = extended;
    this.unique++;
    if (this.baseExtended < 0 || extended < this.baseExtended) this.baseExtended = extended;
    if (extended < this.maxExtended) this.reordered++;
    else this.maxExtended = extended;
  }

  /** Expected minus received (RFC 3550 §A.3), never negative. */
  get lost(): number {
    if (this.maxExtended < 0) return 0;
    return Math.max(0, this.maxExtended - this.baseExtended + 1 - this.unique);
  }
}
