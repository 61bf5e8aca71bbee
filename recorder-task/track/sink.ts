/**
 * Where container writers put bytes. Writers stay synchronous and know nothing of storage
 * (pion's media writers take an io.Writer the same way); the file sink below batches chunks and
 * writes them with async I/O, so finalizing a long track never blocks the event loop that also
 * serves the UDP sockets of live recordings.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteSink {
  write(chunk: Uint8Array): void;
}

/** Collects everything in memory: for tests and small headers. */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];

  write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Bytes held before `drain()` writes them out: a few hundred frames of video. */
const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;

export class FileSink implements ByteSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly highWaterBytes: number,
  ) {}

  static async create(path: string, highWaterBytes = DEFAULT_HIGH_WATER_BYTES): Promise<FileSink> {
    return new FileSink(await open(path, 'w'), highWaterBytes);
  }

  write(chunk: Uint8Array): void {
    if (this.closed) throw new Error('write after close');
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
  }

  /** Writes buffered bytes once past the high-water mark; call it between frames. */
  async drain(): Promise<void> {
    if (this.pendingBytes >= this.highWaterBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.writev(chunks);
  }

  /** Flushes and closes; a second call does nothing (close is idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}
