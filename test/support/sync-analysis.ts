/**
 * Audio/video sync measured from the media itself ("beep and flash", see beep-flash.ts): the
 * times of the flashes (mean luma jumps up) and of the beep onsets (the envelope rises) as a
 * player would present them, i.e. by the decoded frames' timestamps (edit lists, Opus pre-skip,
 * start offsets all applied by ffmpeg), then each flash paired with the nearest beep.
 *
 * - Flashes: ffmpeg decodes the video (optionally a crop of it, e.g. one tile of a composite),
 *   `signalstats` gives each frame's mean luma (YAVG), `metadata=print` prints it with the
 *   frame's pts (in µs: `settb=AVTB`). A flash is the first frame of a run above the threshold,
 *   so it is exact to the frame (±1 frame against the true instant).
 * - Beeps: ffmpeg decodes the audio to mono s16 PCM at 48 kHz and `ashowinfo` prints the pts and
 *   length of every decoded frame, so sample i of the PCM has an exact time even across gaps;
 *   an onset is the first sample above the threshold after a quiet spell (≈ 0.02 ms steps;
 *   a codec smears an onset by ~1 ms).
 *
 * The whole decoded audio is held in memory (5.8 MB a minute): meant for test files, not hours.
 */
import { spawn } from 'node:child_process';
import { ffprobe } from './media.ts';

export const PCM_RATE = 48_000;

export interface FlashOptions {
  /** Mean luma (0–255) a flash frame exceeds; default halfway between the median frame and the brightest. */
  readonly threshold?: number;
  /** With the default threshold: no flash at all unless the brightest frame is this much above the median (default 60). */
  readonly minContrast?: number;
  /** Look only at this rectangle (source pixels), e.g. one participant's tile of a composite. */
  readonly crop?: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Which video stream (default 0). */
  readonly stream?: number;
}

export interface BeepOptions {
  /** Fraction of the file's peak the envelope must exceed (default 0.3). */
  readonly threshold?: number;
  /** Absolute floor, as a fraction of full scale (default 0.02 ≈ −34 dBFS): quieter files have no beeps. */
  readonly minLevel?: number;
  /** A beep lasts at least this long above the threshold (default 20 ms): clicks are not beeps. */
  readonly minDurationMs?: number;
  /** A beep ends after this long below the threshold (default 30 ms). */
  readonly releaseMs?: number;
  /**
   * Band-pass around this frequency first (e.g. to pick one participant's beep out of a mix).
   * The filter delays and softens onsets by a few ms: leave it off when measuring sync precisely.
   */
  readonly frequencyHz?: number;
  /** Which audio stream (default 0). */
  readonly stream?: number;
}

export interface SyncOptions {
  readonly video?: FlashOptions;
  readonly audio?: BeepOptions;
  /** A flash and a beep further apart than this are not a pair (default 500 ms). */
  readonly maxPairMs?: number;
}

export interface SyncPair {
  readonly flash_s: number;
  readonly beep_s: number;
  /** beep − flash: positive when the sound comes late. */
  readonly offset_ms: number;
}

export interface SyncResult {
  readonly flashes_s: number[];
  readonly beeps_s: number[];
  readonly pairs: SyncPair[];
  /** null when there is no pair. */
  readonly max_abs_offset_ms: number | null;
  readonly mean_offset_ms: number | null;
  readonly unpaired_flashes_s: number[];
  readonly unpaired_beeps_s: number[];
}

interface Captured {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Run ffmpeg to the end, keeping stdout (binary) and the whole stderr. */
function capture(args: string[], timeoutMs = 120_000): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`ffmpeg ${args.join(' ')} exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
}

async function hasStream(file: string, type: 'audio' | 'video', index: number): Promise<boolean> {
  const probe = await ffprobe(file);
  return probe.streams.filter((s) => s.codec_type === type).length > index;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// Video

export interface FrameLuma {
  /** Presentation time, s. */
  readonly t: number;
  /** Mean luma, 0–255. */
  readonly luma: number;
}

/** Every decoded frame's presentation time and mean luma. */
export async function frameLuma(file: string, options: FlashOptions = {}): Promise<FrameLuma[]> {
  const stream = options.stream ?? 0;
  if (!(await hasStream(file, 'video', stream))) return [];
  const filters = [
    ...(options.crop ? [`crop=${options.crop.width}:${options.crop.height}:${options.crop.x}:${options.crop.y}`] : []),
    // The mean survives an area downscale; signalstats then has little to do.
    "scale=w='min(160,iw)':h=-2:flags=area",
    'settb=AVTB',
    'signalstats',
    'metadata=mode=print:key=lavfi.signalstats.YAVG:file=-',
  ];
  const { stdout } = await capture(['-hide_banner', '-nostats', '-v', 'error', '-i', file, '-map', `0:v:${stream}`, '-vf', filters.join(','), '-f', 'null', '-']);
  const frames: FrameLuma[] = [];
  let pts: number | undefined;
  for (const line of stdout.toString('utf8').split('\n')) {
    const frame = /^frame:\s*\d+\s+pts:\s*(-?\d+)/.exec(line);
    if (frame) {
      pts = Number(frame[1]);
      continue;
    }
    const value = /^lavfi\.signalstats\.YAVG=([\d.]+)/.exec(line);
    if (value && pts !== undefined) {
      frames.push({ t: pts / 1e6, luma: Number(value[1]) });
      pts = undefined;
    }
  }
  return frames;
}

/** Times (s) of the flashes: the first frame of each run of frames brighter than the threshold. */
export function findFlashes(frames: readonly FrameLuma[], options: Pick<FlashOptions, 'threshold' | 'minContrast'> = {}): number[] {
  if (frames.length === 0) return [];
  let threshold = options.threshold;
  if (threshold === undefined) {
    const sorted = frames.map((f) => f.luma).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const max = sorted.at(-1)!;
    if (max - median < (options.minContrast ?? 60)) return [];
    threshold = (median + max) / 2;
  }
  const flashes: number[] = [];
  let bright = false;
  for (const frame of frames) {
    const above = frame.luma > threshold;
    if (above && !bright) flashes.push(frame.t);
    bright = above;
  }
  return flashes;
}

export async function measureFlashTimes(file: string, options: FlashOptions = {}): Promise<number[]> {
  return findFlashes(await frameLuma(file, options), options);
}

// ---------------------------------------------------------------------------------------------
// Audio

export interface DecodedAudio {
  /** Mono, 48 kHz. */
  readonly samples: Int16Array;
  /** Decoded frames in output order: where each starts in `samples` and its presentation time. */
  readonly frames: { readonly index: number; readonly t: number }[];
}

/** The audio as mono s16 48 kHz PCM, with the presentation time of every decoded frame. */
export async function decodeAudio(file: string, options: Pick<BeepOptions, 'frequencyHz' | 'stream'> = {}): Promise<DecodedAudio | undefined> {
  const stream = options.stream ?? 0;
  if (!(await hasStream(file, 'audio', stream))) return undefined;
  const filters = [
    ...(options.frequencyHz ? [`bandpass=f=${options.frequencyHz}:width_type=q:w=5`] : []),
    `aresample=${PCM_RATE}`,
    'aformat=sample_fmts=s16:channel_layouts=mono',
    'ashowinfo',
  ];
  const { stdout, stderr } = await capture(['-hide_banner', '-nostats', '-v', 'info', '-i', file, '-map', `0:a:${stream}`, '-af', filters.join(','), '-f', 's16le', '-']);
  const samples = new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
  const frames: { index: number; t: number }[] = [];
  let index = 0;
  for (const line of stderr.split('\n')) {
    if (!line.includes('ashowinfo')) continue;
    // After aresample the time base is 1/48000: `pts` counts samples exactly (pts_time is rounded to 6 digits).
    const m = /\bpts:(-?\d+)\s+pts_time:(\S+).*\bnb_samples:(\d+)/.exec(line);
    if (!m) continue;
    const t = Number(m[1]) / PCM_RATE;
    if (Math.abs(t - Number(m[2])) > Math.max(1e-3, Math.abs(t) * 1e-5)) throw new Error(`unexpected audio time base: ${line}`);
    frames.push({ index, t });
    index += Number(m[3]);
  }
  if (index !== samples.length) throw new Error(`ashowinfo counted ${index} samples, ffmpeg wrote ${samples.length}`);
  return { samples, frames };
}

/** Time (s) of sample `i` by the frame it belongs to. */
export function sampleTime(audio: DecodedAudio, i: number): number {
  const { frames } = audio;
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frames[mid]!.index <= i) lo = mid;
    else hi = mid - 1;
  }
  const frame = frames[lo];
  return frame === undefined ? i / PCM_RATE : frame.t + (i - frame.index) / PCM_RATE;
}

/** Onsets (sample indexes) of tone bursts in `samples`. */
export function findOnsets(samples: Int16Array, options: Omit<BeepOptions, 'frequencyHz' | 'stream'> = {}): number[] {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  if (peak < (options.minLevel ?? 0.02) * 32768) return [];
  const threshold = (options.threshold ?? 0.3) * peak;
  const release = Math.round(((options.releaseMs ?? 30) / 1000) * PCM_RATE);
  const minDuration = Math.round(((options.minDurationMs ?? 20) / 1000) * PCM_RATE);
  const onsets: number[] = [];
  let onset = -1;
  let lastAbove = -1;
  const close = () => {
    if (onset >= 0 && lastAbove - onset >= minDuration) onsets.push(onset);
    onset = -1;
  };
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) > threshold) {
      if (onset < 0) onset = i;
      lastAbove = i;
    } else if (onset >= 0 && i - lastAbove > release) {
      close();
    }
  }
  close();
  return onsets;
}

export async function measureBeepTimes(file: string, options: BeepOptions = {}): Promise<number[]> {
  const audio = await decodeAudio(file, options);
  if (audio === undefined) return [];
  return findOnsets(audio.samples, options).map((i) => sampleTime(audio, i));
}

// ---------------------------------------------------------------------------------------------
// Pairing

/** Pair flashes and beeps, closest first, each used once, none further apart than `maxPairMs`. */
export function pairFlashesAndBeeps(flashes_s: readonly number[], beeps_s: readonly number[], maxPairMs = 500): SyncResult {
  const candidates: { f: number; b: number; d: number }[] = [];
  for (let f = 0; f < flashes_s.length; f++) {
    for (let b = 0; b < beeps_s.length; b++) {
      const d = Math.abs(beeps_s[b]! - flashes_s[f]!) * 1000;
      if (d <= maxPairMs) candidates.push({ f, b, d });
    }
  }
  candidates.sort((x, y) => x.d - y.d);
  const usedF = new Set<number>();
  const usedB = new Set<number>();
  const pairs: SyncPair[] = [];
  for (const c of candidates) {
    if (usedF.has(c.f) || usedB.has(c.b)) continue;
    usedF.add(c.f);
    usedB.add(c.b);
    const flash_s = flashes_s[c.f]!;
    const beep_s = beeps_s[c.b]!;
    pairs.push({ flash_s: round(flash_s, 6), beep_s: round(beep_s, 6), offset_ms: round((beep_s - flash_s) * 1000) });
  }
  pairs.sort((x, y) => x.flash_s - y.flash_s);
  const offsets = pairs.map((p) => p.offset_ms);
  return {
    flashes_s: flashes_s.map((t) => round(t, 6)),
    beeps_s: beeps_s.map((t) => round(t, 6)),
    pairs,
    max_abs_offset_ms: offsets.length === 0 ? null : Math.max(...offsets.map(Math.abs)),
    mean_offset_ms: offsets.length === 0 ? null : round(offsets.reduce((a, b) => a + b, 0) / offsets.length),
    unpaired_flashes_s: flashes_s.filter((_, i) => !usedF.has(i)).map((t) => round(t, 6)),
    unpaired_beeps_s: beeps_s.filter((_, i) => !usedB.has(i)).map((t) => round(t, 6)),
  };
}

/** Sync of one file with both audio and video (e.g. a composite.mp4). */
export async function measureAvSync(file: string, options: SyncOptions = {}): Promise<SyncResult> {
  const [flashes, beeps] = await Promise.all([measureFlashTimes(file, options.video), measureBeepTimes(file, options.audio)]);
  return pairFlashesAndBeeps(flashes, beeps, options.maxPairMs);
}

/**
 * Sync of two separate files placed on one timeline: each file's time 0 sits at its offset
 * (e.g. the recorder's per-track files with their manifest `offset_ms`).
 */
export async function measureAvSyncPair(videoFile: string, videoOffsetMs: number, audioFile: string, audioOffsetMs: number, options: SyncOptions = {}): Promise<SyncResult> {
  const [flashes, beeps] = await Promise.all([measureFlashTimes(videoFile, options.video), measureBeepTimes(audioFile, options.audio)]);
  return pairFlashesAndBeeps(
    flashes.map((t) => t + videoOffsetMs / 1000),
    beeps.map((t) => t + audioOffsetMs / 1000),
    options.maxPairMs,
  );
}
