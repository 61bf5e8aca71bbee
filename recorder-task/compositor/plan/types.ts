/**
 * The composition plan: the contract between the planner (manifest + layout → plan, pure)
 * and the renderer (plan + local track files → media files, ffmpeg).
 *
 * Two timelines:
 * - the *source* timeline: milliseconds since `manifest.reference_time` (the earliest first
 *   packet of any track); a track's media at file time `p` plays at `offset_ms + p`;
 * - the *output* timeline: milliseconds of the composed file, after cut spans (paused spans
 *   with `paused: omit`, and empty stretches with `trim`) are removed.
 */

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Stacking order: higher is drawn later (on top). */
  readonly z: number;
}

/** One video source shown in a box for a whole segment. Scaled to fit inside the box, letterboxed, centred. */
export interface Placement {
  readonly track_id: string;
  readonly box: Box;
}

/** A stretch with one constant layout. Segments are contiguous in the output timeline and ordered. */
export interface PlanSegment {
  readonly source_from_ms: number;
  readonly source_to_ms: number;
  readonly output_from_ms: number;
  /** Video sources shown; empty means background only. Ordered by z ascending. */
  readonly placements: readonly Placement[];
  /** `paused`: the recording was paused and the layout option says show it: a slate, and silence. */
  readonly slate: 'none' | 'paused';
}

export interface PlanSource {
  readonly track_id: string;
  readonly kind: 'audio' | 'video';
  /** The recorder's track file name (manifest `file_name`), to find the local copy. */
  readonly file_name: string;
  readonly offset_ms: number;
  readonly duration_ms: number;
  readonly peer_id: string | null;
  readonly display_name: string | null;
  readonly track_type: string | null;
}

export interface CompositionPlan {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** `#RRGGBB`. */
  readonly background_color: string;
  /** No video output at all (preset `audio_only`, or no video track). */
  readonly audio_only: boolean;
  /** Every track the plan uses: all audio tracks (mixed), and the video tracks placed anywhere. */
  readonly sources: readonly PlanSource[];
  readonly segments: readonly PlanSegment[];
  /** Output duration: the sum of segment lengths. */
  readonly duration_ms: number;
  /** Spans of the source timeline left out of the output, and why. */
  readonly cuts: readonly { readonly source_from_ms: number; readonly source_to_ms: number; readonly reason: 'paused' | 'trim' }[];
}
