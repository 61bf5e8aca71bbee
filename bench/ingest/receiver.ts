/**
 * The receiving side of bench:ingest, in its own process: the recorder's real hot path —
 * a bound port pair with the configured receive buffer, the IngestRouter, the SegmentRoller
 * and the SegmentUploader (spilling to local disk; its S3 put is a no-op here so the figure
 * is the recorder's own cost, not s3rver's). Reports counters to the parent over IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestRouter } from '../../recorder-task/ingest/router.ts';
import { bindPair } from '../../recorder-task/ingest/sockets.ts';
import type { RecordKind } from '../../recorder-task/segments/format.ts';
import { SegmentRoller } from '../../recorder-task/segments/segment-buffer.ts';
import { SegmentUploader } from '../../recorder-task/segments/uploader.ts';
import type { RegisteredTrack } from '../../shared/recording/tracks.ts';

const port = Number(process.env['BENCH_PORT']);
const recvBufferBytes = Number(process.env['BENCH_RECV_BUFFER'] ?? 32 * 1024 * 1024);
const spillDir = mkdtempSync(join(tmpdir(), 'capstan-bench-spill-'));
const uploader = new SegmentUploader({ put: async () => {}, key: (i) => `bench/${i}.capseg`, spillDir, spillLimitBytes: 8 * 1024 ** 3 });
const roller = new SegmentRoller({
  recordingId: 'rec_bench',
  segmentSeconds: 5,
  sink: (s) => uploader.enqueue(s),
  ...(process.env['BENCH_MAX_SEGMENT_BYTES'] ? { maxSegmentBytes: Number(process.env['BENCH_MAX_SEGMENT_BYTES']) } : {}),
});
// Event-loop stalls are what overflow the socket buffer: measure them.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const router = new IngestRouter({
  maxDatagramBytes: 1500,
  holdMs: 10_000,
  holdBytes: 16 * 1024 * 1024,
  sink: { append: (kind, atMs, data) => roller.append(kind as RecordKind, atMs, data) },
});
const sockets = await bindPair('127.0.0.1', port, recvBufferBytes);
sockets.rtp.on('message', (data) => router.onRtpPort(data, Date.now()));
sockets.rtcp.on('message', (data) => router.onRtcpPort(data, Date.now()));
roller.start();

process.on('message', (message: { type: string; tracks?: RegisteredTrack[] }) => {
  if (message.type === 'register' && message.tracks) router.registerTracks(message.tracks);
  if (message.type === 'stats') {
    const perSsrc: Record<number, number> = {};
    for (const [ssrc, s] of router.ssrcStats) perSsrc[ssrc] = s.packets;
    const cpu = process.cpuUsage();
    process.send!({
      type: 'stats',
      rtp: router.counters.rtp,
      perSsrc,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBytes: process.memoryUsage.rss(),
      heapBytes: process.memoryUsage().heapUsed,
      recvBufferBytes: sockets.recvBufferBytes,
      spillBytes: uploader.stats.spillBytes,
      loopDelayMaxMs: loopDelay.max / 1e6,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    });
  }
  if (message.type === 'stop') {
    roller.stop();
    void sockets.close().then(async () => {
      await uploader.close();
      rmSync(spillDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
process.send!({ type: 'ready', recvBufferBytes: sockets.recvBufferBytes });
