/**
 * Finalization on a worker thread. Depacketizing and writing containers is CPU work; on the
 * main thread it would stall the UDP loops of every other live recording. The worker builds
 * its own adapters from the config it is handed and runs the same `finalizeRecording`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../shared/logger.ts';
import { foldRecording } from '../../shared/recording/view.ts';
import { buildAdapters } from '../../shared/wiring.ts';
import type { RecorderConfig } from '../config.ts';
import { finalizeRecording } from './finalize.ts';

export interface FinalizeJob {
  readonly config: RecorderConfig;
  readonly recordingId: string;
  readonly stopReason: string;
  readonly recovered: boolean;
  readonly counters: Record<string, number>;
}

const job = workerData as FinalizeJob;
const { config } = job;
const adapters = buildAdapters(config);
const logger = createLogger(config.CAPSTAN_LOG_LEVEL, { service: 'capstan-recorder', thread: 'finalize', recordingId: job.recordingId });

try {
  const stored = await adapters.store.readStream(job.recordingId);
  const view = foldRecording(stored);
  if (view === null) throw new Error(`recording ${job.recordingId} has no events`);
  const manifest = await finalizeRecording(
    { s3: adapters.s3, bucket: config.CAPSTAN_BUCKET, service: adapters.service, workDir: config.CAPSTAN_RECORDER_WORK_DIR, recorderId: config.CAPSTAN_RECORDER_ID, logger },
    { view, stopReason: job.stopReason, recovered: job.recovered, counters: job.counters },
    stored,
  );
  parentPort!.postMessage({ ok: true, segments: manifest.segments.length, truncatedBytes: manifest.segments.reduce((n, s) => n + s.truncated_bytes, 0) });
} catch (error) {
  parentPort!.postMessage({ ok: false, name: (error as Error).name, message: (error as Error).message });
}
