/**
 * Takes recording jobs from the `recorder-jobs` queue. A job stays in flight while its
 * recording runs: the message's visibility is the recorder's lease, renewed every third of
 * the timeout. If a recorder dies, the lease runs out, the job reappears, and whoever
 * receives it finds the recording claimed but unattended and recovers it from S3.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeEnvelopeSchema } from '../shared/integration/envelope.ts';
import type { Logger } from '../shared/logger.ts';
import { foldRecording } from '../shared/recording/view.ts';
import type { RecorderConfig } from './config.ts';
import { segmentKey } from './finalize/finalize.ts';
import { finalizeOnWorker } from './finalize/run-finalize.ts';
import { s3PutSegment, SegmentUploader } from './segments/uploader.ts';
import { PortAllocator, PortRangeExhaustedError } from './ingest/ports.ts';
import { RecordingSession, spillDirOf, type SessionDeps, type StopReason } from './session.ts';

const CLAIMED = new Set(['starting', 'recording', 'paused', 'stopping']);

export class RecorderWorker {
  readonly sessions = new Map<string, RecordingSession>();
  readonly counters = { jobs: 0, recovered: 0, jobErrors: 0 };
  private readonly ports: PortAllocator;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly handlers = new Set<Promise<void>>();
  private draining = false;
  /** Recordings being captured or recovered right now. */
  private active = 0;

  constructor(
    private readonly deps: SessionDeps & {
      sqs: SQSClient;
      queueUrl: string;
      /** Told the number of recordings held whenever it changes (task scale-in protection follows it). */
      onActiveChange?: (active: number) => void;
    },
    private readonly config: RecorderConfig = deps.config,
  ) {
    const [first, last] = config.CAPSTAN_RECORDER_PORT_RANGE;
    this.ports = new PortAllocator(first, last);
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const page = await this.deps.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.deps.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: this.config.CAPSTAN_RECORDER_LEASE_SECONDS }),
          { abortSignal: this.abort.signal },
        );
        for (const message of page.Messages ?? []) {
          const handler = this.handle(message);
          this.handlers.add(handler);
          void handler.finally(() => this.handlers.delete(handler));
        }
      } catch (error) {
        if (this.abort.signal.aborted) break;
        this.deps.logger.warn('job poll failed', { error });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async handle(message: Message): Promise<void> {
    this.counters.jobs++;
    const lease = this.holdLease(message);
    try {
      const envelope = EventBridgeEnvelopeSchema.safeParse(JSON.parse(message.Body ?? '{}'));
      if (!envelope.success || envelope.data.detail.type !== 'recording.requested' || envelope.data.detail.source_type !== 'rtp') {
        this.deps.logger.warn('job ignored: not an rtp recording request', { messageId: message.MessageId });
        return await this.done(message);
      }
      const { recording_id: recordingId, tenant_id: tenantId } = envelope.data.detail;
      const view = foldRecording(await this.deps.store.readStream(recordingId));
      if (view === null) return await this.done(message);
      const live = this.sessions.get(recordingId);
      if (live !== undefined) {
        // Our own job again (a renewal was missed): hold this copy's lease too until the
        // session ends, so a crash from here on is still recovered.
        await live.ended.catch(() => undefined);
        return await this.done(message);
      }
      if (view.status === 'requested' || view.status === 'scheduled') {
        const port = this.ports.allocate();
        try {
          await this.holding(async () => {
            const session = await RecordingSession.start(this.deps, recordingId, tenantId, port);
            this.sessions.set(recordingId, session);
            await session.ended;
          });
        } finally {
          this.sessions.delete(recordingId);
          this.ports.release(port);
        }
      } else if (CLAIMED.has(view.status)) {
        await this.holding(() => this.recover(recordingId, tenantId, view.recorder_id ?? 'unknown'));
      }
      await this.done(message);
    } catch (error) {
      this.counters.jobErrors++;
      // Leave the message: it reappears after the lease and is tried again (or dead-lettered).
      this.deps.logger.error('job failed; it will be retried after its lease', { messageId: message.MessageId, error, portsExhausted: error instanceof PortRangeExhaustedError });
    } finally {
      lease.release();
    }
  }

  private async holding(work: () => Promise<void>): Promise<void> {
    this.deps.onActiveChange?.(++this.active);
    try {
      await work();
    } finally {
      this.deps.onActiveChange?.(--this.active);
    }
  }

  /** The previous recorder's lease ran out: finalize from what reached S3 and say so in events. */
  private async recover(recordingId: string, tenantId: string, previous: string): Promise<void> {
    const log = this.deps.logger.child({ recordingId });
    log.warn('recovering a recording whose recorder stopped renewing its lease', { previousRecorder: previous });
    await this.deps.service.system(recordingId, tenantId, (now) => ({ type: 'InterruptRecording', metadata: { now }, data: { recorder_id: previous, reason: 'lease_expired' } }));
    const stored = await this.deps.store.readStream(recordingId);
    // Segments the dead recorder sealed but had not uploaded are still in its spill directory
    // when we share its disk (a restart on the same host): upload them before finalizing.
    const leftover = new SegmentUploader({
      put: s3PutSegment(this.deps.s3, this.config.CAPSTAN_BUCKET),
      key: (index) => segmentKey(foldRecording(stored)!, index),
      spillDir: spillDirOf(this.config, recordingId),
      logger: log,
    });
    const drained = await leftover.drain(this.config.CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS * 1000);
    await leftover.close();
    if (!drained.drained) log.error('spilled segments could not be uploaded before recovery', { pendingUploads: drained.pendingUploads });
    // RecoverRecording is appended by finalization itself, before RecordingStopped, so a crash
    // between the two leaves a recording that the next recorder recovers again.
    await finalizeOnWorker({ config: this.config, recordingId, stopReason: 'recovered', recovered: true, counters: {} });
    this.counters.recovered++;
  }

  private holdLease(message: Message) {
    const renewMs = (this.config.CAPSTAN_RECORDER_LEASE_SECONDS * 1000) / 3;
    const timer = setInterval(() => {
      void this.deps.sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: this.deps.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: this.config.CAPSTAN_RECORDER_LEASE_SECONDS }))
        .catch((error: unknown) => this.deps.logger.warn('lease renewal failed', { error }));
    }, renewMs);
    return { release: () => clearInterval(timer) };
  }

  private async done(message: Message): Promise<void> {
    await this.deps.sqs.send(new DeleteMessageCommand({ QueueUrl: this.deps.queueUrl, ReceiptHandle: message.ReceiptHandle }));
  }

  /** Graceful: stop taking jobs, finish and upload every open recording. */
  async shutdown(reason: StopReason = 'shutdown'): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.sessions.values()].map((s) => s.stop(reason)));
    // The job handlers delete their messages after their sessions end: let them.
    await Promise.allSettled([...this.handlers]);
  }

  /** Hard: stop taking jobs and let in-flight leases lapse; a later recorder recovers them. */
  abortNow(): void {
    this.abort.abort();
  }

  get portsInUse(): number {
    return this.ports.allocated;
  }
}
