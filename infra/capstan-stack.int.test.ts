/**
 * Intent tests for the synthesized Capstan stack: the properties that keep events from
 * being lost or over-privileged. Resources are found through the constructs
 * (`stack.resolve`), never through hashed logical ids.
 */
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SOURCE } from '../shared/integration/event-types.ts';
import { TABLES, EVENTS_TABLE, type TableShape } from '../shared/tables.ts';
import { bindPattern, QUEUES, ROUTES, TASK_ROUTES, TASKS, type QueueKey } from '../shared/topology.ts';
import type { CapstanStack } from './stacks/capstan-stack.ts';
import { asArray, iamStatements, resolvedResourceNames, synthesizeCapstan, type PolicyDocument, type PolicyStatement, type Resources } from './testing/assertions.ts';

function keySchema(shape: TableShape): unknown[] {
  return [
    { AttributeName: shape.partitionKey.name, KeyType: 'HASH' },
    ...(shape.sortKey ? [{ AttributeName: shape.sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

describe('CapstanStack', { timeout: 120_000 }, () => {
  let stack: CapstanStack;
  let template: Template;

  beforeAll(() => {
    stack = synthesizeCapstan();
    template = Template.fromStack(stack);
  }, 120_000);

  const arnOf = (queue: IQueue): unknown => stack.resolve(queue.queueArn);
  const refOf = (fn: IFunction): unknown => stack.resolve(fn.functionName);

  const statementsOf = (fn: IFunction): PolicyStatement[] => iamStatements(template, stack).ofFunction(fn);
  const statementsOfRole = (role: IRole): PolicyStatement[] => iamStatements(template, stack).ofRole(role);

  it('builds every table from its shared shape: on-demand, PITR on', () => {
    for (const shape of TABLES) {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: keySchema(shape),
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
        TimeToLiveSpecification: shape.timeToLiveAttribute
          ? { AttributeName: shape.timeToLiveAttribute, Enabled: true }
          : Match.absent(),
      });
    }
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', TABLES.length);
  });

  it('keeps the event store: (stream_id S, version N), NEW_IMAGE stream, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'stream_id', KeyType: 'HASH' },
          { AttributeName: 'version', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'stream_id', AttributeType: 'S' },
          { AttributeName: 'version', AttributeType: 'N' },
        ]),
        StreamSpecification: { StreamViewType: EVENTS_TABLE.stream },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('reads the stream with bisection, bounded retries and an alarmed failure queue', () => {
    const retries = new Capture();
    const maxAge = new Capture();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: refOf(stack.publisher.function),
      EventSourceArn: stack.resolve(stack.eventStore.table.tableStreamArn),
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: retries,
      MaximumRecordAgeInSeconds: maxAge,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: arnOf(stack.publisher.failures.queue) },
      },
    });
    expect(retries.asNumber()).toBeGreaterThanOrEqual(0);
    expect(retries.asNumber()).toBeLessThanOrEqual(100);
    // -1 would mean "until the record expires", blocking the shard for up to 24 h.
    expect(maxAge.asNumber()).toBeGreaterThan(0);
    expect(maxAge.asNumber()).toBeLessThan(24 * 3600);
  });

  it.each(ROUTES.map((route) => [route.name, route] as const))(
    'route %s becomes a rule on the custom bus targeting its queue',
    (_name, route) => {
      const pattern: Record<string, unknown> = {
        source: [EVENT_SOURCE],
        'detail-type': [...route.eventTypes],
      };
      if (route.sourceTypes) pattern['detail'] = { source_type: [...route.sourceTypes] };
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: stack.resolve(stack.eventBus.bus.eventBusName),
        EventPattern: Match.exact(pattern),
        Targets: [
          Match.objectLike({
            Arn: arnOf(stack.eventBus.queues[route.queue].queue),
            DeadLetterConfig: { Arn: arnOf(stack.eventBus.deliveryFailures.queue) },
          }),
        ],
      });
    },
  );

  it('has exactly one rule per route and per task route', () => {
    template.resourceCountIs('AWS::Events::Rule', ROUTES.length + TASK_ROUTES.length);
  });

  it.each(Object.keys(QUEUES) as QueueKey[])(
    'queue %s redrives to a dead-letter queue with the topology settings',
    (key) => {
      const workQueue = stack.eventBus.queues[key];
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: QUEUES[key].visibilityTimeoutSeconds,
        RedrivePolicy: {
          deadLetterTargetArn: arnOf(workQueue.deadLetters.queue),
          maxReceiveCount: QUEUES[key].maxReceiveCount,
        },
      });
    },
  );

  it('every queue is either a redriving work queue or an alarmed dead-letter queue', () => {
    const queues = template.findResources('AWS::SQS::Queue') as Resources;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources);
    for (const [logicalId, queue] of Object.entries(queues)) {
      if (queue.Properties?.['RedrivePolicy'] !== undefined) continue;
      const alarmed = alarms.some((alarm) => {
        const p = alarm.Properties ?? {};
        return (
          p['Namespace'] === 'AWS/SQS' &&
          p['MetricName'] === 'ApproximateNumberOfMessagesVisible' &&
          p['Threshold'] === 1 &&
          p['ComparisonOperator'] === 'GreaterThanOrEqualToThreshold' &&
          JSON.stringify(p['Dimensions']) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId, 'QueueName'] } }])
        );
      });
      expect(alarmed, `dead-letter queue ${logicalId} has an alarm`).toBe(true);
    }
  });

  it('runs our functions on nodejs22.x arm64 with the resource names in the environment', () => {
    // CDK's own custom-resource providers (the VPC's default-security-group restriction) pick
    // their runtime themselves; they are not Capstan code.
    const all = Object.entries(template.findResources('AWS::Lambda::Function') as Resources)
      .filter(([logicalId]) => !/^Custom.*CustomResourceProviderHandler[0-9A-F]{8}$/.test(logicalId))
      .map(([, fn]) => fn);
    for (const fn of all) {
      const runtime = fn.Properties?.['Runtime'];
      if (typeof runtime === 'string' && runtime.startsWith('nodejs')) expect(runtime).toBe('nodejs22.x');
    }
    const environment = resolvedResourceNames(stack);
    for (const fn of [stack.httpApi.function, stack.publisher.function, stack.mediaCleanup.function]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(fn.role?.roleArn),
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Environment: { Variables: Match.objectLike(environment) },
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
    }
  });

  it('gives the publisher the API endpoint as the base of artifact file_urls', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.publisher.function.role?.roleArn),
      Environment: { Variables: Match.objectLike({ CAPSTAN_PUBLIC_URL: stack.resolve(stack.httpApi.api.apiEndpoint) }) },
    });
  });

  it('lets the publisher put events on the bus ARN only', () => {
    const statements = statementsOf(stack.publisher.function);
    const putEvents = statements.filter((s) => asArray(s.Action).includes('events:PutEvents'));
    expect(putEvents.length).toBeGreaterThan(0);
    for (const statement of putEvents) {
      expect(statement.Resource).toEqual(stack.resolve(stack.eventBus.bus.eventBusArn));
    }
  });

  it('grants no IAM statement on Resource "*" or a whole-service action', () => {
    // One exclusion: ecr:GetAuthorizationToken has no resource-level permissions in IAM, so
    // each task definition's execution role (the compositor's and the recorder's, which pull
    // their image) must have it on "*"; the pull itself (BatchGetImage, …) is scoped to the
    // assets repository. Otherwise: in aws-cdk-lib
    // 2.276 CDK's own BucketNotifications handler policy is scoped to the bucket ARN, TableV2
    // scopes dynamodb:ListStreams to the stream ARN, and explicit log groups avoid the
    // LogRetention provider. Should a CDK-internal policy ever need "*", exclude it here by
    // name, with the reason.
    const executionRoleRefs = [stack.compositor.taskDefinition, stack.recorder.taskDefinition].map((definition) => {
      if (!definition.executionRole) throw new Error(`${definition.node.path} has no execution role`);
      return JSON.stringify(stack.resolve(definition.executionRole.roleName));
    });
    const isTokenGrant = (statement: PolicyStatement) =>
      statement.Effect === 'Allow' && statement.Action === 'ecr:GetAuthorizationToken' && statement.Resource === '*';
    const documents: PolicyDocument[] = [];
    let tokenGrants = 0;
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy') as Resources)) {
      const document = policy.Properties?.['PolicyDocument'] as PolicyDocument;
      const roles = (policy.Properties?.['Roles'] ?? []) as unknown[];
      if (roles.length === 1 && executionRoleRefs.includes(JSON.stringify(roles[0]))) {
        tokenGrants += document.Statement.filter(isTokenGrant).length;
        documents.push({ Statement: document.Statement.filter((statement) => !isTokenGrant(statement)) });
      } else {
        documents.push(document);
      }
    }
    expect(tokenGrants).toBe(executionRoleRefs.length);
    for (const policy of Object.values(template.findResources('AWS::IAM::ManagedPolicy') as Resources)) {
      documents.push(policy.Properties?.['PolicyDocument'] as PolicyDocument);
    }
    for (const role of Object.values(template.findResources('AWS::IAM::Role') as Resources)) {
      const inline = (role.Properties?.['Policies'] ?? []) as { PolicyDocument: PolicyDocument }[];
      documents.push(...inline.map((p) => p.PolicyDocument));
    }
    expect(documents.length).toBeGreaterThan(0);
    for (const statement of documents.flatMap((d) => d.Statement)) {
      if (statement.Effect !== 'Allow') continue;
      expect(statement.Resource, JSON.stringify(statement)).toBeDefined();
      expect(asArray(statement.Resource), JSON.stringify(statement)).not.toContain('*');
      for (const action of asArray(statement.Action)) {
        expect(action === '*' || action.endsWith(':*'), action).toBe(false);
      }
    }
  });

  it('serves the API through the $default route of an HTTP API', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: stack.resolve(stack.httpApi.function.functionArn),
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Role: stack.resolve(stack.httpApi.function.role?.roleArn),
    });
  });

  it('consumes the media-cleanup queue with partial batch failures', () => {
    const mediaCleanup = stack.eventBus.queues.mediaCleanup.queue;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: refOf(stack.mediaCleanup.function),
      EventSourceArn: arnOf(mediaCleanup),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const fnTimeout = stack.mediaCleanup.function.timeout?.toSeconds() ?? 3;
    expect(fnTimeout * 6).toBeLessThanOrEqual(QUEUES.mediaCleanup.visibilityTimeoutSeconds);
  });

  it('lets media cleanup list the bucket and delete objects, nothing more on S3', () => {
    const bucketArn = stack.resolve(stack.media.bucket.bucketArn);
    const objectsArn = stack.resolve(stack.media.bucket.arnForObjects('*'));
    const statements = statementsOf(stack.mediaCleanup.function);
    const s3Actions = statements.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('s3:'));
    expect(new Set(s3Actions)).toEqual(new Set(['s3:ListBucket', 's3:DeleteObject*']));
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 's3:ListBucket', Resource: expect.arrayContaining([bucketArn]) }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 's3:DeleteObject*', Resource: objectsArn }),
    );
    // And one read of the read model (the storage settings of a recording deleted mid-composition).
    const dynamo = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([expect.objectContaining({ Action: 'dynamodb:GetItem', Resource: stack.resolve(stack.readModel.recordingsTable.tableArn) })]);
  });

  it('keeps media private and tidy, with EventBridge notifications on', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: stack.resolve(stack.media.bucket.bucketName),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: stack.resolve(stack.media.bucket.bucketName),
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });
  /** The container environment a target sets: `{ NAME: '$.path' }` from its input transformer. */
  function overrideEnvironment(transformer: { InputPathsMap: Record<string, string>; InputTemplate: string }, containerName: string): Record<string, string> {
    // EventBridge substitutes `<name>` with the JSON value at the path; quote it to parse the template.
    const input = JSON.parse(transformer.InputTemplate.replace(/<([\w-]+)>/g, '"<$1>"')) as {
      containerOverrides: { name: string; environment: { name: string; value: string }[] }[];
    };
    const container = input.containerOverrides.find((c) => c.name === containerName);
    if (!container) throw new Error(`no overrides for ${containerName}`);
    return Object.fromEntries(
      container.environment.map(({ name, value }) => {
        const placeholder = /^<([\w-]+)>$/.exec(value)?.[1];
        const path = placeholder === undefined ? undefined : transformer.InputPathsMap[placeholder];
        if (path === undefined) throw new Error(`${name} is not taken from the event: ${value}`);
        return [name, path];
      }),
    );
  }

  it.each(TASK_ROUTES.map((route) => [route.name, route] as const))(
    'task route %s becomes a rule with the topology pattern that runs its Fargate task with env from the event',
    (_name, route) => {
      const transformer = new Capture();
      const pattern = stack.resolve(bindPattern(route.eventPattern, { mediaBucket: stack.media.bucket.bucketName }));
      template.hasResourceProperties('AWS::Events::Rule', {
        // S3 sends its events to the account's default bus; ours go on the Capstan bus.
        EventBusName: route.bus === 'capstan' ? stack.resolve(stack.eventBus.bus.eventBusName) : Match.absent(),
        EventPattern: Match.exact(pattern),
        Targets: [
          Match.objectLike({
            Arn: stack.resolve(stack.compute.cluster.clusterArn),
            RoleArn: Match.anyValue(),
            DeadLetterConfig: { Arn: arnOf(stack.taskRoutes.deliveryFailures.queue) },
            RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
            EcsParameters: Match.objectLike({
              LaunchType: 'FARGATE',
              TaskCount: 1,
              TaskDefinitionArn: stack.resolve(stack.compositor.taskDefinition.taskDefinitionArn),
              NetworkConfiguration: {
                AwsVpcConfiguration: {
                  AssignPublicIp: 'ENABLED',
                  SecurityGroups: [stack.resolve(stack.compute.taskSecurityGroup.securityGroupId)],
                  Subnets: stack.resolve(stack.compute.vpc.publicSubnets.map((subnet) => subnet.subnetId)),
                },
              },
            }),
            InputTransformer: transformer,
          }),
        ],
      });
      expect(overrideEnvironment(transformer.asObject() as never, 'compositor')).toEqual(route.env);
    },
  );

  it('binds the manifest rule to this stack\'s media bucket', () => {
    const manifest = TASK_ROUTES.find((route) => route.bus === 'default');
    expect(stack.resolve(bindPattern(manifest!.eventPattern, { mediaBucket: stack.media.bucket.bucketName }))).toMatchObject({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [stack.resolve(stack.media.bucket.bucketName)] }, object: { key: [{ suffix: 'manifest.json' }] } },
    });
  });

  it('lets EventBridge put undeliverable task events in the alarmed dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [stack.resolve(stack.taskRoutes.deliveryFailures.queue.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith(
          Object.values(stack.taskRoutes.rules).map((rule) =>
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(rule.ruleArn) } },
            }),
          ),
        ),
      },
    });
  });

  it('defines the compositor as a Fargate task: TASKS size and command, x86_64, resource names, logs with retention', () => {
    const logGroupId = stack.getLogicalId(stack.compositor.logGroup.node.defaultChild as never);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect((template.toJSON() as { Resources: Resources }).Resources[logGroupId]?.Properties?.['RetentionInDays']).toBe(30);
    const environment = resolvedResourceNames(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: String(TASKS.compositor.cpu),
      Memory: String(TASKS.compositor.memoryMiB),
      EphemeralStorage: { SizeInGiB: TASKS.compositor.ephemeralStorageGiB },
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      TaskRoleArn: stack.resolve(stack.compositor.taskDefinition.taskRole.roleArn),
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'compositor',
          Essential: true,
          Command: [...TASKS.compositor.command],
          Image: Match.anyValue(),
          Environment: Match.arrayWith(Object.entries(environment).map(([Name, Value]) => ({ Name, Value }))),
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: Match.objectLike({ 'awslogs-group': stack.resolve(stack.compositor.logGroup.logGroupName) }),
          },
        }),
      ],
    });
  });

  it('gives the compositor task role its grants and nothing more: no wildcard action, no delete', () => {
    const statements = statementsOfRole(stack.compositor.taskDefinition.taskRole);
    const bucketArn = stack.resolve(stack.media.bucket.bucketArn);
    const objectsArn = stack.resolve(stack.media.bucket.arnForObjects('*'));
    const eventsArn = stack.resolve(stack.eventStore.table.tableArn);
    const recordingsArn = stack.resolve(stack.readModel.recordingsTable.tableArn);
    const actionsOn = (arn: unknown) =>
      new Set(statements.filter((s) => asArray(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(arn))).flatMap((s) => asArray(s.Action)));

    expect([...actionsOn(objectsArn)]).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 's3:AbortMultipartUpload']));
    expect([...actionsOn(bucketArn)]).toEqual(expect.arrayContaining(['s3:List*']));
    expect([...actionsOn(eventsArn)]).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem']));
    expect([...actionsOn(recordingsArn)]).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem']));
    expect(actionsOn(recordingsArn).has('dynamodb:PutItem')).toBe(false);

    const all = statements.flatMap((s) => asArray(s.Action));
    for (const action of all) {
      expect(action === '*' || action.endsWith(':*'), action).toBe(false);
      expect(/^s3:(Delete|PutBucket|PutObjectAcl|PutObjectLegalHold|PutObjectRetention)/.test(action), action).toBe(false);
      expect(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'], action).not.toContain(action);
    }
    // Only the media bucket, the event store and the read model.
    const allowed = [bucketArn, objectsArn, eventsArn, recordingsArn].map((arn) => JSON.stringify(arn));
    for (const statement of statements) {
      for (const resource of asArray(statement.Resource)) expect(allowed, JSON.stringify(statement)).toContain(JSON.stringify(resource));
    }
  });

  it('runs tasks in a VPC with public subnets only, no NAT gateway, egress-only security group', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet') as Resources);
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    for (const subnet of subnets) expect(subnet.Properties?.['MapPublicIpOnLaunch']).toBe(true);
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('no inbound'),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })],
    });
    template.hasResourceProperties('AWS::ECS::Cluster', {});
  });
});
