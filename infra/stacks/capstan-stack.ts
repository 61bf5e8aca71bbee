/**
 * The Capstan stack composes the constructs and wires names and grants between them.
 * Environment-agnostic: no lookups (the VPC's AZs are `Fn::GetAZs`), so it synthesizes
 * offline; the compositor/recorder image is staged, not built, at synth.
 */
import { WebhookStores } from '../constructs/webhook-stores.ts';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResourceEnvironment } from '../constructs/environment.ts';
import { CompositorTask } from '../constructs/compositor-task.ts';
import { ComputeCluster } from '../constructs/compute-cluster.ts';
import { CapstanEventBus } from '../constructs/event-bus.ts';
import { EventStore } from '../constructs/event-store.ts';
import { HttpApi } from '../constructs/http-api.ts';
import { IdempotencyStore } from '../constructs/idempotency-store.ts';
import { MediaBucket } from '../constructs/media-bucket.ts';
import { MediaCleanup } from '../constructs/media-cleanup.ts';
import { OperatorAlerts } from '../constructs/operator-alerts.ts';
import { Publisher } from '../constructs/publisher.ts';
import { ReadModel } from '../constructs/read-model.ts';
import { RecorderService } from '../constructs/recorder-service.ts';
import { TaskRoutes } from '../constructs/task-routes.ts';
import { WebhookDispatcher } from '../constructs/webhook-dispatcher.ts';

export class CapstanStack extends Stack {
  readonly eventStore: EventStore;
  readonly readModel: ReadModel;
  readonly idempotency: IdempotencyStore;
  readonly eventBus: CapstanEventBus;
  readonly media: MediaBucket;
  readonly publisher: Publisher;
  readonly httpApi: HttpApi;
  readonly mediaCleanup: MediaCleanup;
  readonly compute: ComputeCluster;
  readonly webhookStores: WebhookStores;
  readonly compositor: CompositorTask;
  readonly taskRoutes: TaskRoutes;
  readonly recorder: RecorderService;
  readonly webhookDispatcher: WebhookDispatcher;
  readonly alerts: OperatorAlerts;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.eventStore = new EventStore(this, 'EventStore');
    this.readModel = new ReadModel(this, 'ReadModel');
    this.idempotency = new IdempotencyStore(this, 'Idempotency');
    this.webhookStores = new WebhookStores(this, 'WebhookStores');
    this.eventBus = new CapstanEventBus(this, 'EventBus');
    this.media = new MediaBucket(this, 'Media');

    const environment: ResourceEnvironment = {
      CAPSTAN_EVENTS_TABLE: this.eventStore.table.tableName,
      CAPSTAN_RECORDINGS_TABLE: this.readModel.recordingsTable.tableName,
      CAPSTAN_API_KEYS_TABLE: this.readModel.apiKeysTable.tableName,
      CAPSTAN_IDEMPOTENCY_TABLE: this.idempotency.table.tableName,
      CAPSTAN_FEED_TABLE: this.webhookStores.feedTable.tableName,
      CAPSTAN_WEBHOOKS_TABLE: this.webhookStores.webhooksTable.tableName,
      CAPSTAN_DELIVERIES_TABLE: this.webhookStores.deliveriesTable.tableName,
      CAPSTAN_BUCKET: this.media.bucket.bucketName,
      CAPSTAN_EVENT_BUS_NAME: this.eventBus.bus.eventBusName,
    };

    this.publisher = new Publisher(this, 'Publisher', {
      environment,
      eventsTable: this.eventStore.table,
      recordingsTable: this.readModel.recordingsTable,
      feedTable: this.webhookStores.feedTable,
      bus: this.eventBus.bus,
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      environment,
      eventsTable: this.eventStore.table,
      recordingsTable: this.readModel.recordingsTable,
      apiKeysTable: this.readModel.apiKeysTable,
      idempotencyTable: this.idempotency.table,
      feedTable: this.webhookStores.feedTable,
      webhooksTable: this.webhookStores.webhooksTable,
      deliveriesTable: this.webhookStores.deliveriesTable,
      bucket: this.media.bucket,
      webhookRetryQueue: this.eventBus.queues.webhookRetries.queue,
      webhookDeadLetterQueue: this.eventBus.queues.webhookRetries.deadLetters.queue,
    });
    // Artifact `file_url`s in integration events point at the API's download route.
    this.publisher.function.addEnvironment('CAPSTAN_PUBLIC_URL', this.httpApi.api.apiEndpoint);
    this.mediaCleanup = new MediaCleanup(this, 'MediaCleanup', {
      environment,
      queue: this.eventBus.queues.mediaCleanup.queue,
      bucket: this.media.bucket,
      recordingsTable: this.readModel.recordingsTable,
    });
    this.webhookDispatcher = new WebhookDispatcher(this, 'WebhookDispatcher', {
      environment,
      events: this.eventBus.queues.webhookEvents,
      retries: this.eventBus.queues.webhookRetries,
      deliveriesTable: this.webhookStores.deliveriesTable,
      webhooksTable: this.webhookStores.webhooksTable,
      recordingsTable: this.readModel.recordingsTable,
    });

    this.compute = new ComputeCluster(this, 'Compute');
    this.compositor = new CompositorTask(this, 'Compositor', {
      environment,
      bucket: this.media.bucket,
      eventsTable: this.eventStore.table,
      recordingsTable: this.readModel.recordingsTable,
    });
    this.taskRoutes = new TaskRoutes(this, 'TaskRoutes', {
      cluster: this.compute.cluster,
      subnets: this.compute.taskSubnets,
      securityGroup: this.compute.taskSecurityGroup,
      capstanBus: this.eventBus.bus,
      bindings: { mediaBucket: this.media.bucket.bucketName },
      tasks: { compositor: { taskDefinition: this.compositor.taskDefinition, containerName: CompositorTask.CONTAINER_NAME } },
    });
    this.recorder = new RecorderService(this, 'Recorder', {
      environment,
      cluster: this.compute.cluster,
      subnets: this.compute.taskSubnets,
      queue: this.eventBus.queues.recorderJobs.queue,
      bucket: this.media.bucket,
      eventsTable: this.eventStore.table,
    });

    // Every alarm above (and any added later) notifies this topic.
    this.alerts = new OperatorAlerts(this, 'Alerts');

    new CfnOutput(this, 'AlarmTopicArn', { value: this.alerts.topic.topicArn });
    new CfnOutput(this, 'BucketName', { value: this.media.bucket.bucketName });
    new CfnOutput(this, 'ClusterName', { value: this.compute.cluster.clusterName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName });
    new CfnOutput(this, 'ApiKeysTableName', { value: this.readModel.apiKeysTable.tableName });
    new CfnOutput(this, 'RecorderServiceName', { value: this.recorder.service.serviceName });
  }
}
