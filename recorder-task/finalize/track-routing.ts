/**
 * Which SSRC in the segment log belongs to which registered track. Only routed SSRCs ever
 * enter the log, so this repeats the recorder's live decision deterministically: explicit
 * SSRCs first, then registrations without one latch unclaimed SSRCs by payload type in order
 * of first arrival — the same rule the hot path applies, so recovery after a crash agrees.
 */
import type { RegisteredTrack } from '../../shared/recording/tracks.ts';

export interface SsrcSummary {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly firstAtMs: number;
}

export function routeSsrcs(tracks: readonly RegisteredTrack[], seen: readonly SsrcSummary[]): Map<string, number> {
  const byTrack = new Map<string, number>();
  const claimed = new Set<number>();
  for (const track of tracks) {
    if (track.ssrc !== null && seen.some((s) => s.ssrc === track.ssrc)) {
      byTrack.set(track.track_id, track.ssrc);
      claimed.add(track.ssrc);
    }
  }
  const unclaimed = [...seen].filter((s) => !claimed.has(s.ssrc)).sort((a, b) => a.firstAtMs - b.firstAtMs);
  for (const track of tracks) {
    if (track.ssrc !== null) continue;
    const match = unclaimed.find((s) => s.payloadType === track.payload_type && !claimed.has(s.ssrc));
    if (match) {
      byTrack.set(track.track_id, match.ssrc);
      claimed.add(match.ssrc);
    }
  }
  return byTrack;
}
