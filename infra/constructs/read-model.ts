/** Query-side tables: the recordings projection and the API key hashes. */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { API_KEYS_TABLE, RECORDINGS_TABLE } from '../../shared/tables.ts';
import { tableFromShape } from './table-from-shape.ts';

export class ReadModel extends Construct {
  readonly recordingsTable: dynamodb.TableV2;
  readonly apiKeysTable: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Recordings could be replayed from the event store, but no replay tool exists yet.
    this.recordingsTable = tableFromShape(this, 'RecordingsTable', RECORDINGS_TABLE, RemovalPolicy.RETAIN);
    // Key hashes are issued once and cannot be rebuilt.
    this.apiKeysTable = tableFromShape(this, 'ApiKeysTable', API_KEYS_TABLE, RemovalPolicy.RETAIN);
  }
}
