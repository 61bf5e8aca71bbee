/**
 * The sending side of bench:ingest, in its own process: N tracks of realistic RTP — audio
 * (Opus-like: 50 packets/s, 80–160 byte payloads) and video (VP8-like: 300 packets/s,
 * 1 000–1 200 byte payloads) — paced in 5 ms ticks, each track with its own SSRC, sequence
 * and timestamp. Reports what it sent per SSRC.
 */
import { createSocket } from 'node:dgram';

interface TrackSpec {
  ssrc: number;
  kind: 'audio' | 'video';
}

const port = Number(process.env['BENCH_PORT']);
const tracks = JSON.parse(process.env['BENCH_TRACKS'] ?? '[]') as TrackSpec[];
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const socket = createSocket('udp4');
socket.connect(port, '127.0.0.1');
await new Promise((r) => socket.once('connect', r));

const RATE = { audio: 50, video: 300 } as const;
const CLOCK = { audio: 48_000, video: 90_000 } as const;
const state = tracks.map((t, i) => ({ ...t, seq: (i * 7919) & 0xffff, ts: (i * 104729) >>> 0, sent: 0, due: 0 }));
const sent: Record<number, number> = {};
const payloads = { audio: Buffer.alloc(160, 0x55), video: Buffer.alloc(1200, 0xaa) };

function packet(t: (typeof state)[number]): Buffer {
  const size = t.kind === 'audio' ? 80 + (t.seq % 81) : 1000 + (t.seq % 201);
  const b = Buffer.allocUnsafe(12 + size);
  b[0] = 0x80;
  b[1] = (t.kind === 'audio' ? 111 : 96) | (t.kind === 'video' && t.seq % 10 === 9 ? 0x80 : 0);
  b.writeUInt16BE(t.seq, 2);
  b.writeUInt32BE(t.ts >>> 0, 4);
  b.writeUInt32BE(t.ssrc >>> 0, 8);
  payloads[t.kind].copy(b, 12, 0, size);
  t.seq = (t.seq + 1) & 0xffff;
  t.ts = (t.ts + (t.kind === 'audio' ? CLOCK.audio / RATE.audio : t.seq % 10 === 0 ? CLOCK.video / 30 : 0)) >>> 0;
  return b;
}

const start = performance.now();
let inflight = 0;
while (performance.now() - start < seconds * 1000) {
  const elapsedS = (performance.now() - start) / 1000;
  for (const t of state) {
    const due = Math.floor(elapsedS * RATE[t.kind]);
    while (t.sent < due) {
      inflight++;
      socket.send(packet(t), () => inflight--);
      t.sent++;
    }
  }
  // Let the sends flush; yield to the loop every 5 ms tick.
  await new Promise((r) => setTimeout(r, inflight > 20_000 ? 20 : 5));
}
while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
for (const t of state) sent[t.ssrc] = t.sent;
const cpu = process.cpuUsage();
process.send!({ type: 'done', sent, elapsedS: (performance.now() - start) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 });
socket.close();
