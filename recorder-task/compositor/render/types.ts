/** The renderer's contract: a plan and local track files in, finished media files out. */
import type { Output } from '../../../shared/recording/model.ts';
import type { CompositionPlan } from '../plan/types.ts';

export interface RenderRequest {
  readonly plan: CompositionPlan;
  /** Local path of each plan source's track file, by `track_id`. */
  readonly files: ReadonlyMap<string, string>;
  /** What to produce. `transcript` is not the renderer's and is ignored. */
  readonly outputs: readonly Output[];
  /** An empty directory the renderer owns for the duration of the call. */
  readonly workDir: string;
  /** Video chunks encoded at once. Default: the number of CPUs. */
  readonly parallelism?: number;
  /** x264 preset. Default `veryfast`. */
  readonly preset?: string;
  /** Fraction done in [0, 1], from ffmpeg's `-progress`; called often, the caller throttles. */
  readonly onProgress?: (fraction: number) => void;
  readonly signal?: AbortSignal;
}

export type RenderedKind = 'composite' | 'audio' | 'track' | 'thumbnail';

export interface RenderedFile {
  /** Artifact name: `composite.mp4`, `audio.m4a`, `audio.mp3`, `audio.wav`, `track-<track_id>.m4a|.mp4`, `thumbnail-01.jpg`… */
  readonly name: string;
  readonly kind: RenderedKind;
  readonly path: string;
  readonly content_type: string;
  /** From ffprobe of the finished file. */
  readonly duration_seconds: number | null;
  readonly codecs: readonly string[];
  readonly width: number | null;
  readonly height: number | null;
}
