/**
 * The tenant event feed (`GET /v1/events`, written by the publisher, 30-day TTL) and the
 * webhook endpoints and deliveries tables. All from `shared/tables.ts` shapes, like every table.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DELIVERIES_TABLE, FEED_TABLE, WEBHOOKS_TABLE } from '../../shared/tables.ts';
import { tableFromShape } from './table-from-shape.ts';

export class WebhookStores extends Construct {
  readonly feedTable: dynamodb.TableV2;
  readonly webhooksTable: dynamodb.TableV2;
  readonly deliveriesTable: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The feed can be rebuilt from the event store; endpoints and secrets cannot.
    this.feedTable = tableFromShape(this, 'FeedTable', FEED_TABLE, RemovalPolicy.DESTROY);
    this.webhooksTable = tableFromShape(this, 'WebhooksTable', WEBHOOKS_TABLE, RemovalPolicy.RETAIN);
    // Delivery logs expire after 30 days (TTL); losing them loses history, not events.
    this.deliveriesTable = tableFromShape(this, 'DeliveriesTable', DELIVERIES_TABLE, RemovalPolicy.DESTROY);
  }
}
