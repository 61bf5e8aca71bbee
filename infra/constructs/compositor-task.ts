/**
 * The compositor as a Fargate task definition: one container from `recorder-task/Dockerfile`
 * (Node 22 + Debian's ffmpeg), sized by `TASKS.compositor` in shared/topology.ts, running
 * the same command the local runtime spawns. Started per event by the task routes
 * (task-routes.ts); the trigger arrives as container environment overrides.
 *
 * The image is a CDK asset: `cdk synth` only stages the build context (the repository root,
 * filtered by the allow-list in /.dockerignore) into cdk.out, without Docker; the image is
 * built and pushed to the bootstrap ECR repository by `cdk deploy`, which needs Docker.
 * x86_64: the deploying machine usually is, so the build needs no emulation.
 */
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { grantMediaAndAppend } from './task-grants.ts';
import { TASKS } from '../../shared/topology.ts';
import { REPO_ROOT } from '../paths.ts';
import type { ResourceEnvironment } from './environment.ts';

export interface CompositorTaskProps {
  readonly environment: ResourceEnvironment;
  readonly bucket: s3.IBucket;
  readonly eventsTable: dynamodb.ITableV2;
  readonly recordingsTable: dynamodb.ITableV2;
}

export class CompositorTask extends Construct {
  static readonly CONTAINER_NAME = 'compositor';
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CompositorTaskProps) {
    super(scope, id);
    const spec = TASKS.compositor;
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: spec.cpu,
      memoryLimitMiB: spec.memoryMiB,
      ephemeralStorageGiB: spec.ephemeralStorageGiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    this.container = this.taskDefinition.addContainer(CompositorTask.CONTAINER_NAME, {
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'recorder-task/Dockerfile', platform: ecrAssets.Platform.LINUX_AMD64 }),
      command: [...spec.command],
      environment: { ...props.environment },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'compositor' }),
      essential: true,
    });

    // Least privilege for the job: read the manifest and tracks, write outputs (PutObject,
    // which also covers multipart uploads; no delete, tagging or object-lock actions); read the
    // recording's stream and append to it (events are never updated or deleted); read the
    // read model.
    const role = this.taskDefinition.taskRole;
    grantMediaAndAppend(role, props.bucket, props.eventsTable);
    props.recordingsTable.grantReadData(role);
  }
}
