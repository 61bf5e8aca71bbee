/** Real media tools for tests: ffprobe a file, run a sender to completion. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Probe {
  format: { format_name: string; duration?: string };
  streams: { codec_type: string; codec_name: string; duration?: string; width?: number; height?: number; sample_rate?: string }[];
}

export async function ffprobe(path: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  return JSON.parse(stdout) as Probe;
}

/** Decode the whole file; returns ffmpeg's error output (empty when the file decodes cleanly). */
export async function decodeErrors(path: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
  return stderr.trim();
}

/** Run a command to completion; rejects with its stderr on a non-zero exit. */
export function runToEnd(command: string, args: string[], timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code}: ${stderr}`));
    });
  });
}

/** ffmpeg sending Opus and VP8 as two RTP streams (RTCP SRs to port+1), in real time. */
export function ffmpegOpusVp8Args(host: string, port: number, seconds: number, ssrcs: { audio: number; video: number }): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${seconds}`,
    '-map', '0:a', '-c:a', 'libopus', '-ssrc', String(ssrcs.audio), '-payload_type', '97', '-f', 'rtp', `rtp://${host}:${port}`,
    '-map', '1:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k', '-ssrc', String(ssrcs.video), '-payload_type', '96', '-f', 'rtp', `rtp://${host}:${port}`,
  ];
}
