/**
 * The local stand-in for EventBridge: matches each integration event against
 * `shared/topology` (the table CDK turns into rules) and sends the EventBridge envelope to
 * the target queue on local-aws-sqs, exactly as an SQS rule target would receive it. The
 * same envelope then goes to the task routes (the rules with an ECS RunTask target), as
 * an event on the Capstan bus.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { IntegrationBus } from '../shared/integration/bus.ts';
import { envelope, type EventBridgeEnvelope } from '../shared/integration/envelope.ts';
import type { IntegrationEvent } from '../shared/integration/integration-event.ts';
import type { Logger } from '../shared/logger.ts';
import { routesFor, ROUTES, type QueueKey, type Route } from '../shared/topology.ts';
import type { QueueUrls } from './bootstrap.ts';

export class LocalEventRouter implements IntegrationBus {
  readonly stats = { published: 0, routed: 0, unrouted: 0 };
  private readonly listeners = new Set<(event: IntegrationEvent) => void>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: QueueUrls,
    private readonly logger: Logger,
    private readonly routes: readonly Route[] = ROUTES,
    /** Task routes on the Capstan bus (local/task-runner.ts TaskDispatcher). */
    private readonly tasks?: { dispatch(bus: 'capstan', event: EventBridgeEnvelope): string[] },
    /** Called after a send to a queue (the runtime nudges that queue's consumer). */
    private readonly onSent?: (queue: QueueKey) => void,
  ) {}

  /** In-process subscribers (tests, dev tooling) see every published event. */
  subscribe(listener: (event: IntegrationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends events again to one queue, for the routes to it that match (startup reconciliation:
   * the message a stop took with the in-memory queue). No other queue or task sees them.
   */
  async resend(events: readonly IntegrationEvent[], queue: QueueKey): Promise<void> {
    for (const event of events) {
      const matched = routesFor(event.type, event.source_type, this.routes).filter((route) => route.queue === queue);
      if (matched.length === 0) continue;
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queues[queue].url, MessageBody: JSON.stringify(envelope(event, { id: randomUUID() })) }));
      this.onSent?.(queue);
    }
  }

  async publish(events: readonly IntegrationEvent[]): Promise<void> {
    for (const event of events) {
      const matched = routesFor(event.type, event.source_type, this.routes);
      const wrapped = envelope(event, { id: randomUUID() });
      const body = JSON.stringify(wrapped);
      // Any failure throws to the publisher, which retries the stream record: nothing is dropped.
      await Promise.all(matched.map((route) => this.sqs.send(new SendMessageCommand({ QueueUrl: this.queues[route.queue].url, MessageBody: body }))));
      for (const route of matched) this.onSent?.(route.queue);
      // After the queues, so a retried record does not start its tasks twice for one failure.
      const tasks = this.tasks?.dispatch('capstan', wrapped) ?? [];
      this.stats.published++;
      if (matched.length === 0 && tasks.length === 0) this.stats.unrouted++;
      else this.stats.routed++;
      for (const listener of this.listeners) listener(event);
      this.logger.debug('integration event routed', { type: event.type, recordingId: event.recording_id, routes: [...matched.map((r) => r.name), ...tasks] });
    }
  }
}
