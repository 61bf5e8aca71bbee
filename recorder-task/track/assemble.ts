/**
 * Finalization of one track: its captured RTP datagrams (any order, duplicates allowed) →
 * one playable local file and the numbers the manifest needs. Opus → Ogg Opus (our own
 * writer), VP8/VP9 → WebM, H.264 → MP4 (or Matroska) via an IVF intermediate and an ffmpeg
 * remux. Files are written locally under a `.partial` name and renamed when whole: MP4 and
 * WebM seek back while finalizing, so they are never streamed straight to S3.
 *
 * This is CPU work (parse, sort, depacketize) off the hot path; a long track is best finalized
 * in a worker thread or its own process so the UDP loop of live recordings keeps its core.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { wireTimestamp } from '../rtp/sequence.ts';
import { writeOggOpus } from './audio-track.ts';
import { EmptyTrackError } from './errors.ts';
import type { FfmpegOptions } from './ffmpeg.ts';
import { oggCrc32 } from './ogg.ts';
import { OPUS_SAMPLE_RATE, opusPacketSamples } from './ogg-opus.ts';
import { measureGaps, type TrackGap } from './gaps.ts';
import { orderPackets, type CapturedPacket, type OrderedPacket } from './packets.ts';
import { assembleVideoFrames, type VideoCodec } from './video-frames.ts';
import { writeVideoFile, type VideoContainer } from './video-track.ts';

export type { TrackGap } from './gaps.ts';
export type TrackCodec = 'opus' | VideoCodec;
export type TrackContainer = 'ogg' | 'webm' | 'mp4' | 'mkv';

export interface AssembleTrackInput {
  readonly packets: readonly CapturedPacket[];
  readonly codec: TrackCodec;
  /** RTP clock of the payload type, Hz (48000 for Opus, 90000 for video). */
  readonly clockRate: number;
  readonly channels?: number;
  readonly outDir: string;
  readonly baseName: string;
  /** H.264 only: MP4 by default; Matroska for players that stream it. */
  readonly h264Container?: 'mp4' | 'mkv';
  readonly ffmpeg?: FfmpegOptions;
}

export interface TrackStats {
  readonly packets: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly reordered: number;
  readonly gaps: TrackGap[];
  /** Frames written from received media (Opus packets, or whole video frames). */
  readonly frames: number;
  readonly keyframes: number;
  readonly malformed: number;
  readonly droppedFrames: number;
  /** Opus silence frames written into holes. */
  readonly silenceFrames: number;
}

export interface AssembledTrack {
  readonly path: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly container: TrackContainer;
  readonly durationSeconds: number;
  /** Wire RTP timestamp of the file's time 0 (map it to wall clock with a sender report). */
  readonly firstRtpTimestamp: number;
  /** Wire sequence number of the first packet in sending order. */
  readonly firstSequence: number;
  readonly firstReceivedAtMs: number;
  readonly lastReceivedAtMs: number;
  readonly stats: TrackStats;
}

const CONTENT_TYPE: Record<TrackContainer, string> = { ogg: 'audio/ogg', webm: 'video/webm', mp4: 'video/mp4', mkv: 'video/x-matroska' };

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export const assembleTrack = async (input: AssembleTrackInput): Promise<AssembledTrack> => {
  if (!(input.clockRate > 0)) throw new RangeError(`clockRate must be positive, got ${input.clockRate}`);
  const track = orderPackets(input.packets);
  const first = track.packets[0];
  const last = track.packets.at(-1);
  if (first === undefined || last === undefined) throw new EmptyTrackError('no_packets', `${input.packets.length} datagrams, none valid RTP`);
  const videoContainer: VideoContainer = input.codec === 'h264' ? (input.h264Container ?? 'mp4') : 'webm';
  const container: TrackContainer = input.codec === 'opus' ? 'ogg' : videoContainer;
  const fileName = `${input.baseName}.${container}`;
  const path = join(input.outDir, fileName);
  const partialPath = `${path}.partial`;
  await mkdir(input.outDir, { recursive: true });

  let media: { originTicks: number; durationSeconds: number; frames: number; keyframes: number; droppedFrames: number; silenceFrames: number };
  let durationTicks = (_: OrderedPacket): number => 0;
  try {
    if (input.codec === 'opus') {
      const ticksPerSample = input.clockRate / OPUS_SAMPLE_RATE;
      durationTicks = (p) => opusPacketSamples(p.payload) * ticksPerSample;
      const ogg = await writeOggOpus(track.packets, {
        path: partialPath,
        clockRate: input.clockRate,
        channels: input.channels,
        serialNumber: oggCrc32(Buffer.from(input.baseName, 'utf8')),
      });
      if (ogg.frames === 0) throw new EmptyTrackError('no_decodable_frames', `${track.packets.length} packets, none an Opus packet`);
      media = {
        originTicks: first.extendedTimestamp,
        durationSeconds: (last.extendedTimestamp - first.extendedTimestamp + durationTicks(last)) / input.clockRate,
        frames: ogg.frames,
        keyframes: 0,
        droppedFrames: ogg.invalidPackets,
        silenceFrames: ogg.silenceFrames,
      };
    } else {
      const video = assembleVideoFrames(input.codec, track.packets);
      const firstFrame = video.frames[0];
      const lastFrame = video.frames.at(-1);
      if (firstFrame === undefined || lastFrame === undefined) {
        throw new EmptyTrackError('no_decodable_frames', `${track.packets.length} packets, ${video.droppedFrames} frames, none a whole keyframe`);
      }
      await writeVideoFile(video.frames, {
        codec: input.codec,
        container: videoContainer,
        clockRate: input.clockRate,
        path: partialPath,
        ivfPath: `${path}.ivf.partial`,
        ffmpeg: input.ffmpeg,
      });
      // The last frame shows for one typical frame interval (the median copes with gaps).
      const intervals = video.frames.slice(1).map((f, i) => f.extendedTimestamp - video.frames[i]!.extendedTimestamp);
      media = {
        originTicks: firstFrame.extendedTimestamp,
        durationSeconds: (lastFrame.extendedTimestamp - firstFrame.extendedTimestamp + median(intervals)) / input.clockRate,
        frames: video.frames.length,
        keyframes: video.keyframes,
        droppedFrames: video.droppedFrames,
        silenceFrames: 0,
      };
    }
    await rename(partialPath, path);
  } catch (error) {
    await rm(partialPath, { force: true });
    throw error;
  }

  let firstReceivedAtMs = Infinity;
  let lastReceivedAtMs = -Infinity;
  for (const p of track.packets) {
    firstReceivedAtMs = Math.min(firstReceivedAtMs, p.receivedAtMs);
    lastReceivedAtMs = Math.max(lastReceivedAtMs, p.receivedAtMs);
  }
  const { originTicks, durationSeconds, ...counts } = media;
  return {
    path,
    fileName,
    contentType: CONTENT_TYPE[container],
    container,
    durationSeconds,
    firstRtpTimestamp: wireTimestamp(originTicks),
    firstSequence: first.sequence,
    firstReceivedAtMs,
    lastReceivedAtMs,
    stats: { ...track.stats, gaps: measureGaps(track, originTicks, input.clockRate, durationTicks), ...counts },
  };
};
