/**
 * The Capstan stack composes the constructs and wires names and grants between them.
 * Environment-agnostic: no lookups, no VPC, so it synthesizes offline.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResourceEnvironment } from '../constructs/environment.ts';
import { CapstanEventBus } from '../constructs/event-bus.ts';
import { EventStore } from '../constructs/event-store.ts';
import { HttpApi } from '../constructs/http-api.ts';
import { IdempotencyStore } from '../constructs/idempotency-store.ts';
import { MediaBucket } from '../constructs/media-bucket.ts';
import { MediaCleanup } from '../constructs/media-cleanup.ts';
import { Publisher } from '../constructs/publisher.ts';
import { ReadModel } from '../constructs/read-model.ts';

export class CapstanStack extends Stack {
  readonly eventStore: EventStore;
  readonly readModel: ReadModel;
  readonly idempotency: IdempotencyStore;
  readonly eventBus: CapstanEventBus;
  readonly media: MediaBucket;
  readonly publisher: Publisher;
  readonly httpApi: HttpApi;
  readonly mediaCleanup: MediaCleanup;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.eventStore = new EventStore(this, 'EventStore');
    this.readModel = new ReadModel(this, 'ReadModel');
    this.idempotency = new IdempotencyStore(this, 'Idempotency');
    this.eventBus = new CapstanEventBus(this, 'EventBus');
    this.media = new MediaBucket(this, 'Media');

    const environment: ResourceEnvironment = {
      CAPSTAN_EVENTS_TABLE: this.eventStore.table.tableName,
      CAPSTAN_RECORDINGS_TABLE: this.readModel.recordingsTable.tableName,
      CAPSTAN_API_KEYS_TABLE: this.readModel.apiKeysTable.tableName,
      CAPSTAN_IDEMPOTENCY_TABLE: this.idempotency.table.tableName,
      CAPSTAN_BUCKET: this.media.bucket.bucketName,
      CAPSTAN_EVENT_BUS_NAME: this.eventBus.bus.eventBusName,
    };

    this.publisher = new Publisher(this, 'Publisher', {
      environment,
      eventsTable: this.eventStore.table,
      recordingsTable: this.readModel.recordingsTable,
      bus: this.eventBus.bus,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      environment,
      eventsTable: this.eventStore.table,
      recordingsTable: this.readModel.recordingsTable,
      apiKeysTable: this.readModel.apiKeysTable,
      idempotencyTable: this.idempotency.table,
      bucket: this.media.bucket,
    });
    this.mediaCleanup = new MediaCleanup(this, 'MediaCleanup', {
      environment,
      queue: this.eventBus.queues.mediaCleanup.queue,
      bucket: this.media.bucket,
    });

    new CfnOutput(this, 'BucketName', { value: this.media.bucket.bucketName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName });
  }
}
