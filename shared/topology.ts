/**
 * Which integration event goes to which consumer, as data.
 *
 * Two engines read this table: the CDK app turns each route into an EventBridge rule with
 * an SQS or Lambda target, and the local runtime dispatches its in-process bus from it.
 */
import type { IntegrationEventType } from './integration/event-types.ts';

/** Work queues. Every queue has a dead-letter queue after `maxReceiveCount` receives. */
export const QUEUES = {
  /**
   * A claimed job stays in flight while its recording runs: the recorder renews the message's
   * visibility (its lease) every third of the timeout, and if the recorder dies the job
   * reappears and the next recorder recovers the recording from S3. Real SQS does not count
   * renewals as receives, but local-aws-sqs does, so the redrive count is SQS's maximum.
   */
  recorderJobs: { name: 'recorder-jobs', visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 },
  mediaCleanup: { name: 'media-cleanup', visibilityTimeoutSeconds: 120, maxReceiveCount: 5 },
} as const;

export type QueueKey = keyof typeof QUEUES;

export interface Route {
  /** Stable name: becomes the rule id in CDK and the subscriber name locally. */
  readonly name: string;
  readonly description: string;
  readonly eventTypes: readonly IntegrationEventType[];
  /** Optional match on `detail.source_type` (the recording's source). */
  readonly sourceTypes?: readonly ('rtp' | 'bot' | 'stream')[];
  readonly queue: QueueKey;
}

export const ROUTES: readonly Route[] = [
  {
    name: 'recorder-claims-ingest',
    description: 'rtp recordings wait for a recorder task to claim them (stream ingest joins when it exists)',
    eventTypes: ['recording.requested'],
    sourceTypes: ['rtp'],
    queue: 'recorderJobs',
  },
  {
    name: 'media-cleanup-on-delete',
    description: 'a deleted recording has its media removed from the bucket; metadata stays',
    eventTypes: ['recording.deleted'],
    queue: 'mediaCleanup',
  },
];

/** Routes whose pattern matches an event: the one matching rule, shared by both engines. */
export function routesFor(
  type: IntegrationEventType,
  sourceType: string | undefined,
  routes: readonly Route[] = ROUTES,
): Route[] {
  return routes.filter(
    (route) =>
      route.eventTypes.includes(type) &&
      (route.sourceTypes === undefined ||
        (sourceType !== undefined && (route.sourceTypes as readonly string[]).includes(sourceType))),
  );
}
