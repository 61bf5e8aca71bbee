/**
 * A "beep and flash" sender for audio/video sync tests. Video: dark frames, and one white full
 * frame at each flash instant; audio: silence, and a sine beep starting at the same instants.
 * Flashes and beeps share one media timeline (`instantsS`), so wherever both end up (the
 * recorder's per-track files, a composite), `beep − flash` is the sync error.
 *
 * How it is sent: ffmpeg renders the pattern once (lavfi expressions indexed by frame and sample
 * number, so every instant is exact) into a Matroska file — VP8 video, and the audio as raw PCM —
 * cached in the temp dir. ONE GStreamer pipeline then plays that file in real time through ONE
 * `rtpbin` with two send sessions (video = session 0, audio = session 1), each with its own
 * SSRC, to the receiver's RTP port, with RTCP sender reports to its RTCP port (or the RTP port,
 * muxed). Opus is encoded live by `opusenc`, which stamps each packet with the time of its first
 * decoded sample (the 6.5 ms lookahead taken off; the first packet is short), so the RTP audio
 * timeline is exact; a pre-encoded Opus track is not: ffmpeg's WebM Opus decodes 6.4 ms early
 * against its own video, and GStreamer's matroskademux takes the codec delay off once more.
 *
 * Why GStreamer and not ffmpeg: rtpbin builds every SR from the pipeline clock and the running
 * time the payloaders turned into RTP timestamps, identically for both sessions, so the two
 * streams' RTP→NTP mappings agree (measured: < 0.01 ms apart, packets leave within ~0.1–4 ms of
 * the instant their SR mapping gives). ffmpeg's RTP muxer (`rtpenc.c`) gives each output its
 * own NTP origin — `ff_ntp_time()` when that output's header is written, or
 * `-start_time_realtime` (shared by every output then, but taken before ffmpeg has even started:
 * ~400 ms early here) — and extrapolates the SR's RTP time from the wall clock since then, not
 * from what it sent: packets arrived −29…+40 ms around their SR-claimed time, the Opus priming
 * (312 samples) shifts the audio unless `-avoid_negative_ts disabled`, and `-re` paces each
 * input on its own (an `-itsoffset` input is sent up to 1 s early).
 *
 * `rtcp-sync-send-time=false`: the file source is not live, so buffers reach rtpbin ahead of
 * their time (queues fill) and their SR must come from their running time (capture time), not
 * from when rtpbin saw them. `udpsink sync=true` sends each packet at its running time.
 *
 * RTCP goes through a tiny local relay that keeps every SR it forwards, so a test knows the
 * sender's own clock: `wallClockMs(t)` is the wall-clock time (by the SRs) of media time `t`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRtcp } from '../../recorder-task/rtp/rtcp.ts';
import type { TrackDescriptorInput } from '../../shared/recording/tracks.ts';
import { ffprobe, runToEnd } from './media.ts';

export interface BeepFlashPatternOptions {
  /** Length of the media timeline, s (default 8). */
  readonly durationS?: number;
  /** One flash + beep every `periodS` (default 2; a whole number of frames). */
  readonly periodS?: number;
  /** The first flash + beep (default `periodS / 2`: 1, 3, 5, 7 s for the defaults); a whole number of frames. */
  readonly firstAtS?: number;
  /** Beep length, ms (default 100). */
  readonly beepMs?: number;
  /** Beep frequency, Hz (default 1000). */
  readonly beepHz?: number;
  /** Beep peak amplitude, 0–1 (default 0.5). */
  readonly beepAmplitude?: number;
  /** Video frame rate (default 30). */
  readonly fps?: number;
  readonly width?: number;
  readonly height?: number;
  /** Dark frame and flash colours, ffmpeg colour syntax (default 0x181818 and white). */
  readonly background?: string;
  readonly flashColor?: string;
  /**
   * Staggered start: audio start − video start, ms (default 0). Positive: the audio stream
   * starts (its first packet is sent) that much after the video; negative: the video starts
   * later. The flash/beep instants do not move: the late stream just has no media before its
   * start, and only the instants after it.
   */
  readonly startOffsetMs?: number;
  /** Keyframe at least every this many frames (default `fps`: 1 s); every flash is a keyframe as well. */
  readonly keyframeEvery?: number;
  /**
   * A deliberate A/V error in the source: every beep starts this much after its flash (whole ms,
   * default 0; negative: before). To check that a measurement downstream catches a known offset.
   */
  readonly beepDelayMs?: number;
}

/** The resolved pattern: what will be sent, on the media timeline (s). */
export interface BeepFlashPlan {
  readonly durationS: number;
  readonly periodS: number;
  readonly firstAtS: number;
  readonly beepMs: number;
  readonly beepHz: number;
  readonly beepAmplitude: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly background: string;
  readonly flashColor: string;
  readonly keyframeEvery: number;
  readonly startOffsetMs: number;
  readonly beepDelayMs: number;
  /** When each stream starts on the media timeline (one of them is 0). */
  readonly videoStartS: number;
  readonly audioStartS: number;
  /** Every flash/beep instant of the pattern. */
  readonly instantsS: number[];
  /** The flashes the video stream carries (instants at or after its start). */
  readonly flashTimesS: number[];
  /** Onsets of the whole beeps the audio stream carries (`instantsS` + `beepDelayMs`, at or after its start). */
  readonly beepTimesS: number[];
}

const AUDIO_RATE = 48_000;
const VIDEO_CLOCK = 90_000;

const wholeFrames = (seconds: number, fps: number, what: string): number => {
  const frames = seconds * fps;
  if (Math.abs(frames - Math.round(frames)) > 1e-6) throw new RangeError(`${what} (${seconds} s) must be a whole number of frames at ${fps} fps`);
  return Math.round(frames);
};

export function beepFlashPlan(options: BeepFlashPatternOptions = {}): BeepFlashPlan {
  const fps = options.fps ?? 30;
  const durationS = options.durationS ?? 8;
  const periodS = options.periodS ?? 2;
  const firstAtS = options.firstAtS ?? periodS / 2;
  const beepMs = options.beepMs ?? 100;
  const startOffsetMs = options.startOffsetMs ?? 0;
  const beepDelayMs = options.beepDelayMs ?? 0;
  if (!Number.isInteger(beepDelayMs) || Math.abs(beepDelayMs) >= periodS * 500) throw new RangeError(`beepDelayMs (${beepDelayMs}) must be whole ms, under half the period`);
  if (firstAtS + beepDelayMs / 1000 < 0) throw new RangeError('the first beep would start before 0');
  if (!(durationS > 0) || !(periodS > 0) || !(firstAtS >= 0) || !(beepMs > 0)) throw new RangeError('durationS, periodS and beepMs must be positive, firstAtS not negative');
  if (beepMs >= periodS * 1000) throw new RangeError(`beepMs (${beepMs}) must be shorter than the period`);
  wholeFrames(periodS, fps, 'periodS');
  wholeFrames(firstAtS, fps, 'firstAtS');
  // The later stream starts on a frame / an Opus packet boundary: exact both ways.
  const videoStartS = startOffsetMs < 0 ? -startOffsetMs / 1000 : 0;
  const audioStartS = startOffsetMs > 0 ? startOffsetMs / 1000 : 0;
  wholeFrames(videoStartS, fps, 'a negative startOffsetMs');
  if (Math.abs(audioStartS * 50 - Math.round(audioStartS * 50)) > 1e-6) throw new RangeError('a positive startOffsetMs must be a multiple of 20 ms');
  if (Math.max(videoStartS, audioStartS) >= durationS) throw new RangeError('the staggered start is after the end');
  const instantsS: number[] = [];
  for (let k = 0; ; k++) {
    // Whole frames: computed from the frame index so 3 × 0.1 does not come out as 0.30000000000000004.
    const frame = wholeFrames(firstAtS, fps, 'firstAtS') + k * wholeFrames(periodS, fps, 'periodS');
    const t = frame / fps;
    if (t + Math.max(0, beepDelayMs + beepMs) / 1000 > durationS) break;
    instantsS.push(t);
  }
  return {
    durationS,
    periodS,
    firstAtS,
    beepMs,
    beepHz: options.beepHz ?? 1000,
    beepAmplitude: options.beepAmplitude ?? 0.5,
    fps,
    width: options.width ?? 320,
    height: options.height ?? 240,
    background: options.background ?? '0x181818',
    flashColor: options.flashColor ?? 'white',
    keyframeEvery: options.keyframeEvery ?? fps,
    startOffsetMs,
    beepDelayMs,
    videoStartS,
    audioStartS,
    instantsS,
    flashTimesS: instantsS.filter((t) => t >= videoStartS - 1e-9),
    beepTimesS: instantsS.map((t) => Math.round((t + beepDelayMs / 1000) * AUDIO_RATE) / AUDIO_RATE).filter((t) => t >= audioStartS - 1e-9),
  };
}

/** ffmpeg arguments that render `plan` into a Matroska file (VP8 + PCM) at `out`. */
export function beepFlashFfmpegArgs(plan: BeepFlashPlan, out: string): string[] {
  const periodFrames = Math.round(plan.periodS * plan.fps);
  const firstFrame = Math.round(plan.firstAtS * plan.fps);
  const videoStartFrame = Math.round(plan.videoStartS * plan.fps);
  const periodSamples = Math.round(plan.periodS * AUDIO_RATE);
  const firstSample = Math.round((plan.firstAtS + plan.beepDelayMs / 1000) * AUDIO_RATE);
  const beepSamples = Math.round((plan.beepMs / 1000) * AUDIO_RATE);
  const audioStartSample = Math.round(plan.audioStartS * AUDIO_RATE);
  // `n` counts from each stream's own start; `-itsoffset` puts the late stream at its start.
  const frame = `(n+${videoStartFrame})`;
  const isFlash = `gte(${frame},${firstFrame})*eq(mod(${frame}-${firstFrame},${periodFrames}),0)`;
  const sample = `(n+${audioStartSample})`;
  const sinceOnset = `mod(${sample}-${firstSample},${periodSamples})`;
  // Only whole beeps: one cut by a late audio start would add a false onset at the start.
  const inBeep = `gte(${sample},${firstSample})*lt(${sinceOnset},${beepSamples})*gte(${sample}-${sinceOnset},${audioStartSample})`;
  // The sine restarts at phase 0 at every onset: a sharp, well-defined start.
  const beep = `${plan.beepAmplitude}*sin(2*PI*${plan.beepHz}*${sinceOnset}/${AUDIO_RATE})`;
  const videoSeconds = plan.durationS - plan.videoStartS;
  const audioSeconds = plan.durationS - plan.audioStartS;
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-itsoffset', String(plan.videoStartS),
    '-f', 'lavfi', '-i',
    `color=c=${plan.background}:s=${plan.width}x${plan.height}:r=${plan.fps}:d=${videoSeconds},` +
      `drawbox=x=0:y=0:w=iw:h=ih:color=${plan.flashColor}:t=fill:enable='${isFlash}',format=yuv420p`,
    '-itsoffset', String(plan.audioStartS),
    '-f', 'lavfi', '-i', `aevalsrc=exprs='if(${inBeep},${beep},0)':s=${AUDIO_RATE}:d=${audioSeconds}`,
    '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-error-resilient', '1',
    '-auto-alt-ref', '0', '-lag-in-frames', '0', '-g', String(plan.keyframeEvery),
    '-force_key_frames', `expr:${isFlash}`,
    // Raw PCM: GStreamer encodes the Opus live (see the top of this file).
    '-map', '1:a', '-c:a', 'pcm_s16le', '-ac', '1',
    '-f', 'matroska', out,
  ];
}

export interface BeepFlashMedia {
  readonly path: string;
  readonly plan: BeepFlashPlan;
  /** Container time of media time 0 (0 unless a muxer shifted the streams; both alike). */
  readonly shiftS: number;
}

const CACHE_DIR = join(tmpdir(), 'capstan-beep-flash');

/** The pattern as a Matroska file (cached in the temp dir by its parameters). */
export async function beepFlashMedia(options: BeepFlashPatternOptions = {}): Promise<BeepFlashMedia> {
  const plan = beepFlashPlan(options);
  const key = createHash('sha256').update(JSON.stringify(beepFlashFfmpegArgs(plan, 'OUT'))).digest('hex').slice(0, 16);
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, `beep-flash-${key}.mkv`);
  if (!existsSync(path)) {
    // Another test process may be writing the same file: write aside, rename (atomic) when whole.
    const partial = `${path}.${process.pid}.${randomInt(1e9)}.partial`;
    try {
      await runToEnd('ffmpeg', beepFlashFfmpegArgs(plan, partial));
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  const probe = await ffprobe(path);
  const video = probe.streams.find((s) => s.codec_type === 'video') as { start_time?: string } | undefined;
  const shiftS = Math.round((Number(video?.start_time ?? plan.videoStartS) - plan.videoStartS) * 1000) / 1000;
  return { path, plan, shiftS };
}

export interface BeepFlashSenderOptions extends BeepFlashPatternOptions {
  /** Where RTP goes (both streams, one port: the receiver demuxes by SSRC). */
  readonly host: string;
  readonly rtpPort: number;
  /** Where RTCP goes (default `rtpPort + 1`; pass `rtpPort` to mux RTCP with RTP). */
  readonly rtcpPort?: number;
  /** Default: two random distinct SSRCs. */
  readonly ssrcs?: { readonly audio: number; readonly video: number };
  /** Default: Opus 97, VP8 96 (as the other senders of the tests). */
  readonly payloadTypes?: { readonly audio: number; readonly video: number };
  /** Called with the GStreamer process as soon as it exists (e.g. `stack.track`). */
  readonly onChild?: (child: ChildProcess) => void;
}

export interface SenderReportSeen {
  readonly ssrc: number;
  readonly kind: 'audio' | 'video';
  readonly rtpTimestamp: number;
  /** The SR's NTP time, Unix ms. */
  readonly ntpTimeMs: number;
  readonly relayedAtMs: number;
}

export interface BeepFlashSender {
  readonly plan: BeepFlashPlan;
  readonly media: BeepFlashMedia;
  readonly ssrcs: { readonly audio: number; readonly video: number };
  readonly payloadTypes: { readonly audio: number; readonly video: number };
  /** RTP timestamp of container time 0, per stream (the payloaders' `timestamp-offset`). */
  readonly rtpTimestampOffsets: { readonly audio: number; readonly video: number };
  readonly child: ChildProcess;
  /** Wall clock when the pipeline was spawned. */
  readonly spawnedAtMs: number;
  /** Resolves when the process exits (it does by itself once the pattern has been sent). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Registration descriptors for the two streams (JSON body of `POST …/tracks`). */
  tracks(peer?: { peer_id?: string; display_name?: string }): TrackDescriptorInput[];
  /** The same as an SDP with `a=ssrc` lines (body of `POST …/tracks` as `application/sdp`). */
  sdp(): string;
  /** Every sender report relayed so far. */
  senderReports(): SenderReportSeen[];
  /** Wall-clock time, by the sender's SRs, of media time `mediaTimeS`; undefined before the first SR. */
  wallClockMs(mediaTimeS: number, kind?: 'audio' | 'video'): number | undefined;
  stderr(): string;
  /** Wait for the whole pattern to be sent; rejects if GStreamer failed. */
  wait(): Promise<void>;
  /** Stop now (EOS, then a kill if it hangs); resolves on exit. */
  stop(): Promise<void>;
}

const randomSsrc = () => randomInt(1, 0xffff_ffff);

/** Two SSRCs for a sender, random and distinct (choose them before registering the tracks). */
export function beepFlashSsrcs(): { audio: number; video: number } {
  const audio = randomSsrc();
  let video = randomSsrc();
  while (video === audio) video = randomSsrc();
  return { audio, video };
}

/** Registration descriptors for a sender's two streams (JSON body of `POST …/tracks`). */
export function beepFlashTracks(
  ssrcs: { readonly audio: number; readonly video: number },
  options: { payloadTypes?: { audio: number; video: number }; peer_id?: string; display_name?: string } = {},
): TrackDescriptorInput[] {
  const pts = options.payloadTypes ?? { audio: 97, video: 96 };
  const peer = { peer_id: options.peer_id ?? 'beep-flash', ...(options.display_name === undefined ? {} : { display_name: options.display_name }) };
  return [
    { ssrc: ssrcs.audio, payload_type: pts.audio, codec: 'opus', channels: 2, track_type: 'microphone', ...peer },
    { ssrc: ssrcs.video, payload_type: pts.video, codec: 'vp8', track_type: 'camera', ...peer },
  ];
}

/** The same as an SDP with `a=ssrc` lines (body of `POST …/tracks` as `application/sdp`). */
export function beepFlashSdp(
  ssrcs: { readonly audio: number; readonly video: number },
  options: { host?: string; port?: number; payloadTypes?: { audio: number; video: number } } = {},
): string {
  const pts = options.payloadTypes ?? { audio: 97, video: 96 };
  const port = options.port ?? 9;
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=beep-flash',
    `c=IN IP4 ${options.host ?? '127.0.0.1'}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${pts.audio}`,
    `a=rtpmap:${pts.audio} opus/48000/2`,
    `a=ssrc:${ssrcs.audio} cname:beep-flash`,
    `m=video ${port} RTP/AVP ${pts.video}`,
    `a=rtpmap:${pts.video} VP8/90000`,
    `a=ssrc:${ssrcs.video} cname:beep-flash`,
    '',
  ].join('\r\n');
}

/** `gst-launch-1.0` arguments: the file played in real time through one rtpbin with two send sessions. */
export function gstBeepFlashArgs(target: {
  readonly file: string;
  readonly host: string;
  readonly rtpPort: number;
  readonly rtcpHost: string;
  readonly rtcpPort: number;
  readonly ssrcs: { audio: number; video: number };
  readonly payloadTypes: { audio: number; video: number };
  readonly timestampOffsets: { audio: number; video: number };
}): string[] {
  const session = (index: number, payloader: string[]) => [
    ...payloader, '!', `r.send_rtp_sink_${index}`,
    `r.send_rtp_src_${index}`, '!', 'udpsink', `host=${target.host}`, `port=${target.rtpPort}`, 'sync=true',
    `r.send_rtcp_src_${index}`, '!', 'udpsink', `host=${target.rtcpHost}`, `port=${target.rtcpPort}`, 'sync=false', 'async=false',
  ];
  return [
    '-q', '-e',
    'rtpbin', 'name=r', 'rtcp-sync-send-time=false',
    'filesrc', `location=${target.file}`, '!', 'matroskademux', 'name=d',
    ...session(0, ['d.video_0', '!', 'queue', '!', 'rtpvp8pay', `pt=${target.payloadTypes.video}`, `ssrc=${target.ssrcs.video}`, `timestamp-offset=${target.timestampOffsets.video}`]),
    ...session(1, [
      'd.audio_0', '!', 'queue', '!', 'audioconvert', '!', 'audio/x-raw,rate=48000,channels=2',
      '!', 'opusenc', 'bitrate=64000', 'frame-size=20',
      '!', 'rtpopuspay', `pt=${target.payloadTypes.audio}`, `ssrc=${target.ssrcs.audio}`, `timestamp-offset=${target.timestampOffsets.audio}`,
    ]),
  ];
}

async function bindRelay(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

/**
 * Start sending the pattern now (ffmpeg encodes it first if it is not cached). Register the
 * tracks (`tracks()` / `sdp()`) before calling this if the receiver must know them up front;
 * `ssrcs` can be chosen in advance for that.
 */
export async function startBeepFlashSender(options: BeepFlashSenderOptions): Promise<BeepFlashSender> {
  const media = await beepFlashMedia(options);
  const { plan } = media;
  const ssrcs = options.ssrcs ?? beepFlashSsrcs();
  const payloadTypes = options.payloadTypes ?? { audio: 97, video: 96 };
  if (ssrcs.audio === ssrcs.video) throw new RangeError('audio and video need distinct SSRCs');
  const timestampOffsets = { audio: randomInt(0, 2 ** 31), video: randomInt(0, 2 ** 31) };
  const rtcpPort = options.rtcpPort ?? options.rtpPort + 1;

  // The RTCP relay: GStreamer → here → the receiver, keeping every SR.
  const relay = await bindRelay();
  const reports: SenderReportSeen[] = [];
  relay.on('error', () => undefined); // a receiver that is gone must not take the test process down
  relay.on('message', (data) => {
    relay.send(data, rtcpPort, options.host);
    const parsed = parseRtcp(data);
    if (!parsed.ok) return;
    for (const sr of parsed.senderReports) {
      const kind = sr.ssrc === ssrcs.audio ? 'audio' : sr.ssrc === ssrcs.video ? 'video' : undefined;
      if (kind) reports.push({ ssrc: sr.ssrc, kind, rtpTimestamp: sr.rtpTimestamp, ntpTimeMs: sr.ntpTimeMs, relayedAtMs: Date.now() });
    }
  });

  const args = gstBeepFlashArgs({ file: media.path, host: options.host, rtpPort: options.rtpPort, rtcpHost: '127.0.0.1', rtcpPort: relay.address().port, ssrcs, payloadTypes, timestampOffsets });
  const spawnedAtMs = Date.now();
  const child = spawn('gst-launch-1.0', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  options.onChild?.(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      // Let the last RTCP (BYE) through before the relay closes.
      setTimeout(() => relay.close(), 200);
      resolve({ code, signal });
    };
    child.once('exit', done);
    // gst-launch-1.0 missing or not executable: no 'exit' follows.
    child.once('error', (error) => {
      stderr += String(error);
      if (child.pid === undefined) done(null, null);
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;

  const wallClockMs = (mediaTimeS: number, kind?: 'audio' | 'video'): number | undefined => {
    const sr = reports.find((r) => (kind === undefined ? r.kind === 'video' : r.kind === kind)) ?? (kind === undefined ? reports[0] : undefined);
    if (sr === undefined) return undefined;
    const rate = sr.kind === 'audio' ? AUDIO_RATE : VIDEO_CLOCK;
    const rtp = timestampOffsets[sr.kind] + Math.round((mediaTimeS + media.shiftS) * rate);
    // Signed 32-bit difference: robust to a wrap between the two timestamps.
    const diff = ((rtp - sr.rtpTimestamp) << 0) | 0;
    return sr.ntpTimeMs + (diff / rate) * 1000;
  };

  return {
    plan,
    media,
    ssrcs,
    payloadTypes,
    rtpTimestampOffsets: timestampOffsets,
    child,
    spawnedAtMs,
    exited,
    tracks: (peer) => beepFlashTracks(ssrcs, { payloadTypes, ...peer }),
    sdp: () => beepFlashSdp(ssrcs, { host: options.host, port: options.rtpPort, payloadTypes }),
    senderReports: () => [...reports],
    wallClockMs,
    stderr: () => stderr,
    async wait() {
      // gst-launch now and then stays up after its last buffer (no EOS exit, nothing on
      // stderr). It plays in real time, so once the pattern's length (plus start-up slack)
      // has passed everything has been sent: stop it (EOS, then a kill) instead of hanging.
      const slackMs = 10_000;
      let timer: NodeJS.Timeout | undefined;
      const overran = new Promise<'overran'>((resolve) => {
        timer = setTimeout(() => resolve('overran'), Math.max(0, spawnedAtMs + plan.durationS * 1000 + slackMs - Date.now()));
      });
      const first = await Promise.race([exited, overran]);
      clearTimeout(timer);
      if (first === 'overran') {
        process.stderr.write(`beep-flash sender still up ${slackMs / 1000} s after its ${plan.durationS} s pattern; stopping it\n`);
        if (running()) child.kill('SIGINT');
        const kill = setTimeout(() => running() && child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(kill);
        return;
      }
      const { code, signal } = first;
      if (code !== 0) throw new Error(`beep-flash sender exited with ${code ?? signal}: ${stderr}`);
    },
    async stop() {
      if (running()) child.kill('SIGINT'); // gst-launch -e: EOS, RTCP BYE, exit
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
