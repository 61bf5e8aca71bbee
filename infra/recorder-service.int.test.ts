/**
 * Intent tests for the recorder's Fargate service: UDP reaches each task on its public IP
 * through its security group, a stop finishes recordings, and the task role holds only what
 * capture and finalization need. Resources are found through the constructs
 * (`stack.resolve`), never through hashed logical ids.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecorderConfigSchema, readRecorderConfig } from '../recorder-task/config.ts';
import { QUEUES } from '../shared/topology.ts';
import { ComputeCluster } from './constructs/compute-cluster.ts';
import type { ResourceEnvironment } from './constructs/environment.ts';
import { RecorderService } from './constructs/recorder-service.ts';
import { CapstanStack } from './stacks/capstan-stack.ts';
import { appWithCdkContext, asArray, resolvedResourceNames, type PolicyStatement, type Resources } from './testing/assertions.ts';

interface ContainerDefinition {
  readonly Name: string;
  readonly Image: unknown;
  readonly Command: string[];
  readonly StopTimeout?: number;
  readonly Environment: { Name: string; Value: unknown }[];
  readonly HealthCheck?: { Command: string[] };
}

const json = (value: unknown) => JSON.stringify(value);

/** The container definitions of the service's task definition (found by its task role). */
function containersOf(template: Template, stack: Stack, service: RecorderService): ContainerDefinition[] {
  const definitions = template.findResources('AWS::ECS::TaskDefinition', {
    Properties: { TaskRoleArn: stack.resolve(service.taskDefinition.taskRole.roleArn) },
  }) as Resources;
  const [definition, ...others] = Object.values(definitions);
  expect(others).toHaveLength(0);
  return definition?.Properties?.['ContainerDefinitions'] as ContainerDefinition[];
}

function ingressOf(template: Template, stack: Stack, securityGroup: ec2.SecurityGroup): Record<string, unknown>[] {
  const logicalId = stack.getLogicalId(securityGroup.node.defaultChild as never);
  const resources = template.toJSON() as { Resources: Resources };
  return (resources.Resources[logicalId]?.Properties?.['SecurityGroupIngress'] ?? []) as Record<string, unknown>[];
}

describe('RecorderService in the Capstan stack', { timeout: 120_000 }, () => {
  let stack: CapstanStack;
  let template: Template;
  let recorder: RecorderService;

  beforeAll(() => {
    stack = new CapstanStack(appWithCdkContext(), 'Capstan');
    template = Template.fromStack(stack);
    recorder = stack.recorder;
  }, 120_000);

  function statementsOfTaskRole(): PolicyStatement[] {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([stack.resolve(recorder.taskDefinition.taskRole.roleName)]) },
    }) as Resources;
    return Object.values(policies).flatMap((p) => (p.Properties?.['PolicyDocument'] as { Statement: PolicyStatement[] }).Statement);
  }

  it('runs one Fargate task by default, with a public IP in the public subnets, behind its own security group', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      Cluster: stack.resolve(stack.compute.cluster.clusterName),
      TaskDefinition: stack.resolve(recorder.taskDefinition.taskDefinitionArn),
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'ENABLED',
          SecurityGroups: [stack.resolve(recorder.securityGroup.securityGroupId)],
          Subnets: stack.resolve(stack.compute.vpc.publicSubnets.map((subnet) => subnet.subnetId)),
        },
      },
    });
  });

  it('deploys new tasks before stopping old ones, rolls back a failed deployment, never rebalances running tasks', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      TaskDefinition: stack.resolve(recorder.taskDefinition.taskDefinitionArn),
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
      AvailabilityZoneRebalancing: 'DISABLED',
    });
  });

  it('admits the RTP/RTCP port range over UDP from anywhere and the health port from the VPC only', () => {
    const [first, last] = RecorderConfigSchema.shape.CAPSTAN_RECORDER_PORT_RANGE.parse(undefined);
    const ingress = ingressOf(template, stack, recorder.securityGroup);
    expect(ingress).toHaveLength(2);
    expect(ingress).toContainEqual(expect.objectContaining({ IpProtocol: 'udp', FromPort: first, ToPort: last, CidrIp: '0.0.0.0/0' }));
    expect(ingress).toContainEqual(
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 9464, ToPort: 9464, CidrIp: stack.resolve(stack.compute.vpc.vpcCidrBlock) }),
    );
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('recorder'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })],
    });
  });

  it('runs recorder-task/main.ts from the compositor image, with 120 s to finish recordings on SIGTERM and a health check', () => {
    const [container, ...sidecars] = containersOf(template, stack, recorder);
    expect(sidecars).toHaveLength(0);
    expect(container?.Name).toBe('recorder');
    expect(container?.Command).toEqual(['node', '--import', 'tsx', 'recorder-task/main.ts']);
    expect(container?.StopTimeout).toBe(120);
    const forcedExit = Number(container?.Environment.find((e) => e.Name === 'CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS')?.Value);
    expect(forcedExit).toBeGreaterThan(30);
    expect(forcedExit).toBeLessThan(120);
    expect(container?.HealthCheck?.Command.join(' ')).toContain('127.0.0.1:9464/health');

    const compositorDefinition = stack.resolve(stack.compositor.taskDefinition.taskDefinitionArn) as { Ref: string };
    const compositor = (template.toJSON() as { Resources: Resources }).Resources[compositorDefinition.Ref]?.Properties?.['ContainerDefinitions'] as ContainerDefinition[];
    expect(json(container?.Image)).toBe(json(compositor[0]?.Image));
  });

  it('sets the resource names, the jobs queue and the cloud settings the recorder reads, and nothing it does not read', () => {
    const [container] = containersOf(template, stack, recorder);
    const environment = Object.fromEntries(container!.Environment.map(({ Name, Value }) => [Name, Value]));
    expect(environment).toMatchObject({
      ...resolvedResourceNames(stack),
      AWS_REGION: { Ref: 'AWS::Region' },
      CAPSTAN_RECORDER_QUEUE_URL: stack.resolve(stack.eventBus.queues.recorderJobs.queue.queueUrl),
      CAPSTAN_RECORDER_LEASE_SECONDS: String(QUEUES.recorderJobs.visibilityTimeoutSeconds),
      CAPSTAN_RECORDER_PORT_RANGE: '40000-40999',
      CAPSTAN_RECORDER_BIND_HOST: '0.0.0.0',
      CAPSTAN_RECORDER_PUBLIC_HOST: 'discover',
      CAPSTAN_RECORDER_HTTP_HOST: '0.0.0.0',
      CAPSTAN_RECORDER_HTTP_PORT: '9464',
    });
    // Every name is a setting of recorder-task/config.ts (a typo would silently be ignored).
    const known = new Set(Object.keys(RecorderConfigSchema.shape));
    for (const name of Object.keys(environment)) expect(known, name).toContain(name);
    // The literal values pass the recorder's own validation.
    const literals = Object.fromEntries(Object.entries(environment).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    expect(() => readRecorderConfig(literals)).not.toThrow();
  });

  it('logs to its own log group with a retention', () => {
    const [container] = containersOf(template, stack, recorder) as unknown as { LogConfiguration: { LogDriver: string; Options: Record<string, unknown> } }[];
    expect(container?.LogConfiguration.LogDriver).toBe('awslogs');
    expect(container?.LogConfiguration.Options['awslogs-group']).toEqual(stack.resolve(recorder.logGroup.logGroupName));
    const logicalId = stack.getLogicalId(recorder.logGroup.node.defaultChild as never);
    expect((template.toJSON() as { Resources: Resources }).Resources[logicalId]?.Properties?.['RetentionInDays']).toBe(30);
  });

  it('grants the task role the queue lease, the media bucket and the event store: named resources only, no delete', () => {
    const statements = statementsOfTaskRole();
    const queueArn = stack.resolve(stack.eventBus.queues.recorderJobs.queue.queueArn);
    const bucketArn = stack.resolve(stack.media.bucket.bucketArn);
    const objectsArn = stack.resolve(stack.media.bucket.arnForObjects('*'));
    const eventsArn = stack.resolve(stack.eventStore.table.tableArn);
    const actionsOn = (arn: unknown) =>
      new Set(statements.filter((s) => asArray(s.Resource).some((r) => json(r) === json(arn))).flatMap((s) => asArray(s.Action)));

    expect([...actionsOn(queueArn)]).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']));
    expect(actionsOn(queueArn).has('sqs:SendMessage')).toBe(false);
    expect(actionsOn(queueArn).has('sqs:PurgeQueue')).toBe(false);
    expect([...actionsOn(objectsArn)]).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 's3:AbortMultipartUpload']));
    expect([...actionsOn(bucketArn)]).toEqual(expect.arrayContaining(['s3:List*']));
    expect([...actionsOn(eventsArn)]).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem']));

    const protection = statements.find((s) => asArray(s.Action).includes('ecs:UpdateTaskProtection'))!;
    const allowed = [queueArn, bucketArn, objectsArn, eventsArn, protection.Resource].map(json);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Resource, json(statement)).toBeDefined();
      for (const resource of asArray(statement.Resource)) {
        expect(resource, json(statement)).not.toBe('*');
        expect(allowed, json(statement)).toContain(json(resource));
      }
      for (const action of asArray(statement.Action)) {
        expect(action === '*' || action.endsWith(':*'), action).toBe(false);
        expect(/^s3:(Delete|PutBucket|PutObjectAcl|PutObjectLegalHold|PutObjectRetention)/.test(action), action).toBe(false);
        expect(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'], action).not.toContain(action);
      }
    }
  });

  it('lets a task set its own scale-in protection, on this cluster’s tasks only', () => {
    const statements = statementsOfTaskRole().filter((s) => asArray(s.Action).some((a) => a.startsWith('ecs:')));
    expect(statements).toHaveLength(1);
    expect([...asArray(statements[0]!.Action)].sort()).toEqual(['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection']);
    const resource = json(statements[0]!.Resource);
    expect(resource).toContain(':task/');
    expect(resource).toContain(json(stack.resolve(stack.compute.cluster.clusterName)));
    expect(resource.endsWith('/*"]]}')).toBe(true);
  });
});

describe('RecorderService options', { timeout: 120_000 }, () => {
  const NAMES: ResourceEnvironment = {
    CAPSTAN_EVENTS_TABLE: 'events',
    CAPSTAN_RECORDINGS_TABLE: 'recordings',
    CAPSTAN_API_KEYS_TABLE: 'api-keys',
    CAPSTAN_IDEMPOTENCY_TABLE: 'idempotency',
    CAPSTAN_FEED_TABLE: 'feed',
    CAPSTAN_WEBHOOKS_TABLE: 'webhooks',
    CAPSTAN_DELIVERIES_TABLE: 'deliveries',
    CAPSTAN_BUCKET: 'media',
    CAPSTAN_EVENT_BUS_NAME: 'bus',
  };
  let stack: Stack;
  let template: Template;
  let recorder: RecorderService;

  beforeAll(() => {
    stack = new Stack(appWithCdkContext(), 'RecorderOptions');
    const compute = new ComputeCluster(stack, 'Compute');
    recorder = new RecorderService(stack, 'Recorder', {
      environment: NAMES,
      cluster: compute.cluster,
      subnets: compute.taskSubnets,
      queue: new sqs.Queue(stack, 'Jobs'),
      bucket: new s3.Bucket(stack, 'Media'),
      eventsTable: new dynamodb.TableV2(stack, 'Events', { partitionKey: { name: 'stream_id', type: dynamodb.AttributeType.STRING } }),
      desiredCount: 3,
      rtpSourceCidrs: ['198.51.100.0/24', '203.0.113.10/32'],
      portRange: [50000, 50199],
    });
    template = Template.fromStack(stack);
  }, 120_000);

  it('takes the desired count, the SFU CIDRs and the port range, and tells the recorder the same range', () => {
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    const udp = ingressOf(template, stack, recorder.securityGroup).filter((rule) => rule['IpProtocol'] === 'udp');
    expect(udp).toEqual([
      expect.objectContaining({ FromPort: 50000, ToPort: 50199, CidrIp: '198.51.100.0/24' }),
      expect.objectContaining({ FromPort: 50000, ToPort: 50199, CidrIp: '203.0.113.10/32' }),
    ]);
    const [container] = containersOf(template, stack, recorder);
    expect(container?.Environment).toContainEqual({ Name: 'CAPSTAN_RECORDER_PORT_RANGE', Value: '50000-50199' });
  });

  it('refuses a port range the recorder would refuse', () => {
    const other = new Stack(appWithCdkContext(), 'BadRange');
    const compute = new ComputeCluster(other, 'Compute');
    expect(
      () =>
        new RecorderService(other, 'Recorder', {
          environment: NAMES,
          cluster: compute.cluster,
          subnets: compute.taskSubnets,
          queue: new sqs.Queue(other, 'Jobs'),
          bucket: new s3.Bucket(other, 'Media'),
          eventsTable: new dynamodb.TableV2(other, 'Events', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } }),
          portRange: [80, 90],
        }),
    ).toThrow(/port range 80-90/);
  });
});
