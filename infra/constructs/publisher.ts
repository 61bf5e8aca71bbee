/**
 * The publisher: reads the event store's stream, updates the read model and forwards
 * integration events to the bus. Failing batches are bisected and retried a bounded number
 * of times; what still fails is recorded on an alarmed queue instead of blocking the shard.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { capstanFunction } from './capstan-function.ts';
import type { ResourceEnvironment } from './environment.ts';
import { DeadLetterQueue } from './queues.ts';

export interface PublisherProps {
  readonly environment: ResourceEnvironment;
  readonly eventsTable: dynamodb.ITableV2;
  readonly recordingsTable: dynamodb.ITableV2;
  readonly feedTable: dynamodb.ITableV2;
  readonly bus: events.IEventBus;
}

export class Publisher extends Construct {
  readonly function: NodejsFunction;
  /** Stream batch metadata (shard, sequence numbers) of batches that exhausted retries. */
  readonly failures: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: PublisherProps) {
    super(scope, id);
    this.function = capstanFunction(this, 'Function', {
      handlerName: 'publish',
      description: 'Events table stream: projections and integration events',
      environment: props.environment,
      timeout: Duration.seconds(30),
    });
    this.failures = new DeadLetterQueue(this, 'StreamFailures', {
      alarmDescription: 'A batch of the events stream exhausted its retries',
    });

    this.function.addEventSource(
      new DynamoEventSource(props.eventsTable, {
        // From the oldest record still in the stream: a new mapping skips no event.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 10,
        // Stream records live 24 h. Giving up after 6 h leaves 18 h to re-read the failed
        // range by the sequence numbers on the failure queue.
        maxRecordAge: Duration.hours(6),
        onFailure: new SqsDlq(this.failures.queue),
      }),
    );

    props.eventsTable.grantReadData(this.function);
    // Projections read the current row, fold the event in and write it back.
    props.recordingsTable.grantReadWriteData(this.function);
    props.feedTable.grantWriteData(this.function);
    props.bus.grantPutEventsTo(this.function);
  }
}
