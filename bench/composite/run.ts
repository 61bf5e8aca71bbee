/**
 * bench:composite — a 2×2 grid at 1280×720 of four 60 s tracks with their audio mixed, as the
 * compositor renders it (chunks encoded in parallel, joined losslessly), against one plain
 * ffmpeg `xstack` + `amix` process at the same x264 preset. Prints × realtime and CPU, and
 * appends the figures to bench/RESULTS.md.
 *
 *   npm run bench:composite [-- --seconds 60 --runs 2 --variants 1x1,2x1,2x2,3x1]
 *
 * A variant `PxC` runs P chunk encoders at once with C chunks per lane.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { planComposition } from '../../recorder-task/compositor/layout/planner.ts';
import { renderAudioMix } from '../../recorder-task/compositor/ffmpeg/audio.ts';
import { ffmpeg, probe } from '../../recorder-task/compositor/ffmpeg/run.ts';
import { renderVideo } from '../../recorder-task/compositor/ffmpeg/video.ts';
import { DEFAULT_CRF } from '../../recorder-task/compositor/ffmpeg/render.ts';
import { renderComposition } from '../../recorder-task/compositor/ffmpeg/render.ts';
import type { Manifest } from '../../shared/recording/manifest.ts';
import { appendResult } from '../lib/results.ts';
import { manifestFor, manifestTrack } from '../../test/support/recorded-room.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '2' },
    variants: { type: 'string', default: '1x1,2x1,2x2' },
    preset: { type: 'string', default: 'veryfast' },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const PRESET = values.preset!;
const TRACKS = 4;
const cache = join(tmpdir(), 'capstan-bench-composite');
mkdirSync(cache, { recursive: true });

/** Children's CPU seconds so far (user + system of reaped children, from /proc/self/stat). */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  return (Number(fields[13]) + Number(fields[14])) / ticks; // cutime, cstime (fields 16 and 17)
}

/** Four tracks as a recorder writes them from WebRTC peers: VP8 WebM ~1.5 Mbit/s, Opus Ogg. */
function sources(): { video: string[]; audio: string[] } {
  const video: string[] = [];
  const audio: string[] = [];
  for (let i = 0; i < TRACKS; i++) {
    const v = join(cache, `cam2-${i}-${SECONDS}s.webm`);
    const a = join(cache, `mic-${i}-${SECONDS}s.ogg`);
    if (!existsSync(v)) {
      process.stderr.write(`generating ${v}\n`);
      // Webcam-like: a still scene with light sensor noise and a moving subject (a 360×360 busy patch).
      const scene = `smptehdbars=size=1280x720:rate=30:duration=${SECONDS},hue=h=${i * 90},noise=alls=2:allf=t[bg];testsrc2=size=360x360:rate=30:duration=${SECONDS}[fg];[bg][fg]overlay=x='460+200*sin(t/2+${i})':y='180+60*cos(t/3)'`;
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', scene, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k', '-g', '300', `${v}.tmp.webm`]);
      execFileSync('mv', [`${v}.tmp.webm`, v]);
    }
    if (!existsSync(a)) {
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${220 * (i + 1)}:sample_rate=48000:duration=${SECONDS}`, '-ac', '2', '-c:a', 'libopus', '-b:a', '48k', `${a}.tmp.ogg`]);
      execFileSync('mv', [`${a}.tmp.ogg`, a]);
    }
    video.push(v);
    audio.push(a);
  }
  return { video, audio };
}

function manifestOf(files: { video: string[]; audio: string[] }): Manifest {
  const track = (kind: 'audio' | 'video', i: number, path: string) =>
    manifestTrack({ track_id: `trk_${kind}_${i}`, kind, peer_id: `peer-${i}`, file_name: path.split('/').at(-1)!, key: path, offset_ms: 0, duration_ms: SECONDS * 1000, ssrc: i + (kind === 'audio' ? 100 : 200) });
  return manifestFor({ recording_id: 'rec_bench', tenant_id: 'bench' }, [...files.video.map((p, i) => track('video', i, p)), ...files.audio.map((p, i) => track('audio', i, p))]);
}

async function timed(run: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  await run();
  return { wall: (performance.now() - t0) / 1000, cpu: childCpuSeconds() - cpu0 };
}

const files = sources();
const manifest = manifestOf(files);
const plan = planComposition(manifest, { preset: 'grid', resolution: '1280x720' });
const byTrack = new Map(manifest.tracks.map((t) => [t.track_id, t.key]));
const work = join(cache, 'work');

const rows: string[] = [];
const record = (name: string, results: { wall: number; cpu: number }[], check: string) => {
  const best = results.reduce((a, b) => (a.wall < b.wall ? a : b));
  const walls = results.map((r) => r.wall);
  const line = `| ${name} | ${(SECONDS / best.wall).toFixed(2)}× | ${best.wall.toFixed(2)} s (${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}) | ${best.cpu.toFixed(1)} s | ${((best.cpu / best.wall) * 100).toFixed(0)} % | ${check} |`;
  rows.push(line);
  console.log(line);
};

console.log(`| variant | × realtime (best) | wall (best, range of ${RUNS}) | CPU (children) | CPU / wall | output |`);
console.log('|---|---|---|---|---|---|');

// Baseline: one ffmpeg, xstack + amix.
{
  const results = [];
  let check = '';
  for (let r = 0; r < RUNS; r++) {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const out = join(work, 'xstack.mp4');
    const inputs = [...files.video, ...files.audio].flatMap((f) => ['-i', f]);
    const graph = `${files.video.map((_, i) => `[${i}:v]scale=640:360:flags=bicubic[v${i}]`).join(';')};[v0][v1][v2][v3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0[v];[4:a][5:a][6:a][7:a]amix=inputs=4:normalize=0[a]`;
    results.push(await timed(() => ffmpeg({ step: 'xstack', args: [...inputs, '-filter_complex', graph, '-map', '[v]', '-map', '[a]', '-c:v', 'libx264', '-preset', PRESET, '-crf', String(DEFAULT_CRF), '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', out], seconds: SECONDS })));
    const p = await probe(out);
    check = `${p.codecs.join('+')} ${p.width}x${p.height} ${p.duration_seconds} s`;
  }
  record(`plain ffmpeg xstack + amix (1 process)`, results, check);
}

for (const variant of values.variants!.split(',')) {
  const [lanes, perLane] = variant.split('x').map(Number) as [number, number];
  const results = [];
  let check = '';
  for (let r = 0; r < RUNS; r++) {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    if (perLane === 1) {
      // Exactly what the compositor job runs (its default is one chunk per lane).
      let out = '';
      results.push(await timed(async () => {
        const rendered = await renderComposition({ plan, files: byTrack, outputs: ['composite.mp4'], workDir: work, parallelism: lanes, preset: PRESET });
        out = rendered[0]!.path;
      }));
      const p = await probe(out);
      check = `${p.codecs.join('+')} ${p.width}x${p.height} ${p.duration_seconds} s`;
    } else {
      const mix = join(work, 'mix.wav');
      let video = '';
      results.push(await timed(async () => {
        [video] = await Promise.all([
          renderVideo(plan, byTrack, { preset: PRESET, crf: DEFAULT_CRF, threads: 0, fastDecode: true, scaler: 'area', parallelism: lanes, chunksPerLane: perLane, workDir: work, name: 'v' }),
          renderAudioMix(plan, plan.sources.filter((s) => s.kind === 'audio'), byTrack, mix),
        ]);
        await ffmpeg({ step: 'mux', args: ['-i', video, '-i', mix, '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', '-movflags', '+faststart', join(work, 'c.mp4')], seconds: SECONDS });
      }));
      const p = await probe(join(work, 'c.mp4'));
      check = `${p.codecs.join('+')} ${p.width}x${p.height} ${p.duration_seconds} s`;
    }
  }
  record(`compositor, ${lanes} parallel chunk encoder(s) × ${perLane} chunk(s) each`, results, check);
}
rmSync(work, { recursive: true, force: true });

const load = readFileSync('/proc/loadavg', 'utf8').trim();
appendResult(`bench:composite (2×2 grid, 1280×720 30 fps, four ${SECONDS} s VP8 + Opus tracks, x264 ${PRESET} CRF ${DEFAULT_CRF}, audio mix)`, [
  `| variant | × realtime (best) | wall (best, range of ${RUNS}) | CPU (children) | CPU / wall | output |`,
  '|---|---|---|---|---|---|',
  ...rows,
  '',
  `- ffmpeg ${execFileSync('ffmpeg', ['-version']).toString().split('\n')[0]!.split(' ')[2]}; load average after the run: ${load}`,
]);
