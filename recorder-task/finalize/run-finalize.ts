/** Runs finalization on a worker thread and resolves with its outcome (see finalize-worker.ts). */
import { Worker } from 'node:worker_threads';
import type { FinalizeJob } from './finalize-worker.ts';

export class FinalizeFailedError extends Error {
  constructor(readonly recordingId: string, message: string) {
    super(`finalizing ${recordingId} failed: ${message}`);
    this.name = 'FinalizeFailedError';
  }
}

export function finalizeOnWorker(job: FinalizeJob): Promise<{ segments: number; truncatedBytes: number }> {
  return new Promise((resolve, reject) => {
    // The entry registers tsx in the worker thread, then loads finalize-worker.ts.
    const worker = new Worker(new URL('./finalize-worker-entry.mjs', import.meta.url), { workerData: job });
    let settled = false;
    worker.once('message', (message: { ok: true; segments: number; truncatedBytes: number } | { ok: false; name: string; message: string }) => {
      settled = true;
      if (message.ok) resolve({ segments: message.segments, truncatedBytes: message.truncatedBytes });
      else reject(new FinalizeFailedError(job.recordingId, `${message.name}: ${message.message}`));
    });
    worker.once('error', (error) => {
      if (!settled) reject(new FinalizeFailedError(job.recordingId, error.message));
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new FinalizeFailedError(job.recordingId, `worker exited with ${code}`));
    });
  });
}
