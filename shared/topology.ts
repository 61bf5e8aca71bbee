/**
 * Which integration event goes to which consumer, as data.
 *
 * Two engines read this table: the CDK app turns each route into an EventBridge rule with
 * an SQS or Lambda target (and each task route into a rule with an ECS RunTask target), and
 * the local runtime dispatches its in-process bus from it.
 */
import { EVENT_SOURCE, INTEGRATION_EVENT_TYPES, type IntegrationEventType } from './integration/event-types.ts';
import type { EventPattern } from './integration/event-pattern.ts';

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
  /**
   * Every integration event, for the webhook dispatcher: fan-out to the subscribed endpoints
   * and the recording's own `webhook_url`, with the first attempt inline (15 s budget each,
   * in parallel; 6x the function's 30 s timeout).
   */
  webhookEvents: { name: 'webhook-events', visibilityTimeoutSeconds: 180, maxReceiveCount: 5 },
  /**
   * Webhook retries: one message per due attempt, delayed in hops of at most 15 min until the
   * attempt is due. A delivery out of attempts is sent to this queue's dead-letter queue by
   * the dispatcher itself (and a message that keeps failing lands there by redrive).
   */
  webhookRetries: { name: 'webhook-retries', visibilityTimeoutSeconds: 180, maxReceiveCount: 5 },
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
    description: 'a deleted recording has its media removed from the bucket; metadata stays (again after a composition that was rendering at the time fails)',
    eventTypes: ['recording.deleted', 'composition.failed'],
    queue: 'mediaCleanup',
  },
  {
    name: 'webhook-dispatch',
    description: 'every integration event goes to the webhook dispatcher (subscriptions and recording webhook_urls)',
    eventTypes: INTEGRATION_EVENT_TYPES,
    queue: 'webhookEvents',
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

/*
 * Tasks: one-off containers started per event (ECS RunTask on Fargate in the cloud, a child
 * process locally), beside the queue routes above. A task route is an EventBridge rule as
 * data: its event pattern in EventBridge's own JSON syntax (shared/integration/event-pattern.ts
 * evaluates it locally; CDK passes it to EventBridge) and the container environment taken
 * from the matching event by input paths.
 */

/** One-off task kinds. `command` runs from the repository root (the image's WORKDIR). */
export const TASKS = {
  compositor: {
    /** Fargate size: 2 vCPU, 4 GiB (x264 at `veryfast` is CPU-bound; chunks run in parallel). */
    cpu: 2048,
    memoryMiB: 4096,
    /** Scratch for downloaded tracks and rendered outputs (Fargate gives 20 GiB by default). */
    ephemeralStorageGiB: 50,
    /** The job's entry; `node` is the runtime's own Node binary locally. */
    command: ['node', '--import', 'tsx', 'recorder-task/compositor/main.ts'],
  },
} as const;

export type TaskKey = keyof typeof TASKS;

/**
 * Values only known when an engine builds the rules (deploy time in CDK, boot time locally).
 * A pattern names one as a whole-string placeholder; `bindPattern` fills it in.
 */
export const PATTERN_PARAMS = {
  /** The media bucket's name (the CDK token, or CAPSTAN_BUCKET locally). */
  mediaBucket: '{{capstan:media-bucket}}',
} as const;
export type PatternBindings = { readonly [K in keyof typeof PATTERN_PARAMS]: string };

/** `default`: AWS service events (S3 sends there). `capstan`: our integration-event bus. */
export type TaskBus = 'default' | 'capstan';

export interface TaskRoute {
  /** Stable name: the rule id in CDK, the route name in local logs. */
  readonly name: string;
  readonly description: string;
  readonly bus: TaskBus;
  readonly task: TaskKey;
  /** EventBridge pattern JSON (keys as EventBridge spells them: `detail-type`). */
  readonly eventPattern: EventPattern;
  /** Container environment: `{ ENV_NAME: '$.json.path' }` into the matched event. */
  readonly env: Readonly<Record<string, string>>;
}

export const TASK_ROUTES: readonly TaskRoute[] = [
  {
    name: 'compositor-on-manifest',
    description: 'a recorder wrote a recording\'s manifest.json: compose the recording',
    bus: 'default',
    task: 'compositor',
    eventPattern: {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [PATTERN_PARAMS.mediaBucket] },
        object: { key: [{ suffix: 'manifest.json' }] },
      },
    },
    env: {
      CAPSTAN_COMPOSITOR_BUCKET: '$.detail.bucket.name',
      CAPSTAN_COMPOSITOR_MANIFEST_KEY: '$.detail.object.key',
    },
  },
  {
    name: 'compositor-on-request',
    description: 'a composition was requested through the API: render it',
    bus: 'capstan',
    task: 'compositor',
    eventPattern: {
      source: [EVENT_SOURCE],
      'detail-type': ['composition.requested' satisfies IntegrationEventType],
      // The manifest job announces the initial composition it has already taken as
      // composition.requested with trigger "manifest": starting a task for that would only
      // find the composition held and exit.
      detail: { data: { trigger: ['api'] } },
    },
    env: {
      CAPSTAN_COMPOSITOR_RECORDING_ID: '$.detail.recording_id',
      CAPSTAN_COMPOSITOR_COMPOSITION_ID: '$.detail.data.composition_id',
    },
  },
];

const PLACEHOLDERS = new Map(Object.entries(PATTERN_PARAMS).map(([key, placeholder]) => [placeholder, key as keyof PatternBindings]));

/**
 * The pattern with every placeholder replaced by its binding. Throws on a string that looks
 * like a placeholder but is not one, so a typo cannot become a literal match on `{{…}}`.
 */
export function bindPattern(pattern: EventPattern, bindings: PatternBindings): EventPattern {
  const bind = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const key = PLACEHOLDERS.get(value as (typeof PATTERN_PARAMS)[keyof typeof PATTERN_PARAMS]);
      if (key !== undefined) return bindings[key];
      if (/^\{\{.*\}\}$/.test(value)) throw new Error(`unknown pattern placeholder ${value}`);
      return value;
    }
    if (Array.isArray(value)) return value.map(bind);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bind(v)]));
    return value;
  };
  return bind(pattern) as EventPattern;
}

/** Every environment variable any route of a task sets (cleared before a job's own are applied). */
export function taskTriggerEnvNames(task: TaskKey, routes: readonly TaskRoute[] = TASK_ROUTES): string[] {
  return [...new Set(routes.filter((route) => route.task === task).flatMap((route) => Object.keys(route.env)))];
}
