/**
 * bench:ingest — the recorder's hot path under load, sender and receiver in separate
 * processes on loopback.
 *
 * For each target rate it runs participants of one audio (50 pkt/s) and one video
 * (300 pkt/s) track, counts what was sent and what the receiver routed, and reports loss,
 * the receiver's CPU per 1 000 pkt/s, and then the resident memory per audio track from a run
 * with many audio-only tracks.
 *
 * The receive buffer asked for is BENCH_RECV_BUFFER (default 32 MiB, like the recorder); the
 * kernel caps it at net.core.rmem_max, which decides how long a stall of the event loop can
 * last before packets drop (see bench/RESULTS.md).
 *
 *   npm run bench:ingest -- --rates 50000,100000,130000 --duration 60
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../../local/servers/child.ts';
import type { RegisteredTrack } from '../../shared/recording/tracks.ts';
import { appendResult } from '../lib/results.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '50000,100000,130000' },
    duration: { type: 'string', default: '60' },
    'audio-tracks': { type: 'string', default: '1000' },
    'memory-seconds': { type: 'string', default: '20' },
  },
});
const durationS = Number(values.duration);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Stats {
  rtp: number;
  perSsrc: Record<string, number>;
  cpuMs: number;
  rssBytes: number;
  heapBytes: number;
  recvBufferBytes: number;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
}

function child(file: string, env: Record<string, string>): ChildProcess {
  return fork(here(file), [], { execArgv: ['--import', 'tsx', ...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean)], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function ask(receiver: ChildProcess): Promise<Stats> {
  receiver.send({ type: 'stats' });
  for (;;) {
    const [message] = (await once(receiver, 'message')) as [{ type: string } & Stats];
    if (message.type === 'stats') return message;
  }
}

function registered(specs: { ssrc: number; kind: 'audio' | 'video' }[]): RegisteredTrack[] {
  return specs.map((t) => ({
    track_id: `trk_${t.ssrc}`,
    ssrc: t.ssrc,
    payload_type: t.kind === 'audio' ? 111 : 96,
    codec: t.kind === 'audio' ? 'opus' : 'vp8',
    clock_rate: t.kind === 'audio' ? 48000 : 90000,
    channels: t.kind === 'audio' ? 2 : null,
    kind: t.kind,
    peer_id: null,
    display_name: null,
    track_type: null,
    registered_at: new Date().toISOString(),
  }));
}

async function step(specs: { ssrc: number; kind: 'audio' | 'video' }[], seconds: number) {
  const port = (await freePort()) & ~1;
  const receiver = child('receiver.ts', { BENCH_PORT: String(port) });
  const [ready] = (await once(receiver, 'message')) as [{ recvBufferBytes: number }];
  receiver.send({ type: 'register', tracks: registered(specs) });
  await new Promise((r) => setTimeout(r, 300));
  const before = await ask(receiver);
  const sender = child('sender.ts', { BENCH_PORT: String(port), BENCH_TRACKS: JSON.stringify(specs), BENCH_SECONDS: String(seconds) });
  const [done] = (await once(sender, 'message')) as [{ sent: Record<string, number>; elapsedS: number; cpuMs: number }];
  await new Promise((r) => setTimeout(r, 500));
  const after = await ask(receiver);
  receiver.send({ type: 'stop' });
  await once(receiver, 'exit');
  const sent = Object.values(done.sent).reduce((a, b) => a + b, 0);
  const received = after.rtp - before.rtp;
  const rate = sent / done.elapsedS;
  return {
    targetPps: specs.reduce((n, t) => n + (t.kind === 'audio' ? 50 : 300), 0),
    achievedPps: Math.round(rate),
    sent,
    received,
    lost: sent - received,
    receiverCpuPctPer1kPps: Math.round(((after.cpuMs - before.cpuMs) / 10 / done.elapsedS / (rate / 1000)) * 100) / 100,
    receiverCpuPct: Math.round((after.cpuMs - before.cpuMs) / 10 / done.elapsedS),
    senderCpuPct: Math.round(done.cpuMs / 10 / done.elapsedS),
    rssBaselineBytes: before.rssBytes,
    rssBytes: after.rssBytes,
    recvBufferBytes: ready.recvBufferBytes,
    loopDelayMaxMs: Math.round(after.loopDelayMaxMs),
    loopDelayP99Ms: Math.round(after.loopDelayP99Ms),
  };
}

const results = [];
let ssrc = 0x10000;
for (const target of values.rates.split(',').map(Number)) {
  const participants = Math.max(1, Math.round(target / 350));
  const specs = Array.from({ length: participants }, () => [
    { ssrc: ssrc++, kind: 'audio' as const },
    { ssrc: ssrc++, kind: 'video' as const },
  ]).flat();
  console.error(`${participants} participants (${specs.length} tracks, ${participants * 350} pkt/s) for ${durationS} s …`);
  const r = await step(specs, durationS);
  results.push(r);
  console.log(`${r.achievedPps} pkt/s: sent ${r.sent}, received ${r.received}, lost ${r.lost}; receiver ${r.receiverCpuPct} % of a core (${r.receiverCpuPctPer1kPps} % per 1 000 pkt/s), sender ${r.senderCpuPct} %; receiver loop stalls p99 ${r.loopDelayP99Ms} ms, max ${r.loopDelayMaxMs} ms`);
}

const audioTracks = Number(values['audio-tracks']);
console.error(`${audioTracks} audio-only tracks for ${values['memory-seconds']} s (memory per track) …`);
const memory = await step(Array.from({ length: audioTracks }, () => ({ ssrc: ssrc++, kind: 'audio' as const })), Number(values['memory-seconds']));
const perTrackBytes = (memory.rssBytes - memory.rssBaselineBytes) / audioTracks;
console.log(`${audioTracks} audio tracks: RSS ${Math.round(memory.rssBaselineBytes / 2 ** 20)} → ${Math.round(memory.rssBytes / 2 ** 20)} MiB = ${Math.round(perTrackBytes / 1024)} KiB per audio track (lost ${memory.lost})`);

const zeroLoss = results.filter((r) => r.lost === 0).map((r) => r.achievedPps);
const rmemMax = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return Number.NaN;
  }
})();
appendResult(`bench:ingest (${durationS} s per rate, sender and receiver in separate processes, loopback, net.core.rmem_max ${Math.round(rmemMax / 2 ** 20)} MiB)`, [
  '| target pkt/s | achieved pkt/s | sent | received | lost | receiver CPU % of a core | per 1 000 pkt/s | sender CPU % | loop stall p99 / max ms |',
  '|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.targetPps} | ${r.achievedPps} | ${r.sent} | ${r.received} | ${r.lost} | ${r.receiverCpuPct} | ${r.receiverCpuPctPer1kPps} | ${r.senderCpuPct} | ${r.loopDelayP99Ms} / ${r.loopDelayMaxMs} |`),
  '',
  `- highest sustained rate with zero loss: ${zeroLoss.length > 0 ? Math.max(...zeroLoss) : 'none'} pkt/s (socket receive buffer ${Math.round((results[0]?.recvBufferBytes ?? 0) / 1024)} KiB effective)`,
  `- memory: ${audioTracks} audio tracks at 50 pkt/s → ${Math.round(perTrackBytes / 1024)} KiB RSS per audio track (baseline ${Math.round(memory.rssBaselineBytes / 2 ** 20)} MiB, loaded ${Math.round(memory.rssBytes / 2 ** 20)} MiB, lost ${memory.lost})`,
]);
