/**
 * GStreamer RTP senders for tests (`gst-launch-1.0`): an independent RTP implementation from
 * ffmpeg's. `udpsink` sends no RTCP, so receivers see no sender reports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface GstRtpTarget {
  readonly host: string;
  readonly port: number;
  readonly ssrc: number;
  readonly pt: number;
}

/** Opus from audiotestsrc: each buffer is 1024 samples at 48 kHz (21.3 ms); omit `buffers` to run until killed. */
export function gstOpusArgs(target: GstRtpTarget, options: { buffers?: number; seqnumOffset?: number; timestampOffset?: number } = {}): string[] {
  return [
    '-q',
    'audiotestsrc', 'is-live=true', 'wave=sine', ...(options.buffers === undefined ? [] : [`num-buffers=${options.buffers}`]),
    '!', 'audio/x-raw,rate=48000,channels=2',
    '!', 'opusenc',
    '!', 'rtpopuspay', `pt=${target.pt}`, `ssrc=${target.ssrc}`,
    ...(options.seqnumOffset === undefined ? [] : [`seqnum-offset=${options.seqnumOffset}`]),
    ...(options.timestampOffset === undefined ? [] : [`timestamp-offset=${options.timestampOffset}`]),
    '!', 'udpsink', `host=${target.host}`, `port=${target.port}`, 'sync=true',
  ];
}

/** VP8 from videotestsrc at 320x240, 30 fps, a keyframe every `keyframeEvery` frames. */
export function gstVp8Args(target: GstRtpTarget, options: { frames: number; keyframeEvery?: number }): string[] {
  return [
    '-q',
    'videotestsrc', 'is-live=true', `num-buffers=${options.frames}`,
    '!', 'video/x-raw,width=320,height=240,framerate=30/1',
    '!', 'vp8enc', 'deadline=1', `keyframe-max-dist=${options.keyframeEvery ?? 30}`,
    '!', 'rtpvp8pay', `pt=${target.pt}`, `ssrc=${target.ssrc}`,
    '!', 'udpsink', `host=${target.host}`, `port=${target.port}`, 'sync=true',
  ];
}

/** Whether an element is installed (e.g. `x264enc` is not in this image: plugins-ugly). */
export const gstHas = (element: string): boolean => spawnSync('gst-inspect-1.0', ['--exists', element]).status === 0;

/** Start a pipeline that runs until stopped; `stop` sends SIGTERM and resolves on exit. */
export function startGst(args: string[]): { child: ChildProcess; stderr: () => string; stop: () => Promise<number | null> } {
  const child = spawn('gst-launch-1.0', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
