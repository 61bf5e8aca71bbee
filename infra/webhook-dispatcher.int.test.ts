/**
 * Intent tests for the webhook dispatcher in the synthesized Capstan stack: every integration
 * event reaches the fan-out function, both consumers report partial batch failures, every
 * function that builds the dispatcher has the retry queue's and its dead-letter queue's URLs,
 * and the grants are the dispatcher's and nothing more. Resources are found through the
 * constructs (`stack.resolve`), never through hashed logical ids.
 */
import { existsSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as events from 'aws-cdk-lib/aws-events';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_SOURCE, INTEGRATION_EVENT_TYPES } from '../shared/integration/event-types.ts';
import { QUEUES, ROUTES } from '../shared/topology.ts';
import { handlerEntry } from './paths.ts';
import type { CapstanStack } from './stacks/capstan-stack.ts';
import { asArray, iamStatements, synthesizeCapstan, type PolicyStatement, type Resources } from './testing/assertions.ts';

/**
 * The entry file each NodejsFunction was built from, by construct path: the template only has
 * the asset (and with bundling skipped, not even a hash of the code).
 */
const entries = vi.hoisted(() => new Map<string, string | undefined>());
vi.mock('aws-cdk-lib/aws-lambda-nodejs', async (importOriginal) => {
  const original = await importOriginal<typeof import('aws-cdk-lib/aws-lambda-nodejs')>();
  class RecordingNodejsFunction extends original.NodejsFunction {
    constructor(...args: ConstructorParameters<typeof original.NodejsFunction>) {
      super(...args);
      entries.set(this.node.path, args[2]?.entry);
    }
  }
  return { ...original, NodejsFunction: RecordingNodejsFunction };
});

const DELIVERY_WRITES = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'];

describe('CapstanStack webhook dispatcher', { timeout: 120_000 }, () => {
  let stack: CapstanStack;
  let template: Template;

  beforeAll(() => {
    stack = synthesizeCapstan();
    template = Template.fromStack(stack);
  }, 120_000);

  const arnOf = (queue: IQueue): unknown => stack.resolve(queue.queueArn);
  const refOf = (fn: IFunction): unknown => stack.resolve(fn.functionName);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

  const dispatcherFunctions = () =>
    [
      ['webhook-fanout', stack.webhookDispatcher.fanoutFunction, stack.eventBus.queues.webhookEvents],
      ['webhook-retry', stack.webhookDispatcher.retryFunction, stack.eventBus.queues.webhookRetries],
    ] as const;

  const statementsOf = (fn: IFunction): PolicyStatement[] => iamStatements(template, stack).ofFunction(fn);
  const statementsOfRole = (role: IRole): PolicyStatement[] => iamStatements(template, stack).ofRole(role);

  /** Every action the function's role is allowed on exactly this resource. */
  function actionsOn(fn: IFunction, resource: unknown): Set<string> {
    return new Set(
      statementsOf(fn)
        .filter((s) => s.Effect === 'Allow' && asArray(s.Resource).some((r) => same(r, resource)))
        .flatMap((s) => asArray(s.Action)),
    );
  }

  it('builds the fan-out and retry functions from their handlers, nodejs22.x on arm64, 30 s', () => {
    for (const [handlerName, fn] of dispatcherFunctions()) {
      const entry = entries.get(fn.node.path);
      expect(entry, fn.node.path).toBe(handlerEntry(handlerName));
      expect(existsSync(entry!), entry).toBe(true);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(fn.role?.roleArn),
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Timeout: 30,
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
    }
  });

  it('consumes each dispatcher queue with partial batch failures, visibility 6x the function timeout', () => {
    for (const [, fn, workQueue] of dispatcherFunctions()) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: refOf(fn),
        EventSourceArn: arnOf(workQueue.queue),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: Match.anyValue() },
      });
      // One queue per function: the fan-out never consumes retries, nor the retry function events.
      const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: refOf(fn) },
      });
      expect(Object.keys(mappings)).toHaveLength(1);
    }
    for (const [, fn] of dispatcherFunctions()) {
      const timeout = fn.timeout?.toSeconds() ?? 3;
      expect(timeout * 6).toBeLessThanOrEqual(QUEUES.webhookEvents.visibilityTimeoutSeconds);
      expect(timeout * 6).toBeLessThanOrEqual(QUEUES.webhookRetries.visibilityTimeoutSeconds);
    }
  });

  it('gives every function that builds the dispatcher the retry queue URL and its dead-letter queue URL', () => {
    const retries = stack.eventBus.queues.webhookRetries;
    const environment = {
      CAPSTAN_WEBHOOK_RETRY_QUEUE_URL: stack.resolve(retries.queue.queueUrl),
      CAPSTAN_WEBHOOK_DEAD_LETTER_QUEUE_URL: stack.resolve(retries.deadLetters.queue.queueUrl),
      CAPSTAN_DELIVERIES_TABLE: stack.resolve(stack.webhookStores.deliveriesTable.tableName),
      CAPSTAN_WEBHOOKS_TABLE: stack.resolve(stack.webhookStores.webhooksTable.tableName),
      CAPSTAN_RECORDINGS_TABLE: stack.resolve(stack.readModel.recordingsTable.tableName),
    };
    const functions = [...dispatcherFunctions().map(([, fn]) => fn), stack.httpApi.function];
    for (const fn of functions) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(fn.role?.roleArn),
        Environment: { Variables: Match.objectLike(environment) },
      });
    }
  });

  it('lets the dispatcher functions use the webhook tables, read recordings and send to the retry queue and its DLQ, nothing more', () => {
    const retries = stack.eventBus.queues.webhookRetries;
    const deliveriesArn = stack.resolve(stack.webhookStores.deliveriesTable.tableArn);
    const webhooksArn = stack.resolve(stack.webhookStores.webhooksTable.tableArn);
    const recordingsArn = stack.resolve(stack.readModel.recordingsTable.tableArn);
    for (const [, fn, source] of dispatcherFunctions()) {
      expect([...actionsOn(fn, arnOf(retries.queue))]).toContain('sqs:SendMessage');
      expect([...actionsOn(fn, arnOf(retries.deadLetters.queue))]).toContain('sqs:SendMessage');
      expect([...actionsOn(fn, arnOf(source.queue))]).toEqual(
        expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
      );
      expect([...actionsOn(fn, deliveriesArn)]).toEqual(expect.arrayContaining(DELIVERY_WRITES));
      // Endpoint list/get, disable on 410 and the signing secret created on first use (PutItem).
      expect([...actionsOn(fn, webhooksArn)]).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem']),
      );
      expect([...actionsOn(fn, recordingsArn)]).toContain('dynamodb:GetItem');
      expect(actionsOn(fn, recordingsArn).has('dynamodb:PutItem')).toBe(false);

      const allowed = [
        deliveriesArn,
        webhooksArn,
        recordingsArn,
        arnOf(retries.queue),
        arnOf(retries.deadLetters.queue),
        arnOf(source.queue),
      ];
      for (const statement of statementsOf(fn)) {
        for (const resource of asArray(statement.Resource)) {
          expect(allowed.some((arn) => same(arn, resource)), JSON.stringify(statement)).toBe(true);
        }
        for (const action of asArray(statement.Action)) {
          expect(action === '*' || action.endsWith(':*'), action).toBe(false);
        }
      }
    }
  });

  it('lets the API schedule replays on the retry queue and write deliveries, not send to the DLQ', () => {
    const api = stack.httpApi.function;
    const retries = stack.eventBus.queues.webhookRetries;
    expect([...actionsOn(api, arnOf(retries.queue))]).toContain('sqs:SendMessage');
    expect(actionsOn(api, arnOf(retries.deadLetters.queue)).size).toBe(0);
    expect([...actionsOn(api, stack.resolve(stack.webhookStores.deliveriesTable.tableArn))]).toEqual(
      expect.arrayContaining(DELIVERY_WRITES),
    );
    expect([...actionsOn(api, stack.resolve(stack.webhookStores.feedTable.tableArn))]).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem']),
    );
  });

  it.each(['webhookEvents', 'webhookRetries'] as const)(
    'queue %s redrives to a dead-letter queue that raises an alarm',
    (key) => {
      const workQueue = stack.eventBus.queues[key];
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: QUEUES[key].visibilityTimeoutSeconds,
        RedrivePolicy: {
          deadLetterTargetArn: arnOf(workQueue.deadLetters.queue),
          maxReceiveCount: QUEUES[key].maxReceiveCount,
        },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: stack.resolve(workQueue.deadLetters.queue.queueName) }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
    },
  );

  it('routes every integration event to the webhookEvents queue (route webhook-dispatch)', () => {
    const route = ROUTES.find((r) => r.name === 'webhook-dispatch');
    expect(route?.queue).toBe('webhookEvents');
    expect([...route!.eventTypes]).toEqual([...INTEGRATION_EVENT_TYPES]);
    const eventsQueue = stack.eventBus.queues.webhookEvents.queue;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: stack.resolve(stack.eventBus.bus.eventBusName),
      EventPattern: Match.exact({ source: [EVENT_SOURCE], 'detail-type': [...INTEGRATION_EVENT_TYPES] }),
      Targets: [
        Match.objectLike({
          Arn: arnOf(eventsQueue),
          DeadLetterConfig: { Arn: arnOf(stack.eventBus.deliveryFailures.queue) },
        }),
      ],
    });
    // EventBridge may send to the queue, for this rule only.
    const rule = stack.eventBus.node.findChild('webhook-dispatch') as events.Rule;
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(eventsQueue.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(rule.ruleArn) } },
          }),
        ]),
      },
    });
  });
});
