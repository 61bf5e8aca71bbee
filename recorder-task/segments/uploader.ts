/**
 * Gets sealed segments from the recorder to S3 without ever making the UDP loop wait.
 *
 * enqueue (sync) ──▶ spill writer (async, one file at a time) ──▶ upload worker (async, in
 * index order, one at a time, retried forever) ──▶ delete the local file.
 *
 * Every accepted segment is counted in `spillBytes` until S3 has it; past `spillLimitBytes`
 * a new segment is refused and reported through `onGap`, so nothing is lost silently. Bodies
 * stay in memory only until their file is written (unless they are next in line to upload),
 * so a long outage costs disk, not RAM.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { silentLogger, type Logger } from '../../shared/logger.ts';
import { exponentialBackoff } from './backoff.ts';
import { decodeSegment } from './format.ts';
import { httpStatus, type PutSegment } from './s3-put.ts';
import type { SealedSegment } from './segment-buffer.ts';
import { CORRUPT_SUFFIX, ensureSpillDir, scanSpillDir, spillFileName, writeSpillFile } from './spill-dir.ts';

export { s3PutSegment, type PutSegment } from './s3-put.ts';

export interface SegmentGap {
  readonly index: number;
  readonly bytes: number;
  readonly packets: number;
  readonly firstReceivedAtMs: number;
  readonly lastReceivedAtMs: number;
  /** spill_limit: refused at enqueue; spill_unreadable: its spill file vanished before upload. */
  readonly reason: 'spill_limit' | 'spill_unreadable';
}

/** What the manifest needs about each stored segment. */
export interface UploadedSegment {
  readonly index: number;
  readonly key: string;
  readonly bytes: number;
  /** Hex SHA-256 of the object body. */
  readonly sha256: string;
  readonly packets: number;
  readonly firstReceivedAtMs: number;
  readonly lastReceivedAtMs: number;
  /** Came from a previous process's spill directory. */
  readonly recovered: boolean;
}

export interface UploaderStats {
  readonly pendingUploads: number;
  readonly spillBytes: number;
  readonly uploaded: number;
  readonly uploadFailures: number;
  readonly gaps: number;
  readonly spillWriteFailures: number;
  readonly corruptSpillFiles: number;
}

export type DrainResult = { readonly drained: boolean; readonly pendingUploads: number; readonly spillBytes: number };

export interface SegmentUploaderOptions {
  readonly put: PutSegment;
  /** Object key of a segment index, e.g. `tenant/rec_x/segments/0000000001.capseg`. */
  readonly key: (index: number) => string;
  /** One directory per recording: recovery uploads every segment file it finds there. */
  readonly spillDir: string;
  /** Most bytes accepted but not yet in S3. Default 1 GiB. */
  readonly spillLimitBytes?: number;
  readonly onGap?: (gap: SegmentGap) => void;
  /** Delay before retry number `attempt` (0-based). Default: 200 ms doubling to 30 s, jittered. */
  readonly backoffMs?: (attempt: number) => number;
  /** Waits `ms`; rejects when `signal` aborts. Injectable for tests. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** An attempt that hangs this long is aborted and retried (the SDK has no default timeout). */
  readonly attemptTimeoutMs?: number;
  /** Upload segments found in `spillDir` at construction. Default true. */
  readonly recoverSpill?: boolean;
  readonly logger?: Logger;
}

interface QueuedSegment {
  index: number;
  key: string;
  readonly path: string;
  readonly sizeBytes: number;
  packets: number;
  firstReceivedAtMs: number;
  lastReceivedAtMs: number;
  /** In memory until written to disk (or for good if the write failed). */
  body: Buffer | null;
  /** Resolves true once the file is on disk, false if it could not be written. */
  readonly written: Promise<boolean>;
  readonly recovered: boolean;
}

const defaultSleep = (ms: number, signal: AbortSignal) => sleepFor(ms, undefined, { signal, ref: false });

export class SegmentUploader {
  private readonly options: SegmentUploaderOptions;
  private readonly logger: Logger;
  private readonly writerId = randomBytes(4).toString('hex');
  private readonly spillLimitBytes: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly closing = new AbortController();
  private readonly queue: QueuedSegment[] = [];
  private readonly uploadedList: UploadedSegment[] = [];
  private readonly gapList: SegmentGap[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  /** Spill writes run one after another, in enqueue order. */
  private writeChain: Promise<unknown>;
  private worker: Promise<void> | undefined;
  private recovering: boolean;
  private readonly recovery: Promise<void>;
  private pendingBytes = 0;
  private uploadedCount = 0;
  private failureCount = 0;
  private spillWriteFailureCount = 0;
  private corruptCount = 0;

  constructor(options: SegmentUploaderOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.spillLimitBytes = options.spillLimitBytes ?? 1024 ** 3;
    this.backoffMs = options.backoffMs ?? exponentialBackoff();
    this.sleep = options.sleep ?? defaultSleep;
    const dirReady = ensureSpillDir(options.spillDir).catch((error: unknown) => {
      this.logger.error('cannot create spill directory; segments stay in memory', { spillDir: options.spillDir, error });
    });
    this.writeChain = dirReady;
    this.recovering = options.recoverSpill ?? true;
    this.recovery = this.recovering ? dirReady.then(() => this.recoverSpill()) : Promise.resolve();
  }

  get stats(): UploaderStats {
    return {
      pendingUploads: this.queue.length,
      spillBytes: this.pendingBytes,
      uploaded: this.uploadedCount,
      uploadFailures: this.failureCount,
      gaps: this.gapList.length,
      spillWriteFailures: this.spillWriteFailureCount,
      corruptSpillFiles: this.corruptCount,
    };
  }

  /** Segments in S3, in upload order (index order within one process). */
  uploadedSegments(): readonly UploadedSegment[] {
    return this.uploadedList;
  }

  /** Segments that will never reach S3, for the manifest's gap list. */
  droppedSegments(): readonly SegmentGap[] {
    return this.gapList;
  }

  /**
   * Takes ownership of `segment.bytes` (do not reuse them). Synchronous and never throws:
   * I/O starts on later turns of the event loop. Works after `close()` too (spill only).
   */
  enqueue(segment: SealedSegment): void {
    const sizeBytes = segment.bytes.length;
    if (this.pendingBytes + sizeBytes > this.spillLimitBytes) {
      this.recordGap({ ...segment, bytes: sizeBytes, reason: 'spill_limit' });
      return;
    }
    this.pendingBytes += sizeBytes;
    const path = join(this.options.spillDir, spillFileName(segment.index, this.writerId));
    // `item` is only read inside the callback, which runs on a later tick.
    const written = this.writeChain.then(() => this.spill(item));
    const item: QueuedSegment = {
      index: segment.index,
      key: this.options.key(segment.index),
      path,
      sizeBytes,
      packets: segment.packets,
      firstReceivedAtMs: segment.firstReceivedAtMs,
      lastReceivedAtMs: segment.lastReceivedAtMs,
      body: segment.bytes,
      written,
      recovered: false,
    };
    this.writeChain = written;
    this.queue.push(item);
    this.pump();
  }

  /** Resolves once every accepted segment is in S3, or when `timeoutMs` runs out. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    // Files left by a previous process count as pending: wait until they are queued.
    await this.recovery;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => {
      if (this.isIdle()) resolve(true);
      else this.idleWaiters.push(() => resolve(true));
    });
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return { drained, pendingUploads: this.queue.length, spillBytes: this.pendingBytes };
  }

  /** Stops uploading (in-flight attempts are aborted) and lets spill writes finish. Files stay for recovery. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.all([this.worker, this.writeChain, this.recovery]);
  }

  /** Queues segment files a previous process left in the spill directory, ahead of new ones. */
  private async recoverSpill(): Promise<void> {
    try {
      const known = new Set(this.queue.map((item) => item.path));
      const files = (await scanSpillDir(this.options.spillDir, this.writerId)).filter((file) => !known.has(file.path));
      const items = files.map<QueuedSegment>((file) => ({
        // Index, key and packet details are read from the file's own header at upload time.
        index: file.index,
        key: '',
        path: file.path,
        sizeBytes: file.sizeBytes,
        packets: 0,
        firstReceivedAtMs: Number.NaN,
        lastReceivedAtMs: Number.NaN,
        body: null,
        written: Promise.resolve(true),
        recovered: true,
      }));
      this.queue.unshift(...items);
      this.pendingBytes += items.reduce((sum, item) => sum + item.sizeBytes, 0);
      if (items.length > 0) this.logger.info('recovering spilled segments', { count: items.length, spillDir: this.options.spillDir });
    } catch (error) {
      this.logger.error('spill recovery failed; leftover segments stay on disk', { spillDir: this.options.spillDir, error });
    } finally {
      this.recovering = false;
      this.pump();
      if (this.isIdle()) this.notifyIdle();
    }
  }

  private async spill(item: QueuedSegment): Promise<boolean> {
    if (item.body === null) return true;
    try {
      await writeSpillFile(item.path, item.body);
    } catch (error) {
      // Disk trouble does not lose the segment: it stays in memory (still counted against the limit).
      this.spillWriteFailureCount += 1;
      this.logger.error('spill write failed; segment kept in memory', { segmentIndex: item.index, error });
      return false;
    }
    // The next segment to upload keeps its bytes so a healthy S3 path never re-reads the disk.
    if (this.queue[0] !== item) item.body = null;
    return true;
  }

  private pump(): void {
    if (this.worker !== undefined || this.recovering || this.closing.signal.aborted || this.queue.length === 0) return;
    this.worker = this.run()
      .catch((error: unknown) => this.logger.error('upload worker stopped on an unexpected error', { error }))
      .finally(() => {
        this.worker = undefined;
        // An enqueue that landed after the loop saw an empty queue found the worker still set.
        this.pump();
        if (this.isIdle()) this.notifyIdle();
      });
  }

  private async run(): Promise<void> {
    for (let item = this.queue[0]; item !== undefined && !this.closing.signal.aborted; item = this.queue[0]) {
      // The first await comes before any network call, so enqueue never starts one itself.
      const onDisk = await item.written;
      const body = await this.loadBody(item);
      if (body === null) continue;
      const sha256 = createHash('sha256').update(body).digest('hex');
      if (!(await this.putWithRetry(item, body))) return;
      if (onDisk) {
        await rm(item.path, { force: true }).catch((error: unknown) => this.logger.warn('could not delete uploaded spill file', { path: item.path, error }));
      }
      this.settle(item);
      this.uploadedCount += 1;
      this.uploadedList.push({
        index: item.index,
        key: item.key,
        bytes: body.length,
        sha256,
        packets: item.packets,
        firstReceivedAtMs: item.firstReceivedAtMs,
        lastReceivedAtMs: item.lastReceivedAtMs,
        recovered: item.recovered,
      });
    }
  }

  /** The body to upload, or null when the item was settled (unreadable or corrupt file). */
  private async loadBody(item: QueuedSegment): Promise<Buffer | null> {
    let body = item.body;
    if (body === null) {
      try {
        body = await readFile(item.path);
      } catch (error) {
        this.logger.error('spilled segment unreadable', { segmentIndex: item.index, path: item.path, error });
        this.settle(item);
        this.recordGap({ ...item, bytes: item.sizeBytes, reason: 'spill_unreadable' });
        return null;
      }
    }
    if (!item.recovered) return body;
    try {
      const decoded = decodeSegment(body);
      item.index = decoded.header.segmentIndex;
      item.key = this.options.key(item.index);
      item.packets = decoded.records.length;
      for (const { receivedAtMs } of decoded.records) {
        if (!(receivedAtMs >= item.firstReceivedAtMs)) item.firstReceivedAtMs = receivedAtMs;
        if (!(receivedAtMs <= item.lastReceivedAtMs)) item.lastReceivedAtMs = receivedAtMs;
      }
      return body;
    } catch (error) {
      // Not a segment we can name (index unknown): keep it aside for a human, do not retry it.
      this.corruptCount += 1;
      this.logger.error('spilled file is not a readable segment; quarantined', { path: item.path, error });
      await rename(item.path, `${item.path}${CORRUPT_SUFFIX}`).catch(() => undefined);
      this.settle(item);
      return null;
    }
  }

  /** Retries until stored; false only when closing. */
  private async putWithRetry(item: QueuedSegment, body: Buffer): Promise<boolean> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.closing.signal.aborted) return false;
      try {
        const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.options.attemptTimeoutMs ?? 60_000)]);
        await this.options.put(item.key, body, signal);
        return true;
      } catch (error) {
        if (this.closing.signal.aborted) return false;
        this.failureCount += 1;
        const delayMs = this.backoffMs(attempt);
        this.logger.warn('segment upload failed; retrying', { segmentIndex: item.index, key: item.key, attempt, delayMs, status: httpStatus(error), error });
        try {
          await this.sleep(delayMs, this.closing.signal);
        } catch {
          return false;
        }
      }
    }
  }

  private settle(item: QueuedSegment): void {
    if (this.queue[0] === item) this.queue.shift();
    else this.queue.splice(this.queue.indexOf(item), 1);
    this.pendingBytes -= item.sizeBytes;
  }

  private recordGap(gap: SegmentGap): void {
    const { index, bytes, packets, firstReceivedAtMs, lastReceivedAtMs, reason } = gap;
    const clean: SegmentGap = { index, bytes, packets, firstReceivedAtMs, lastReceivedAtMs, reason };
    this.gapList.push(clean);
    this.logger.error('segment dropped', { ...clean, spillBytes: this.pendingBytes, spillLimitBytes: this.spillLimitBytes });
    try {
      this.options.onGap?.(clean);
    } catch (error) {
      this.logger.error('onGap callback threw', { segmentIndex: index, error });
    }
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && !this.recovering;
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
