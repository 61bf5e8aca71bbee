/**
 * The local stand-in for EventBridge rules with an ECS RunTask target: `TaskDispatcher`
 * matches events against the task routes of `shared/topology.ts` (the table CDK turns into
 * those rules) and hands each match, with the container environment the route maps from
 * the event, to the `TaskRunner` of its task, which runs it as a child process.
 *
 * - Bounded: at most `concurrency` children at once; the rest wait in a FIFO queue
 *   (in memory: queued jobs are lost when the runtime stops, as SQS messages are locally).
 * - Each child is the leader of its own process group, so stopping the runtime stops the
 *   job and whatever it started (ffmpeg): SIGTERM to the group, SIGKILL after a grace.
 * - Logs: one structured line when a job has to wait, when it starts and when it ends (exit
 *   code or signal, duration, stderr tail on failure); the child's own output (its JSON log
 *   lines) passes through. Exit codes are counted in `stats`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LocalConfig } from '../shared/config.ts';
import { assertSupportedPattern, environmentFrom, matchesPattern, type EventPattern } from '../shared/integration/event-pattern.ts';
import { reasonForEventName, s3ObjectCreatedEvent, type S3ObjectCreatedEvent } from '../shared/integration/s3-object-created.ts';
import type { Logger } from '../shared/logger.ts';
import { bindPattern, TASK_ROUTES, type PatternBindings, type TaskBus, type TaskKey, type TaskRoute } from '../shared/topology.ts';
import type { S3ObjectNotification, S3Server } from './servers/s3-sqs.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface TaskJob {
  /** Unique per (event, route): `<route>:<event id>`. */
  readonly id: string;
  readonly route: string;
  /** The route's environment, from the event. */
  readonly env: Readonly<Record<string, string>>;
}

export interface TaskResult {
  readonly job: TaskJob;
  readonly pid: number | undefined;
  /** Exit code; null when a signal ended it or it never started. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the command could not be started (ENOENT, EACCES, …). */
  readonly spawnError?: string;
  readonly waitedMs: number;
  readonly durationMs: number;
}

export interface TaskRunnerOptions {
  /** The task's name in logs (`compositor`). */
  readonly task: string;
  /** argv; a leading `node` becomes this process's Node binary. Relative paths resolve from `cwd`. */
  readonly command: readonly string[];
  readonly cwd?: string;
  /** Added to the inherited environment (resource names, endpoints). */
  readonly env?: Readonly<Record<string, string>>;
  /** Inherited variables to drop first (another trigger's variables must not leak into a job). */
  readonly clearEnv?: readonly string[];
  readonly concurrency: number;
  readonly logger: Logger;
  /** Where the child's stdout and stderr lines go (default: this process's stdout and stderr). */
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
}

interface Running {
  readonly job: TaskJob;
  readonly child: ChildProcess;
  readonly done: Promise<void>;
}

const STDERR_TAIL_LINES = 20;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already (ESRCH); the leader alone may still be reaped.
    child.kill(signal);
  }
}

export class TaskRunner {
  readonly stats = {
    submitted: 0,
    started: 0,
    succeeded: 0,
    failed: 0,
    /** Dropped from the queue at stop, never started. */
    dropped: 0,
    queued: 0,
    running: 0,
    maxRunning: 0,
    /** `"0"`, `"1"`, …, `"SIGTERM"`, `"spawn-error"` → count. */
    exits: {} as Record<string, number>,
  };
  private readonly queue: { job: TaskJob; at: number }[] = [];
  private readonly running = new Set<Running>();
  private readonly listeners = new Set<(result: TaskResult) => void>();
  private idleWaiters: (() => void)[] = [];
  private stopping = false;
  private readonly file: string;
  private readonly args: string[];

  constructor(private readonly options: TaskRunnerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error(`concurrency must be a positive integer, not ${options.concurrency}`);
    const [first, ...rest] = options.command;
    if (first === undefined) throw new Error(`task ${options.task} has an empty command`);
    this.file = first === 'node' ? process.execPath : first;
    this.args = rest;
  }

  /** Every finished job (tests, dev tooling). */
  onExit(listener: (result: TaskResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  submit(job: TaskJob): void {
    if (this.stopping) {
      this.options.logger.warn('task refused: runner stopping', { task: this.options.task, jobId: job.id, route: job.route });
      this.stats.dropped++;
      return;
    }
    this.stats.submitted++;
    this.queue.push({ job, at: performance.now() });
    this.stats.queued = this.queue.length;
    if (this.running.size >= this.options.concurrency) {
      this.options.logger.info('task queued', { task: this.options.task, jobId: job.id, route: job.route, queued: this.queue.length, running: this.running.size });
    }
    this.pump();
  }

  /** Resolves once nothing runs and nothing waits. */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drop the queue, then SIGTERM every job's process group; SIGKILL what is left after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const dropped = this.queue.splice(0);
    this.stats.dropped += dropped.length;
    this.stats.queued = 0;
    if (dropped.length > 0) this.options.logger.warn('queued tasks dropped at shutdown', { task: this.options.task, jobs: dropped.map((d) => d.job.id) });
    const running = [...this.running];
    if (running.length === 0) return this.settleIdle();
    this.options.logger.info('stopping running tasks', { task: this.options.task, jobs: running.map((r) => r.job.id) });
    for (const { child } of running) signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => {
      for (const { child } of running) signalGroup(child, 'SIGKILL');
    }, graceMs);
    await Promise.all(running.map((r) => r.done));
    clearTimeout(timer);
  }

  private settleIdle(): void {
    if (this.queue.length > 0 || this.running.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.options.concurrency) {
      const next = this.queue.shift();
      if (next === undefined) break;
      this.stats.queued = this.queue.length;
      this.start(next.job, performance.now() - next.at);
    }
  }

  private environment(job: TaskJob): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of this.options.clearEnv ?? []) delete env[name];
    return { ...env, ...this.options.env, ...job.env };
  }

  private start(job: TaskJob, waitedMs: number): void {
    const { logger, task } = this.options;
    const startedAt = performance.now();
    const child = spawn(this.file, this.args, {
      cwd: this.options.cwd ?? REPO_ROOT,
      env: this.environment(job),
      // Its own process group: one signal reaches the job and its children; a Ctrl-C in
      // the terminal reaches only the runtime, which then stops the group itself.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = this.options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
    const stderr = this.options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
    const tail: string[] = [];
    if (child.stdout) createInterface({ input: child.stdout }).on('line', stdout);
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        tail.push(line);
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
        stderr(line);
      });
    }

    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const entry: Running = { job, child, done };
    this.running.add(entry);
    this.stats.running = this.running.size;
    this.stats.maxRunning = Math.max(this.stats.maxRunning, this.running.size);
    let spawnError: string | undefined;
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      this.running.delete(entry);
      this.stats.running = this.running.size;
      const durationMs = Math.round(performance.now() - startedAt);
      const key = spawnError !== undefined ? 'spawn-error' : (signal ?? String(code));
      this.stats.exits[key] = (this.stats.exits[key] ?? 0) + 1;
      const ok = spawnError === undefined && code === 0;
      if (ok) this.stats.succeeded++;
      else this.stats.failed++;
      const fields = { task, jobId: job.id, route: job.route, pid: child.pid, code, signal, durationMs };
      if (ok) logger.info('task exited', fields);
      else logger.error('task failed', { ...fields, ...(spawnError ? { spawnError } : {}), stderrTail: tail.join('\n').slice(-2000) });
      const result: TaskResult = { job, pid: child.pid, code, signal, ...(spawnError ? { spawnError } : {}), waitedMs: Math.round(waitedMs), durationMs };
      for (const listener of this.listeners) listener(result);
      finish();
      this.pump();
      this.settleIdle();
    };
    child.on('error', (error) => {
      // Spawn failures arrive here (and may be followed by no 'close'); errors after a
      // successful spawn (a failed kill) are followed by 'close' as usual.
      if (child.pid === undefined) {
        spawnError = error.message;
        settle(null, null);
      }
    });
    // 'exit' ends the job: as when a Fargate task's essential container exits, nothing it
    // started outlives it (the group is killed). 'close' follows once its output is drained;
    // a process that left the group could hold the pipes open, hence the fallback.
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // no process left in the group
        }
      }
      setTimeout(() => settle(code, signal), 2000).unref();
    });
    child.once('close', (code, signal) => settle(exited?.code ?? code, exited?.signal ?? signal));
    if (child.pid !== undefined) {
      this.stats.started++;
      logger.info('task started', { task, jobId: job.id, route: job.route, pid: child.pid, waitedMs: Math.round(waitedMs), running: this.running.size });
    }
  }
}

/** Anything that takes jobs: a TaskRunner, or a recorder in tests. */
export interface TaskSink {
  submit(job: TaskJob): void;
}

export interface TaskDispatcherOptions {
  readonly routes?: readonly TaskRoute[];
  readonly bindings: PatternBindings;
  /** Runners by task; a task without one (disabled) is not dispatched. */
  readonly runners: Partial<Record<TaskKey, TaskSink>>;
  readonly logger: Logger;
}

interface BoundRoute {
  readonly route: TaskRoute;
  readonly pattern: EventPattern;
  readonly sink: TaskSink;
}

/** Evaluates the task routes of one engine against each event put on a bus. */
export class TaskDispatcher {
  readonly stats = { events: 0, matched: 0, submitted: 0, invalid: 0 };
  private readonly bound: BoundRoute[];

  constructor(private readonly options: TaskDispatcherOptions) {
    this.bound = [];
    for (const route of options.routes ?? TASK_ROUTES) {
      const sink = options.runners[route.task];
      if (sink === undefined) continue;
      const pattern = bindPattern(route.eventPattern, options.bindings);
      assertSupportedPattern(pattern);
      this.bound.push({ route, pattern, sink });
    }
  }

  /** Names of the routes the event matched (each submitted one job). Never throws for an event. */
  dispatch(bus: TaskBus, event: unknown): string[] {
    this.stats.events++;
    const matched: string[] = [];
    const id = typeof event === 'object' && event !== null && typeof (event as { id?: unknown }).id === 'string' ? (event as { id: string }).id : 'unknown';
    for (const { route, pattern, sink } of this.bound) {
      if (route.bus !== bus || !matchesPattern(pattern, event)) continue;
      this.stats.matched++;
      matched.push(route.name);
      const { env, missing } = environmentFrom(route.env, event);
      if (missing.length > 0) {
        // EventBridge would start the task with an empty value, which the job refuses; say it here instead.
        this.stats.invalid++;
        this.options.logger.error('task route matched an event without its input paths: not started', { route: route.name, eventId: id, missing });
        continue;
      }
      sink.submit({ id: `${route.name}:${id}`, route: route.name, env });
      this.stats.submitted++;
    }
    return matched;
  }
}

/**
 * What a local job needs besides its trigger, as the task definition gives it in the cloud:
 * resource names and the local endpoints. The rest is inherited from the runtime.
 */
export function taskEnvironment(config: LocalConfig, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: config.AWS_REGION,
    CAPSTAN_EVENTS_TABLE: config.CAPSTAN_EVENTS_TABLE,
    CAPSTAN_RECORDINGS_TABLE: config.CAPSTAN_RECORDINGS_TABLE,
    CAPSTAN_API_KEYS_TABLE: config.CAPSTAN_API_KEYS_TABLE,
    CAPSTAN_IDEMPOTENCY_TABLE: config.CAPSTAN_IDEMPOTENCY_TABLE,
    CAPSTAN_FEED_TABLE: config.CAPSTAN_FEED_TABLE,
    CAPSTAN_WEBHOOKS_TABLE: config.CAPSTAN_WEBHOOKS_TABLE,
    CAPSTAN_DELIVERIES_TABLE: config.CAPSTAN_DELIVERIES_TABLE,
    CAPSTAN_BUCKET: config.CAPSTAN_BUCKET,
    CAPSTAN_EVENT_BUS_NAME: config.CAPSTAN_EVENT_BUS_NAME,
    CAPSTAN_LOG_LEVEL: config.CAPSTAN_LOG_LEVEL,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
  if (config.CAPSTAN_DYNAMODB_ENDPOINT) env['CAPSTAN_DYNAMODB_ENDPOINT'] = config.CAPSTAN_DYNAMODB_ENDPOINT;
  if (config.CAPSTAN_S3_ENDPOINT) env['CAPSTAN_S3_ENDPOINT'] = config.CAPSTAN_S3_ENDPOINT;
  if (config.CAPSTAN_SQS_ENDPOINT) env['CAPSTAN_SQS_ENDPOINT'] = config.CAPSTAN_SQS_ENDPOINT;
  return env;
}

/** The account id local events carry (as the event router's envelopes do). */
export const LOCAL_ACCOUNT = '000000000000';

/** s3rver's notification → the EventBridge "Object Created" event S3 would send; null for other events. */
export function objectCreatedFromNotification(
  notification: S3ObjectNotification,
  options: { account: string; region: string },
): S3ObjectCreatedEvent | null {
  const reason = reasonForEventName(notification.eventName);
  if (reason === null) return null;
  return s3ObjectCreatedEvent(
    {
      bucket: notification.bucket,
      key: notification.key,
      size: notification.size ?? 0,
      // s3rver leaves the ETag out of copy events; S3 always has one.
      etag: notification.etag ?? '',
      sequencer: notification.sequencer,
      requestId: notification.requestId,
      sourceIpAddress: notification.sourceIp.replace(/^::ffff:/, ''),
      reason,
      time: notification.time,
    },
    options,
  );
}

/**
 * S3 → EventBridge → task routes, locally: every object created in one of `buckets` (the
 * buckets with EventBridge notifications on; in the cloud only the media bucket) becomes an
 * "Object Created" event on the default bus. Returns the unsubscribe function.
 */
export function routeS3ObjectEvents(
  s3: Pick<S3Server, 'onObjectEvent'>,
  dispatcher: Pick<TaskDispatcher, 'dispatch'>,
  options: { buckets: readonly string[]; account: string; region: string; logger: Logger },
): () => void {
  return s3.onObjectEvent((notification) => {
    if (!options.buckets.includes(notification.bucket)) return;
    const event = objectCreatedFromNotification(notification, options);
    if (event === null) return;
    const routes = dispatcher.dispatch('default', event);
    if (routes.length > 0) options.logger.debug('s3 event routed', { bucket: notification.bucket, key: notification.key, routes });
  });
}
