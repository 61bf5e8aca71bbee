/**
 * One EventBridge rule per entry of TASK_ROUTES (shared/topology.ts), each with an ECS
 * RunTask target: the route's pattern (placeholders bound to this stack's resources) on the
 * bus it names, and container overrides that set the route's environment from the event
 * (`EventField.fromPath`, an input transformer). The local runtime dispatches the same table
 * (local/task-runner.ts).
 *
 * Delivery: EventBridge retries a failed RunTask call (throttling, API errors) for up to
 * `maxEventAge`, then puts the event in an alarmed dead-letter queue. A task that starts and
 * then fails is the job's business: it records the failure in the recording's stream.
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { EventPattern } from '../../shared/integration/event-pattern.ts';
import { bindPattern, TASK_ROUTES, type PatternBindings, type TaskKey } from '../../shared/topology.ts';
import { DeadLetterQueue } from './queues.ts';

/** Topology patterns use EventBridge's JSON keys; CDK spells `detail-type` as `detailType`. */
export function cdkEventPattern(pattern: EventPattern): events.EventPattern {
  const { 'detail-type': detailType, ...rest } = pattern as Record<string, unknown>;
  return { ...rest, ...(detailType !== undefined ? { detailType } : {}) } as events.EventPattern;
}

export interface TaskTarget {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly containerName: string;
}

export interface TaskRoutesProps {
  readonly cluster: ecs.ICluster;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The Capstan bus (`bus: 'capstan'` routes); `default` routes go on the account's default bus. */
  readonly capstanBus: events.IEventBus;
  readonly bindings: PatternBindings;
  readonly tasks: Readonly<Record<TaskKey, TaskTarget>>;
}

export class TaskRoutes extends Construct {
  readonly rules: Readonly<Record<string, events.Rule>>;
  /** Events EventBridge could not start a task for after its retries. */
  readonly deliveryFailures: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: TaskRoutesProps) {
    super(scope, id);
    this.deliveryFailures = new DeadLetterQueue(this, 'DeliveryFailures', {
      alarmDescription: 'EventBridge could not start an ECS task (RunTask) for an event',
    });
    const rules: Record<string, events.Rule> = {};
    for (const route of TASK_ROUTES) {
      const task = props.tasks[route.task];
      rules[route.name] = new events.Rule(this, route.name, {
        ...(route.bus === 'capstan' ? { eventBus: props.capstanBus } : {}),
        description: route.description,
        eventPattern: cdkEventPattern(bindPattern(route.eventPattern, props.bindings)),
        targets: [
          new targets.EcsTask({
            cluster: props.cluster,
            taskDefinition: task.taskDefinition,
            launchType: ecs.LaunchType.FARGATE,
            subnetSelection: props.subnets,
            // Public subnets without a NAT gateway: the task needs a public IP to reach AWS APIs.
            assignPublicIp: true,
            securityGroups: [props.securityGroup],
            containerOverrides: [
              {
                containerName: task.containerName,
                environment: Object.entries(route.env).map(([name, path]) => ({ name, value: events.EventField.fromPath(path) })),
              },
            ],
            deadLetterQueue: this.deliveryFailures.queue,
            retryAttempts: 20,
            maxEventAge: Duration.hours(2),
          }),
        ],
      });
    }
    this.rules = rules;
  }
}
