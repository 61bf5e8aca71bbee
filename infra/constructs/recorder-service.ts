/**
 * The recorder as a Fargate service: long-running tasks on the compute cluster that take
 * `recording.requested` (rtp) jobs from the recorder-jobs queue and receive RTP/RTCP over UDP
 * on their own public IPs (no load balancer: docs/cloud.md, "How UDP reaches recorder tasks").
 *
 * - Image: the compositor's asset (recorder-task/Dockerfile, same build options, so one image),
 *   running `recorder-task/main.ts` instead.
 * - Reachability: each task sits in a public subnet with a public IP; its security group admits
 *   the recorder's UDP port range from the SFUs' CIDRs and the health/metrics port from inside
 *   the VPC only. The task learns its own public IP at startup
 *   (`CAPSTAN_RECORDER_PUBLIC_HOST=discover`, recorder-task/public-host.ts) and advertises it
 *   as `ingest.host`.
 * - Stopping: SIGTERM finishes and uploads every open recording, so the container gets
 *   Fargate's longest stop timeout (120 s) and the recorder forces its own exit 10 s before it;
 *   deployments start new tasks before stopping old ones (minHealthyPercent 100).
 * - Protection: a task holds ECS task scale-in protection while it records, so a deployment or
 *   a scale-in waits for its recordings to end instead of cutting them short.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantMediaAndAppend } from './task-grants.ts';
import { QUEUES } from '../../shared/topology.ts';
import { RecorderConfigSchema, type RecorderConfig } from '../../recorder-task/config.ts';
import { DISCOVER_PUBLIC_HOST } from '../../recorder-task/public-host.ts';
import { REPO_ROOT } from '../paths.ts';
import type { ResourceEnvironment } from './environment.ts';

/** The recorder's own defaults (recorder-task/config.ts), so the stack and the process agree. */
const DEFAULT_PORT_RANGE = RecorderConfigSchema.shape.CAPSTAN_RECORDER_PORT_RANGE.parse(undefined);
const DEFAULT_HTTP_PORT = RecorderConfigSchema.shape.CAPSTAN_RECORDER_HTTP_PORT.parse(undefined);

/** Fargate's longest stop timeout: SIGTERM → SIGKILL. */
const STOP_TIMEOUT = Duration.seconds(120);
/** The recorder's forced exit, before the SIGKILL so the exit is logged and clean. */
const GRACEFUL_STOP_SECONDS = 110;

/** Only the recorder's settings may be set, and only as strings (the container environment). */
type RecorderEnvironment = Partial<Record<keyof RecorderConfig, string>>;

export interface RecorderServiceProps {
  readonly environment: ResourceEnvironment;
  readonly cluster: ecs.ICluster;
  /** Public subnets: tasks get `assignPublicIp`. */
  readonly subnets: ec2.SubnetSelection;
  /** The recorder-jobs work queue (consumed; its visibility is the recording's lease). */
  readonly queue: sqs.IQueue;
  readonly bucket: s3.IBucket;
  readonly eventsTable: dynamodb.ITableV2;
  /** Running tasks. Default 1. */
  readonly desiredCount?: number;
  /**
   * IPv4 CIDRs allowed to send RTP/RTCP. Default `0.0.0.0/0` (SFUs anywhere: the recorder
   * only records SSRCs registered on a claimed recording, and counts everything else);
   * narrow it to the SFUs' egress addresses when they are known.
   */
  readonly rtpSourceCidrs?: readonly string[];
  /** UDP ports handed out in pairs (RTP even, RTCP odd). Default the recorder's, 40000–40999. */
  readonly portRange?: readonly [first: number, last: number];
  /** Task size. Default 1 vCPU, 2 GiB (one busy core receives ~180 k packets/s). */
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
}

export class RecorderService extends Construct {
  static readonly CONTAINER_NAME = 'recorder';
  static readonly COMMAND = ['node', '--import', 'tsx', 'recorder-task/main.ts'] as const;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  readonly portRange: readonly [number, number];
  readonly httpPort: number = DEFAULT_HTTP_PORT;

  constructor(scope: Construct, id: string, props: RecorderServiceProps) {
    super(scope, id);
    const [first, last] = (this.portRange = props.portRange ?? DEFAULT_PORT_RANGE);
    if (!(first >= 1024 && last <= 65535 && last > first)) throw new Error(`recorder port range ${first}-${last} is not within 1024-65535`);
    const vpc = props.cluster.vpc;

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });

    const environment: RecorderEnvironment = {
      ...props.environment,
      AWS_REGION: Stack.of(this).region,
      CAPSTAN_RECORDER_QUEUE_URL: props.queue.queueUrl,
      CAPSTAN_RECORDER_LEASE_SECONDS: String(QUEUES.recorderJobs.visibilityTimeoutSeconds),
      CAPSTAN_RECORDER_PORT_RANGE: `${first}-${last}`,
      // awsvpc: the task's own interface; the security group is the filter.
      CAPSTAN_RECORDER_BIND_HOST: '0.0.0.0',
      CAPSTAN_RECORDER_PUBLIC_HOST: DISCOVER_PUBLIC_HOST,
      CAPSTAN_RECORDER_HTTP_HOST: '0.0.0.0',
      CAPSTAN_RECORDER_HTTP_PORT: String(this.httpPort),
      CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS: String(GRACEFUL_STOP_SECONDS),
      // The image runs as `node` with a root-owned /app: scratch lives on ephemeral /tmp.
      CAPSTAN_RECORDER_SPILL_DIR: '/tmp/capstan/recorder-spill',
      CAPSTAN_RECORDER_WORK_DIR: '/tmp/capstan/recorder-work',
    };
    this.container = this.taskDefinition.addContainer(RecorderService.CONTAINER_NAME, {
      // Same directory, Dockerfile and platform as the compositor: the same asset hash, so
      // the assembly stages (and `cdk deploy` builds) one image.
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'recorder-task/Dockerfile', platform: ecrAssets.Platform.LINUX_AMD64 }),
      command: [...RecorderService.COMMAND],
      environment: environment as Record<string, string>,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'recorder' }),
      essential: true,
      stopTimeout: STOP_TIMEOUT,
      // UDP needs no port mapping in awsvpc mode (the security group is the filter); the
      // health port is declared for tooling that discovers ports.
      portMappings: [{ containerPort: this.httpPort, protocol: ecs.Protocol.TCP }],
      // The image has no curl: Node's fetch. /health answers 200 while the process serves.
      healthCheck: {
        command: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${this.httpPort}/health').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Capstan recorder tasks: RTP/RTCP over UDP from SFUs, health/metrics from the VPC',
      allowAllOutbound: true,
    });
    for (const cidr of props.rtpSourceCidrs ?? ['0.0.0.0/0']) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udpRange(first, last), `RTP/RTCP from ${cidr}`);
    }
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(this.httpPort), 'recorder /health and /metrics from inside the VPC');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 1,
      assignPublicIp: true,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      // A deployment starts the new tasks first; old ones then get SIGTERM and finish their
      // recordings within the stop timeout. A deployment that cannot start rolls back.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      // Rebalancing across AZs would stop running tasks, and their recordings, for no reason.
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.DISABLED,
    });

    // Least privilege for capture and finalization: list and read segments back, write
    // segments, tracks and the manifest (PutObject; no delete); read the recording's stream and
    // append to it (events are never updated or deleted); take jobs and renew their leases.
    const role = this.taskDefinition.taskRole;
    grantMediaAndAppend(role, props.bucket, props.eventsTable);
    props.queue.grantConsumeMessages(role);
    // Task scale-in protection while recording (recorder-task/task-protection.ts): the ECS agent
    // calls these with the task role, for the task itself, so only this cluster's tasks.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${props.cluster.clusterName}/*` })],
      }),
    );
  }
}
