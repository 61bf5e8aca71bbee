/** The append-only event store: the system's source of truth, and the stream's origin. */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EVENTS_TABLE } from '../../shared/tables.ts';
import { tableFromShape } from './table-from-shape.ts';

export class EventStore extends Construct {
  /** Items `(stream_id, version)`; NEW_IMAGE stream feeds the publisher. */
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Events cannot be rebuilt from anything else: keep the table when the stack goes.
    this.table = tableFromShape(this, 'EventsTable', EVENTS_TABLE, RemovalPolicy.RETAIN);
  }
}
