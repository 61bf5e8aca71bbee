/**
 * DynamoDB read model: partition `tenant_id`, sort `recording_id` (ULIDs sort by time, so a
 * descending query lists newest first). Writes are conditional on the item's version, so a
 * late or duplicate stream record can never move a recording backwards.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RecordingView } from '../recording/view.ts';
import { decodeCursor, encodeCursor, ProjectionConflictError, type ListPage, type ListQuery, type RecordingReadModel } from './port.ts';

interface Item {
  tenant_id: string;
  recording_id: string;
  version: number;
  status: string;
  view: RecordingView;
}

export class DynamoDbRecordingReadModel implements RecordingReadModel {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, recordingId: string): Promise<RecordingView | null> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { tenant_id: tenantId, recording_id: recordingId }, ConsistentRead: true }),
    );
    return (result.Item as Item | undefined)?.view ?? null;
  }

  async put(view: RecordingView, expectedVersion: number | null): Promise<void> {
    const item: Item = { tenant_id: view.tenant_id, recording_id: view.id, version: view.version, status: view.status, view };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === null
            ? { ConditionExpression: 'attribute_not_exists(recording_id)' }
            : { ConditionExpression: '#version = :expected', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ProjectionConflictError(view.id, { cause: error });
      throw error;
    }
  }

  async list(tenantId: string, query: ListQuery): Promise<ListPage> {
    const filter = buildFilter(query);
    const wanted = query.limit + 1;
    const found: RecordingView[] = [];
    let startKey: Record<string, unknown> | undefined =
      query.cursor === undefined ? undefined : { tenant_id: tenantId, recording_id: decodeCursor(query.cursor) };
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'tenant_id = :tenant',
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          // Filters apply after the page is read: read more than we need when filtering.
          Limit: filter.expression === undefined ? wanted - found.length : 100,
          FilterExpression: filter.expression,
          ExpressionAttributeNames: filter.names,
          ExpressionAttributeValues: { ':tenant': tenantId, ...filter.values },
        }),
      );
      for (const item of (page.Items ?? []) as Item[]) if (found.length < wanted) found.push(item.view);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && found.length < wanted);
    const items = found.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: found.length > query.limit && last ? encodeCursor(last.id) : null };
  }

  /** Every item, for comparing a rebuilt read model with the live one. */
  async scanAll(): Promise<RecordingView[]> {
    const views: RecordingView[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
      for (const item of (page.Items ?? []) as Item[]) views.push(item.view);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return views.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

interface Filter {
  expression?: string;
  names?: Record<string, string>;
  values: Record<string, unknown>;
}

function buildFilter(query: ListQuery): Filter {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.status !== undefined) {
    clauses.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = query.status;
  }
  Object.entries(query.metadata ?? {}).forEach(([key, raw], i) => {
    // Metadata values keep their JSON type; a query string matches its string, number or boolean form.
    const candidates: unknown[] = [raw];
    if (raw.trim() !== '' && Number.isFinite(Number(raw))) candidates.push(Number(raw));
    if (raw === 'true' || raw === 'false') candidates.push(raw === 'true');
    const placeholders = candidates.map((value, j) => {
      values[`:m${i}_${j}`] = value;
      return `:m${i}_${j}`;
    });
    names['#view'] = 'view';
    names['#metadata'] = 'metadata';
    names[`#mk${i}`] = key;
    clauses.push(`#view.#metadata.#mk${i} IN (${placeholders.join(', ')})`);
  });
  return clauses.length === 0 ? { values } : { expression: clauses.join(' AND '), names, values };
}
