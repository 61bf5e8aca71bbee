/**
 * The integration-event bus, built from `shared/topology.ts`: one work queue per entry
 * of QUEUES, one rule per entry of ROUTES. The local runtime reads the same table.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/integration/event-types.ts';
import { QUEUES, ROUTES, type QueueKey, type Route } from '../../shared/topology.ts';
import { DeadLetterQueue, WorkQueue } from './queues.ts';

export function eventPatternFor(route: Route): events.EventPattern {
  return {
    source: [EVENT_SOURCE],
    detailType: [...route.eventTypes],
    ...(route.sourceTypes ? { detail: { source_type: [...route.sourceTypes] } } : {}),
  };
}

export class CapstanEventBus extends Construct {
  readonly bus: events.EventBus;
  readonly queues: Readonly<Record<QueueKey, WorkQueue>>;
  /** Events EventBridge could not deliver to a target queue after its retries. */
  readonly deliveryFailures: DeadLetterQueue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      description: `Capstan integration events (source ${EVENT_SOURCE})`,
    });
    this.deliveryFailures = new DeadLetterQueue(this, 'DeliveryFailures', {
      alarmDescription: 'EventBridge could not deliver an integration event to its queue',
    });

    const queueKeys = Object.keys(QUEUES) as QueueKey[];
    this.queues = Object.fromEntries(
      queueKeys.map((key) => [key, new WorkQueue(this, QUEUES[key].name, QUEUES[key])]),
    ) as Record<QueueKey, WorkQueue>;

    for (const route of ROUTES) {
      new events.Rule(this, route.name, {
        eventBus: this.bus,
        description: route.description,
        eventPattern: eventPatternFor(route),
        targets: [
          // EventBridge's default retry policy (24 h, 185 attempts), then the DLQ.
          new targets.SqsQueue(this.queues[route.queue].queue, {
            deadLetterQueue: this.deliveryFailures.queue,
          }),
        ],
      });
    }
  }
}
