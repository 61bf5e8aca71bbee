/**
 * The uploader and reader against the real s3rver: byte-exact round trips, an S3 outage that
 * only costs disk, the spill limit, and a restart that finishes a crashed process's uploads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isolatedAdapters } from '../../test/support/aws.ts';
import { exponentialBackoff } from './backoff.ts';
import { RecordKind } from './format.ts';
import { SegmentBuffer, SegmentRoller, type SealedSegment } from './segment-buffer.ts';
import { listSegments, readSegments } from './segment-reader.ts';
import { s3PutSegment, SegmentUploader, type PutSegment, type SegmentGap, type SegmentUploaderOptions } from './uploader.ts';

let s3: S3Client;
let bucket: string;
/** Nothing listens on port 1: every call fails fast with ECONNREFUSED, like S3 being unreachable. */
const deadS3 = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  maxAttempts: 1,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

beforeAll(async () => {
  const adapters = await isolatedAdapters();
  s3 = adapters.s3;
  bucket = adapters.config.CAPSTAN_BUCKET;
});
afterAll(() => deadS3.destroy());

const dirs: string[] = [];
const uploaders: SegmentUploader[] = [];
afterEach(async () => {
  await Promise.all(uploaders.splice(0).map((u) => u.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshRecording() {
  const recordingId = `rec_${randomBytes(6).toString('hex')}`;
  const prefix = `tenant-a/${recordingId}/segments/`;
  const spillDir = mkdtempSync(join(tmpdir(), 'capstan-spill-int-'));
  dirs.push(spillDir);
  return { recordingId, prefix, spillDir, key: (index: number) => `${prefix}${String(index).padStart(6, '0')}.capseg` };
}

/** A put whose S3 client can be swapped while the uploader runs: the outage switch. */
function switchablePut(initial: S3Client) {
  let client = initial;
  const put: PutSegment = (key, body, signal) => s3PutSegment(client, bucket)(key, body, signal);
  return { put, use: (next: S3Client) => (client = next) };
}

function uploader(options: Omit<SegmentUploaderOptions, 'backoffMs'>) {
  const created = new SegmentUploader({ backoffMs: exponentialBackoff({ baseMs: 20, maxMs: 100 }), ...options });
  uploaders.push(created);
  return created;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function download(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

/** Sealed segments of `packetsEach` packets of 1,200 bytes: ~100 KB with 83 packets. */
function sealedSegments(recordingId: string, count: number, packetsEach: number): SealedSegment[] {
  const buffer = new SegmentBuffer({ recordingId });
  return Array.from({ length: count }, (_, index) => {
    for (let p = 0; p < packetsEach; p += 1) {
      buffer.append(p % 50 === 0 ? RecordKind.Rtcp : RecordKind.Rtp, 1_780_000_000_000 + index * 1_000 + p, Buffer.alloc(1_200, (index + p) & 0xff));
    }
    return buffer.sealSegment();
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
const capsegFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.capseg'));

describe('SegmentUploader on s3rver', () => {
  it('uploads what the roller seals byte for byte, and the reader gives the packets back', async () => {
    const rec = freshRecording();
    const up = uploader({ put: s3PutSegment(s3, bucket), key: rec.key, spillDir: rec.spillDir });
    let now = 0;
    const sealed: SealedSegment[] = [];
    const roller = new SegmentRoller({
      recordingId: rec.recordingId,
      segmentSeconds: 1,
      nowMs: () => now,
      sink: (segment) => {
        sealed.push(segment);
        up.enqueue(segment);
      },
    });
    const sent: { kind: number; receivedAtMs: number; data: Buffer }[] = [];
    for (let i = 0; i < 600; i += 1) {
      now = i * 20; // 50 packets/s for 12 s
      const data = randomBytes(i % 100 === 0 ? 0 : 60 + (i % 1_400));
      const kind = i % 25 === 0 ? RecordKind.Rtcp : RecordKind.Rtp;
      roller.append(kind, 1_780_000_000_000 + now + 0.25, data);
      sent.push({ kind, receivedAtMs: 1_780_000_000_000 + now + 0.25, data });
      roller.tick();
    }
    roller.stop();
    expect(await up.drain(20_000)).toEqual({ drained: true, pendingUploads: 0, spillBytes: 0 });

    const uploaded = up.uploadedSegments();
    expect(uploaded.map((u) => u.index)).toEqual(sealed.map((s) => s.index));
    expect(uploaded.length).toBeGreaterThanOrEqual(12);
    for (const [at, segment] of sealed.entries()) {
      const body = await download(rec.key(segment.index));
      expect(body.equals(segment.bytes)).toBe(true);
      expect(uploaded[at]).toMatchObject({ key: rec.key(segment.index), bytes: segment.bytes.length, sha256: sha256(body), packets: segment.packets });
    }

    const read = await readSegments(s3, bucket, rec.prefix, { pageSize: 5 });
    expect(read.unreadable).toEqual([]);
    expect(read.segments.map((s) => ({ key: s.key, bytes: s.bytes, sha256: s.sha256, truncatedBytes: s.truncatedBytes }))).toEqual(
      uploaded.map((u) => ({ key: u.key, bytes: u.bytes, sha256: u.sha256, truncatedBytes: 0 })),
    );
    expect(read.records.map((r) => ({ kind: r.kind, receivedAtMs: r.receivedAtMs, data: Buffer.from(r.data) }))).toEqual(sent);
    expect(readdirSync(rec.spillDir)).toEqual([]);
  });

  it('keeps enqueue fast through an S3 outage, spills to disk, then uploads everything in order', async () => {
    const rec = freshRecording();
    const segments = sealedSegments(rec.recordingId, 1_000, 83); // ~100 KB each, ~100 MB in all
    const totalBytes = segments.reduce((sum, s) => sum + s.bytes.length, 0);
    const outage = switchablePut(deadS3);
    const up = uploader({ put: outage.put, key: rec.key, spillDir: rec.spillDir, spillLimitBytes: 2 * totalBytes });

    let slowestMs = 0;
    const startedAt = performance.now();
    for (const segment of segments) {
      const before = performance.now();
      up.enqueue(segment);
      slowestMs = Math.max(slowestMs, performance.now() - before);
    }
    const totalMs = performance.now() - startedAt;
    // Typically ~5 ms for all 1,000; the bounds are generous for a busy CI machine.
    expect(totalMs).toBeLessThan(500);
    expect(slowestMs).toBeLessThan(50);
    expect(up.stats).toMatchObject({ pendingUploads: 1_000, spillBytes: totalBytes, uploaded: 0 });

    // The outage costs disk: every segment lands in the spill directory while uploads fail.
    await waitFor(() => capsegFiles(rec.spillDir).length === 1_000 && up.stats.uploadFailures >= 3, 30_000);
    expect(dirBytes(rec.spillDir)).toBe(totalBytes);
    expect(up.stats.uploaded).toBe(0);

    outage.use(s3); // S3 is back
    expect(await up.drain(50_000)).toEqual({ drained: true, pendingUploads: 0, spillBytes: 0 });
    expect(up.uploadedSegments().map((u) => u.index)).toEqual(segments.map((s) => s.index));
    expect(up.stats).toMatchObject({ uploaded: 1_000, gaps: 0, spillBytes: 0 });
    expect(readdirSync(rec.spillDir)).toEqual([]);

    const listed = await listSegments(s3, bucket, rec.prefix);
    expect(listed.map((o) => o.index)).toEqual(segments.map((s) => s.index));
    expect(listed.map((o) => o.sizeBytes)).toEqual(segments.map((s) => s.bytes.length));
    for (const index of [0, 499, 999]) expect(sha256(await download(rec.key(index)))).toBe(sha256(segments[index]!.bytes));
  }, 120_000);

  it('past the spill limit drops the newest segment loudly, then uploads the rest', async () => {
    const rec = freshRecording();
    const segments = sealedSegments(rec.recordingId, 5, 10);
    const outage = switchablePut(deadS3);
    const gaps: SegmentGap[] = [];
    const limit = segments.slice(0, 3).reduce((sum, s) => sum + s.bytes.length, 0);
    const up = uploader({ put: outage.put, key: rec.key, spillDir: rec.spillDir, spillLimitBytes: limit, onGap: (gap) => gaps.push(gap) });

    for (const segment of segments) up.enqueue(segment);
    expect(gaps).toEqual(
      segments.slice(3).map((s) => ({
        index: s.index,
        bytes: s.bytes.length,
        packets: 10,
        firstReceivedAtMs: s.firstReceivedAtMs,
        lastReceivedAtMs: s.lastReceivedAtMs,
        reason: 'spill_limit',
      })),
    );
    expect(up.stats).toMatchObject({ gaps: 2, pendingUploads: 3, spillBytes: limit });

    outage.use(s3);
    expect((await up.drain(20_000)).drained).toBe(true);
    expect((await listSegments(s3, bucket, rec.prefix)).map((o) => o.index)).toEqual([0, 1, 2]);
    expect(up.droppedSegments().map((g) => g.index)).toEqual([3, 4]);
  });

  it('a new process uploads what a crashed one left in the spill directory', async () => {
    const rec = freshRecording();
    const segments = sealedSegments(rec.recordingId, 6, 20);
    const crashed = uploader({ put: s3PutSegment(deadS3, bucket), key: rec.key, spillDir: rec.spillDir });
    for (const segment of segments.slice(0, 5)) crashed.enqueue(segment);
    await waitFor(() => capsegFiles(rec.spillDir).length === 5, 10_000);
    await crashed.close(); // the process is gone; its files stay

    const restarted = uploader({ put: s3PutSegment(s3, bucket), key: rec.key, spillDir: rec.spillDir });
    restarted.enqueue(segments[5]!);
    expect((await restarted.drain(20_000)).drained).toBe(true);
    expect(restarted.uploadedSegments().map((u) => [u.index, u.recovered])).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [3, true],
      [4, true],
      [5, false],
    ]);
    expect(readdirSync(rec.spillDir)).toEqual([]);

    const read = await readSegments(s3, bucket, rec.prefix);
    expect(read.segments.map((s) => s.sha256)).toEqual(segments.map((s) => sha256(s.bytes)));
    expect(read.segments.map((s) => s.sha256)).toEqual(restarted.uploadedSegments().map((u) => u.sha256));
    expect(read.records).toHaveLength(6 * 20);
    expect(restarted.uploadedSegments()[0]).toMatchObject({ packets: 20, firstReceivedAtMs: segments[0]!.firstReceivedAtMs, lastReceivedAtMs: segments[0]!.lastReceivedAtMs });
  });

  it('the reader pages through listings, skips other objects, and reports unreadable ones', async () => {
    const rec = freshRecording();
    const segments = sealedSegments(rec.recordingId, 12, 2);
    const up = uploader({ put: s3PutSegment(s3, bucket), key: rec.key, spillDir: rec.spillDir });
    for (const segment of [...segments].reverse()) up.enqueue(segment); // upload order must not matter
    expect((await up.drain(20_000)).drained).toBe(true);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${rec.prefix}manifest.json`, Body: '{}' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${rec.prefix}000012.capseg`, Body: 'garbage, not a segment' }));

    const listed = await listSegments(s3, bucket, rec.prefix, { pageSize: 5 });
    expect(listed.map((o) => o.index)).toEqual([...Array(13).keys()]);
    const read = await readSegments(s3, bucket, rec.prefix, { pageSize: 5, concurrency: 3 });
    expect(read.segments.map((s) => s.header.segmentIndex)).toEqual([...Array(12).keys()]);
    expect(read.unreadable.map((u) => [u.key, u.error.reason])).toEqual([[`${rec.prefix}000012.capseg`, 'bad_magic']]);
  });
});
