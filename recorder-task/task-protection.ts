/**
 * ECS task scale-in protection while the recorder holds recordings. A deploy or a scale-in
 * would otherwise pick this task to stop and end its live recordings (cleanly, but early).
 * A task that records asks its ECS agent (`$ECS_AGENT_URI/task-protection/v1/state`) to be
 * protected for a short window and renews the window while it is busy; once idle it drops
 * the protection so a pending deploy or scale-in can take it. A task that hangs stops
 * renewing and becomes stoppable within one window. Outside ECS (`ECS_AGENT_URI` unset:
 * `npm start`, a laptop) this does nothing.
 *
 * Failures are logged and counted, never fatal: recording matters more than protection.
 */
import type { Logger } from '../shared/logger.ts';

export interface TaskProtectionOptions {
  /** The ECS agent's URI (ECS injects `ECS_AGENT_URI`); undefined turns protection off. */
  readonly agentUri: string | undefined;
  /** Length of one protection window, 1–2880 minutes; renewed every third of it while busy. */
  readonly windowMinutes: number;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** After a failed update, the next try comes this much later (ms). */
  readonly retryMs?: number;
}

export interface TaskProtectionState {
  readonly enabled: boolean;
  /** Whether the agent confirmed the protection we want now. */
  readonly protected: boolean;
  readonly updates: number;
  readonly failures: number;
}

export class TaskProtection {
  private desired = false;
  private confirmed = false;
  private updates = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TaskProtectionOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  get state(): TaskProtectionState {
    return { enabled: this.options.agentUri !== undefined, protected: this.confirmed, updates: this.updates, failures: this.failures };
  }

  /** Tell it how many recordings this task holds; protection follows busy (> 0) and idle (0). */
  busy(activeRecordings: number): Promise<void> {
    const want = activeRecordings > 0;
    if (this.options.agentUri === undefined || this.closed || want === this.desired) return this.chain;
    this.desired = want;
    return this.enqueue();
  }

  /** Stops renewing; the window lapses on its own (a graceful stop has already been decided by ECS). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private enqueue(): Promise<void> {
    this.chain = this.chain.then(() => this.apply());
    return this.chain;
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.enqueue(), ms);
    this.timer.unref();
  }

  private async apply(): Promise<void> {
    if (this.closed) return;
    const want = this.desired;
    const body = want ? { ProtectionEnabled: true, ExpiresInMinutes: this.options.windowMinutes } : { ProtectionEnabled: false };
    try {
      const response = await this.fetch(`${this.options.agentUri!.replace(/\/$/, '')}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      const answer = (await response.json().catch(() => ({}))) as { protection?: { ProtectionEnabled?: boolean }; failure?: unknown; error?: unknown };
      // The agent answers failures both as non-2xx and as 200 with `failure` or `error`.
      if (!response.ok || answer.protection === undefined) throw new Error(`agent answered ${response.status}: ${JSON.stringify(answer.failure ?? answer.error ?? answer)}`);
      this.updates++;
      this.confirmed = want && answer.protection.ProtectionEnabled === true;
      this.options.logger.info(want ? 'task scale-in protection on' : 'task scale-in protection off', { windowMinutes: want ? this.options.windowMinutes : undefined });
      if (this.desired) this.schedule((this.options.windowMinutes * 60_000) / 3);
      else if (this.timer !== undefined) clearTimeout(this.timer);
    } catch (error) {
      this.failures++;
      this.options.logger.warn('task scale-in protection update failed; retrying', { want, error });
      if (want) this.confirmed = false;
      if (want === this.desired) this.schedule(this.options.retryMs ?? 10_000);
    }
  }
}
