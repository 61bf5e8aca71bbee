import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordKind } from './format.ts';
import { SegmentBuffer, type SealedSegment } from './segment-buffer.ts';
import { spillFileName } from './spill-dir.ts';
import { SegmentUploader, type PutSegment, type SegmentGap } from './uploader.ts';

const dirs: string[] = [];
const uploaders: SegmentUploader[] = [];
afterEach(async () => {
  await Promise.all(uploaders.splice(0).map((u) => u.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function spillDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'capstan-spill-unit-'));
  dirs.push(dir);
  return dir;
}

function segments(count: number, payloadBytes = 1_000, firstIndex = 0): SealedSegment[] {
  const buffer = new SegmentBuffer({ recordingId: 'rec_unit', firstSegmentIndex: firstIndex });
  return Array.from({ length: count }, (_, i) => {
    buffer.append(RecordKind.Rtp, 1_000 + i, Buffer.alloc(payloadBytes, i));
    return buffer.sealSegment();
  });
}

/** A put that fails while `down` is true and records what it stored. */
function fakeS3() {
  const stored = new Map<string, Buffer>();
  const state = { down: false, calls: 0 };
  const put: PutSegment = async (key, body) => {
    state.calls += 1;
    if (state.down) throw new Error('connect ECONNREFUSED');
    stored.set(key, Buffer.from(body));
  };
  return { stored, state, put };
}

function make(options: Partial<ConstructorParameters<typeof SegmentUploader>[0]> & { put: PutSegment; spillDir: string }) {
  const uploader = new SegmentUploader({ key: (i) => `t/rec_unit/segments/${String(i).padStart(6, '0')}.capseg`, sleep: async () => undefined, backoffMs: () => 0, ...options });
  uploaders.push(uploader);
  return uploader;
}

describe('SegmentUploader', () => {
  it('uploads in order, byte exact, and leaves no spill behind', async () => {
    const s3 = fakeS3();
    const dir = spillDir();
    const uploader = make({ put: s3.put, spillDir: dir });
    const input = segments(20);
    for (const s of input) uploader.enqueue(s);
    expect(s3.state.calls).toBe(0); // enqueue never starts I/O itself
    expect(await uploader.drain(5_000)).toEqual({ drained: true, pendingUploads: 0, spillBytes: 0 });
    expect(uploader.uploadedSegments().map((u) => u.index)).toEqual(input.map((s) => s.index));
    for (const s of input) expect(s3.stored.get(`t/rec_unit/segments/${String(s.index).padStart(6, '0')}.capseg`)).toEqual(s.bytes);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('retries with the injected backoff while S3 fails, then catches up', async () => {
    const s3 = fakeS3();
    s3.state.down = true;
    const delays: number[] = [];
    const uploader = make({
      put: s3.put,
      spillDir: spillDir(),
      backoffMs: (attempt) => attempt * 10,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 5) s3.state.down = false;
      },
    });
    for (const s of segments(3)) uploader.enqueue(s);
    expect((await uploader.drain(5_000)).drained).toBe(true);
    expect(delays).toEqual([0, 10, 20, 30, 40]);
    expect(uploader.stats).toMatchObject({ uploaded: 3, uploadFailures: 5, pendingUploads: 0 });
  });

  it('refuses a segment past the spill limit and reports it as a gap', async () => {
    const s3 = fakeS3();
    s3.state.down = true;
    const gaps: SegmentGap[] = [];
    const input = segments(4, 1_000);
    const uploader = make({ put: s3.put, spillDir: spillDir(), spillLimitBytes: input[0]!.bytes.length * 3, onGap: (g) => gaps.push(g) });
    for (const s of input) uploader.enqueue(s);
    expect(gaps).toEqual([{ index: 3, bytes: input[3]!.bytes.length, packets: 1, firstReceivedAtMs: 1_003, lastReceivedAtMs: 1_003, reason: 'spill_limit' }]);
    expect(uploader.stats).toMatchObject({ gaps: 1, pendingUploads: 3, spillBytes: input[0]!.bytes.length * 3 });
    expect(uploader.droppedSegments()).toEqual(gaps);
  });

  it('drain gives up at its timeout and says what is still pending', async () => {
    const s3 = fakeS3();
    s3.state.down = true;
    const uploader = make({ put: s3.put, spillDir: spillDir(), sleep: (ms, signal) => new Promise((_, reject) => signal.addEventListener('abort', reject)) });
    for (const s of segments(2)) uploader.enqueue(s);
    const result = await uploader.drain(50);
    expect(result.drained).toBe(false);
    expect(result.pendingUploads).toBe(2);
  });

  it('recovers a previous writer’s files, promotes a torn .partial, quarantines garbage', async () => {
    const dir = spillDir();
    const [a, b, c] = segments(3, 500, 10);
    writeFileSync(join(dir, spillFileName(10, 'old1')), a!.bytes);
    writeFileSync(join(dir, `${spillFileName(11, 'old1')}.partial`), b!.bytes.subarray(0, b!.bytes.length - 5));
    writeFileSync(join(dir, spillFileName(12, 'old1')), c!.bytes);
    writeFileSync(join(dir, spillFileName(13, 'old1')), Buffer.from('not a segment at all, sorry'));
    writeFileSync(join(dir, 'README.txt'), 'left alone');
    const s3 = fakeS3();
    const uploader = make({ put: s3.put, spillDir: dir });
    uploader.enqueue(segments(1, 100, 14)[0]!);
    expect((await uploader.drain(5_000)).drained).toBe(true);
    expect(uploader.uploadedSegments().map((u) => [u.index, u.recovered, u.packets])).toEqual([
      [10, true, 1],
      [11, true, 0],
      [12, true, 1],
      [14, false, 1],
    ]);
    expect(uploader.stats.corruptSpillFiles).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([`${spillFileName(13, 'old1')}.corrupt`, 'README.txt']);
  });

  it('drains at once when there is nothing to do, recovery included', async () => {
    const uploader = make({ put: fakeS3().put, spillDir: join(spillDir(), 'not-yet-created') });
    expect(await uploader.drain(1_000)).toEqual({ drained: true, pendingUploads: 0, spillBytes: 0 });
  });

  it('close aborts the attempt in flight and leaves the files for the next process', async () => {
    const dir = spillDir();
    const hanging: PutSegment = (_key, _body, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const uploader = make({ put: hanging, spillDir: dir });
    for (const s of segments(3)) uploader.enqueue(s);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await uploader.close();
    expect(readdirSync(dir)).toHaveLength(3);
    expect(uploader.stats).toMatchObject({ uploaded: 0, uploadFailures: 0, pendingUploads: 3 });
  });
});
