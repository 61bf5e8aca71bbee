/** Where integration events go: EventBridge in the cloud, the topology router locally. */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from './event-types.ts';
import type { IntegrationEvent } from './integration-event.ts';

export interface IntegrationBus {
  publish(events: readonly IntegrationEvent[]): Promise<void>;
}

export class PublishFailedError extends Error {
  constructor(readonly failed: readonly { id: string; code: string | undefined }[]) {
    super(`EventBridge rejected ${failed.length} entries: ${failed.map((f) => `${f.id} (${f.code ?? 'unknown'})`).join(', ')}`);
    this.name = 'PublishFailedError';
  }
}

/** PutEvents takes at most 10 entries; partial failure is reported in the response, not thrown. */
export class EventBridgeBus implements IntegrationBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly attempts = 3,
  ) {}

  async publish(events: readonly IntegrationEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) await this.putBatch(events.slice(i, i + 10));
  }

  private async putBatch(batch: readonly IntegrationEvent[]): Promise<void> {
    let pending = [...batch];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: pending.map((event) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Detail: JSON.stringify(event),
            Time: new Date(event.occurred_at),
          })),
        }),
      );
      if (!result.FailedEntryCount) return;
      const failed = pending.map((event, i) => ({ event, entry: result.Entries?.[i] })).filter(({ entry }) => entry?.ErrorCode);
      if (attempt >= this.attempts) throw new PublishFailedError(failed.map(({ event, entry }) => ({ id: event.id, code: entry?.ErrorCode })));
      pending = failed.map(({ event }) => event);
    }
  }
}
