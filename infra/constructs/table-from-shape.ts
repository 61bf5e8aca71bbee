/**
 * Builds a DynamoDB table from a `shared/tables.ts` shape, so the cloud tables and the
 * local runtime's tables cannot drift apart.
 *
 * TableV2 (AWS::DynamoDB::GlobalTable, one replica) rather than Table: its
 * `grantStreamRead` scopes `dynamodb:ListStreams` to the stream ARN, where Table's grants
 * it on `*`.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { KeyAttribute, TableShape } from '../../shared/tables.ts';

function attribute(key: KeyAttribute): dynamodb.Attribute {
  const type = key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
  return { name: key.name, type };
}

export function tableFromShape(
  scope: Construct,
  id: string,
  shape: TableShape,
  removalPolicy: RemovalPolicy,
): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, id, {
    partitionKey: attribute(shape.partitionKey),
    ...(shape.sortKey ? { sortKey: attribute(shape.sortKey) } : {}),
    ...(shape.stream ? { dynamoStream: dynamodb.StreamViewType[shape.stream] } : {}),
    ...(shape.timeToLiveAttribute ? { timeToLiveAttribute: shape.timeToLiveAttribute } : {}),
    billing: dynamodb.Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy,
  });
}
