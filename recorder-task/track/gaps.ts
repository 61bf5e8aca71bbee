/**
 * Where the holes are in media time. A hole starts where the packet before it ends, which is
 * known for audio (an Opus packet's length is in its TOC byte) but not for video: a lost video
 * packet may belong to the frame before, the frame after, or be a frame of its own, so there the
 * hole is measured from the previous packet's timestamp.
 */
import type { OrderedPacket, OrderedTrack } from './packets.ts';

export interface TrackGap {
  /** Wire (16-bit) sequence number of the last packet before the hole. */
  readonly afterSequence: number;
  readonly missing: number;
  /** Where the missing media starts, ms from the file's time 0 (negative before it). */
  readonly startOffsetMs: number;
  /** Media time the hole spans, ms (includes any sender silence in it). */
  readonly durationMs: number;
}

const toMs = (ticks: number, clockRate: number): number => Math.round((ticks / clockRate) * 1e6) / 1e3;

/** `durationTicks(p)`: the packet's length in clock ticks, 0 where unknown. */
export const measureGaps = (track: OrderedTrack, originTicks: number, clockRate: number, durationTicks: (p: OrderedPacket) => number): TrackGap[] =>
  track.missingRuns.map(({ afterIndex, missing }) => {
    const before = track.packets[afterIndex]!;
    const after = track.packets[afterIndex + 1]!;
    const holeStart = before.extendedTimestamp + durationTicks(before);
    return {
      afterSequence: before.sequence,
      missing,
      startOffsetMs: toMs(holeStart - originTicks, clockRate),
      durationMs: toMs(Math.max(0, after.extendedTimestamp - holeStart), clockRate),
    };
  });
