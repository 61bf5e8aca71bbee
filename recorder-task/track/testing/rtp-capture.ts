/**
 * Test support: a UDP port pair that records every datagram with its receive time, real RTP
 * senders (ffmpeg, GStreamer) run as child processes, and ffprobe/ffmpeg checks of the output.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

export interface CapturedDatagram {
  receivedAtMs: number;
  data: Buffer;
}

export interface RtpCapture {
  /** RTP port; RTCP is captured on port + 1 (where ffmpeg sends its sender reports). */
  readonly port: number;
  readonly rtp: CapturedDatagram[];
  readonly rtcp: CapturedDatagram[];
  close(): Promise<void>;
}

/** 4 MiB, as the recorder asks for: loopback bursts of a keyframe overflow the 208 KiB default. */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

const bind = async (port: number): Promise<Socket> => {
  const socket = createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
  const failed = once(socket, 'error').then(([error]) => Promise.reject(error as Error));
  await Promise.race([new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve)), failed]);
  return socket;
};

const record = (socket: Socket, into: CapturedDatagram[]): void => {
  // performance.now() keeps sub-ms resolution; Date.now() would round to whole ms.
  socket.on('message', (data) => into.push({ receivedAtMs: performance.timeOrigin + performance.now(), data }));
};

export const openRtpCapture = async (): Promise<RtpCapture> => {
  for (let attempt = 0; attempt < 20; attempt++) {
    const rtpSocket = await bind(0);
    const port = rtpSocket.address().port;
    const rtcpSocket = await bind(port + 1).catch(() => undefined);
    if (rtcpSocket === undefined) {
      rtpSocket.close();
      continue;
    }
    const capture = { port, rtp: [] as CapturedDatagram[], rtcp: [] as CapturedDatagram[] };
    record(rtpSocket, capture.rtp);
    record(rtcpSocket, capture.rtcp);
    return {
      ...capture,
      close: async () => {
        await Promise.all([new Promise<void>((r) => rtpSocket.close(() => r())), new Promise<void>((r) => rtcpSocket.close(() => r()))]);
      },
    };
  }
  throw new Error('no free UDP port pair on 127.0.0.1');
};

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; rejects with its stderr if it exits non-zero. */
export const run = (command: string, args: string[], timeoutMs = 30_000): Promise<ProcessResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ code, stdout, stderr });
      else reject(new Error(`${command} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });

export interface ProbedStream {
  codec_name: string;
  codec_type: string;
  width?: number;
  height?: number;
  channels?: number;
  sample_rate?: string;
  duration?: string;
}
export interface Probe {
  format: { format_name: string; duration?: string; start_time?: string };
  streams: ProbedStream[];
}

export const ffprobe = async (path: string): Promise<Probe> => {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  return JSON.parse(stdout) as Probe;
};

/** What a full decode complains about; empty for a clean file. */
export const decodeErrors = async (path: string): Promise<string> => {
  const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-']);
  return stderr.trim();
};
