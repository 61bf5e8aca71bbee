/**
 * The public HTTP API: one API Gateway HTTP API whose `$default` route proxies every
 * request to a single function, which routes internally (/health, /openapi.json,
 * /v1/recordings...).
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { capstanFunction } from './capstan-function.ts';
import type { ResourceEnvironment } from './environment.ts';
import { webhookQueueEnvironment } from './webhook-dispatcher.ts';

export interface HttpApiProps {
  readonly environment: ResourceEnvironment;
  readonly eventsTable: dynamodb.ITableV2;
  readonly recordingsTable: dynamodb.ITableV2;
  readonly apiKeysTable: dynamodb.ITableV2;
  readonly idempotencyTable: dynamodb.ITableV2;
  readonly feedTable: dynamodb.ITableV2;
  readonly webhooksTable: dynamodb.ITableV2;
  readonly deliveriesTable: dynamodb.ITableV2;
  readonly bucket: s3.IBucket;
  /** Replays are scheduled on the webhook retry queue. */
  readonly webhookRetryQueue: sqs.IQueue;
  /** Only its URL: the API builds the webhook dispatcher, which requires it, but never sends there. */
  readonly webhookDeadLetterQueue: sqs.IQueue;
}

export class HttpApi extends Construct {
  readonly function: NodejsFunction;
  readonly api: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    this.function = capstanFunction(this, 'Function', {
      handlerName: 'api',
      description: 'Capstan HTTP API',
      environment: props.environment,
      extraEnvironment: webhookQueueEnvironment(props.webhookRetryQueue, props.webhookDeadLetterQueue),
      memorySizeMb: 512,
      // API Gateway HTTP APIs stop waiting after 30 s.
      timeout: Duration.seconds(29),
    });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Capstan recordings API',
      defaultIntegration: new HttpLambdaIntegration('Handler', this.function),
    });

    // Commands append events; queries read the projection; auth looks up key hashes;
    // create requests claim their Idempotency-Key.
    props.eventsTable.grantReadWriteData(this.function);
    props.recordingsTable.grantReadData(this.function);
    props.apiKeysTable.grantReadData(this.function);
    props.idempotencyTable.grantReadWriteData(this.function);
    props.feedTable.grantReadData(this.function);
    props.webhooksTable.grantReadWriteData(this.function);
    // Delivery logs and replays: a range replay creates the deliveries it lacks, then every
    // replay goes through the webhook retry queue.
    props.deliveriesTable.grantReadWriteData(this.function);
    props.webhookRetryQueue.grantSendMessages(this.function);
    // Health check (HeadBucket) and presigned GET URLs, which act with the function's
    // own permissions.
    s3.BucketGrants.fromBucket(props.bucket).read(this.function);

    new CfnOutput(this, 'Url', { value: this.api.apiEndpoint });
  }
}
