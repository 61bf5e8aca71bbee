/**
 * Idempotency keys of create requests (`tenant#key`). Entries expire after 24 h through
 * the shape's TTL attribute, so the table holds nothing worth keeping past the stack.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE } from '../../shared/tables.ts';
import { tableFromShape } from './table-from-shape.ts';

export class IdempotencyStore extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = tableFromShape(this, 'IdempotencyTable', IDEMPOTENCY_TABLE, RemovalPolicy.DESTROY);
  }
}
