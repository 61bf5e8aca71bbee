/**
 * Startup reconciliation for the local runtime. Its SQS (local-aws-sqs) and its task routes
 * live in memory, so a stop (or a crash) loses the work they carried; the tables and the
 * bucket, on disk, still say what was left undone. At startup this puts that work back, the
 * way the cloud's durable queues would have delivered it:
 * - an rtp recording still `requested`/`scheduled` gets its recorder job again;
 * - an rtp recording the recorder had claimed (`starting` … `stopping`) gets its job again: the
 *   recorder finds it claimed and unattended and recovers it from S3, as after a lease lapse;
 * - an rtp recording in `processing` with a manifest and its initial composition not
 *   completed gets the manifest's "Object Created" event again, which starts its compositor
 *   job (a job still holding the composition's lease is skipped by the job itself).
 * Every consumer already handles a duplicate, so a job that was not lost costs one no-op.
 * Webhook retries are requeued by the dispatcher (`requeuePending`).
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventStore } from '../shared/eventstore/port.ts';
import { toIntegrationEvent, type IntegrationEvent } from '../shared/integration/integration-event.ts';
import { s3ObjectCreatedEvent, type S3ObjectCreatedEvent } from '../shared/integration/s3-object-created.ts';
import type { Logger } from '../shared/logger.ts';
import type { RecordingStatus } from '../shared/recording/model.ts';
import type { RecordingView } from '../shared/recording/view.ts';

/** States in which a recorder job is still owed: not yet claimed, or claimed and capturing. */
const RECORDER_OWED: readonly RecordingStatus[] = ['requested', 'scheduled', 'starting', 'recording', 'paused', 'stopping'];

export interface ReconcileDeps {
  readonly docs: DynamoDBDocumentClient;
  readonly recordingsTable: string;
  readonly store: EventStore;
  /** Sends events to the recorder-jobs queue only (LocalEventRouter.resend). */
  readonly recorderJobs: (events: readonly IntegrationEvent[]) => Promise<void>;
  /** Dispatches an S3 event on the default bus (the compositor's task route). */
  readonly objectCreated: (event: S3ObjectCreatedEvent) => void;
  readonly bucket: string;
  readonly account: string;
  readonly region: string;
  readonly logger: Logger;
}

export interface ReconcileResult {
  readonly recorderJobs: number;
  readonly compositions: number;
}

/** Every rtp recording view not finished (the read model, scanned: local tables are small). */
async function unfinishedRtpRecordings(deps: ReconcileDeps): Promise<RecordingView[]> {
  const views: RecordingView[] = [];
  const owed = [...RECORDER_OWED, 'processing'];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.docs.send(
      new ScanCommand({
        TableName: deps.recordingsTable,
        FilterExpression: `#status IN (${owed.map((_, i) => `:s${i}`).join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: Object.fromEntries(owed.map((s, i) => [`:s${i}`, s])),
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      const view = (item as { view: RecordingView }).view;
      if (view.source.type === 'rtp') views.push(view);
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return views;
}

/** The initial composition has not completed (or not even been requested). */
function awaitsComposition(view: RecordingView): boolean {
  const initial = view.compositions.find((c) => c.initial);
  return initial === undefined || (initial.status !== 'completed' && initial.status !== 'failed');
}

export async function reconcileLocalWork(deps: ReconcileDeps): Promise<ReconcileResult> {
  let recorderJobs = 0;
  let compositions = 0;
  for (const view of await unfinishedRtpRecordings(deps)) {
    if (RECORDER_OWED.includes(view.status)) {
      const [requested] = await deps.store.readStream(view.id, { limit: 1 });
      const event = requested === undefined ? null : toIntegrationEvent(requested, view);
      if (event === null || event.type !== 'recording.requested') continue;
      await deps.recorderJobs([event]);
      recorderJobs++;
    } else if (view.status === 'processing' && view.manifest !== null && awaitsComposition(view)) {
      deps.objectCreated(
        s3ObjectCreatedEvent(
          {
            bucket: deps.bucket,
            key: view.manifest.key,
            size: view.manifest.bytes,
            etag: '',
            sequencer: '0',
            requestId: `reconcile-${randomUUID()}`,
            sourceIpAddress: '127.0.0.1',
            reason: 'PutObject',
            time: new Date(),
          },
          { account: deps.account, region: deps.region },
        ),
      );
      compositions++;
    }
  }
  if (recorderJobs + compositions > 0) deps.logger.info('work lost with the last run is back on its queues', { recorderJobs, compositions });
  return { recorderJobs, compositions };
}
