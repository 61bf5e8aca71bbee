/**
 * Whole video frames → a playable file: frames go into an IVF file with their RTP times as
 * presentation times, then ffmpeg remuxes it (`-c copy`, no re-encoding) into the container
 * people play. ffmpeg's muxers handle the parts that are easy to get wrong: WebM cues and
 * durations, the H.264 avcC box built from in-band SPS/PPS, MP4 faststart.
 *
 * Presentation time = decode time: WebRTC senders use no B-frames (VP8 has none; H.264 is
 * constrained baseline), and RTP carries no decode order anyway.
 */
import { rm } from 'node:fs/promises';
import { runFfmpeg, type FfmpegOptions } from './ffmpeg.ts';
import { vp8KeyframeSize } from './codec-headers.ts';
import { IvfWriter, type IvfFourcc } from './ivf-writer.ts';
import { FileSink } from './sink.ts';
import type { VideoCodec, VideoFrame } from './video-frames.ts';

export type VideoContainer = 'webm' | 'mp4' | 'mkv';

export interface VideoFileTarget {
  readonly codec: VideoCodec;
  readonly container: VideoContainer;
  readonly clockRate: number;
  /** The playable file, written by ffmpeg. */
  readonly path: string;
  /** The intermediate IVF file, removed afterwards. */
  readonly ivfPath: string;
  readonly ffmpeg?: FfmpegOptions;
}

const FOURCC: Record<VideoCodec, IvfFourcc> = { vp8: 'VP80', vp9: 'VP90', h264: 'H264' };

/** ffmpeg's muxer names; the output path may have any extension (e.g. `.partial`). */
const MUXER: Record<VideoContainer, string[]> = {
  webm: ['-f', 'webm'],
  // faststart moves the index to the front so playback starts before the download ends.
  mp4: ['-movflags', '+faststart', '-f', 'mp4'],
  mkv: ['-f', 'matroska'],
};

export const writeVideoFile = async (frames: readonly VideoFrame[], target: VideoFileTarget): Promise<void> => {
  const first = frames[0];
  if (first === undefined) throw new RangeError('no frames to write');
  // Only VP8 is cheap to size from the bitstream; for 0 × 0 ffmpeg reads the size while probing.
  const size = target.codec === 'vp8' ? vp8KeyframeSize(first.data) : undefined;
  const sink = await FileSink.create(target.ivfPath);
  try {
    const writer = new IvfWriter(sink, {
      fourcc: FOURCC[target.codec],
      widthPx: size?.widthPx ?? 0,
      heightPx: size?.heightPx ?? 0,
      clockRate: target.clockRate,
      frameCount: frames.length,
    });
    for (const frame of frames) {
      writer.writeFrame(frame.data, frame.extendedTimestamp - first.extendedTimestamp);
      await sink.drain();
    }
  } finally {
    await sink.close();
  }
  try {
    await runFfmpeg(['-f', 'ivf', '-i', target.ivfPath, '-map', '0:v:0', '-c', 'copy', ...MUXER[target.container], target.path], target.ffmpeg);
  } finally {
    await rm(target.ivfPath, { force: true });
  }
};
