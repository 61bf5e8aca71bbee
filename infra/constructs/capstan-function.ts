/**
 * One place for the Lambda defaults every Capstan function shares: Node.js 22 on arm64,
 * bundled by the local esbuild (no Docker) into one ESM file, with its own log group.
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REPO_ROOT, handlerEntry } from '../paths.ts';
import type { ResourceEnvironment } from './environment.ts';

/** Lets bundled CommonJS dependencies call `require` inside an ESM bundle. */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface CapstanFunctionProps {
  /** Folder under `functions/` holding `handler.ts`, e.g. `api`. */
  readonly handlerName: string;
  readonly description: string;
  readonly environment: ResourceEnvironment;
  /** Variables only some functions need (queue URLs), beside the resource names all get. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  readonly memorySizeMb?: number;
  readonly timeout?: Duration;
}

export function capstanFunction(
  scope: Construct,
  id: string,
  props: CapstanFunctionProps,
): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
  });
  return new NodejsFunction(scope, id, {
    entry: handlerEntry(props.handlerName),
    handler: 'handler',
    description: props.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySizeMb ?? 256,
    timeout: props.timeout ?? Duration.seconds(10),
    logGroup,
    environment: { ...props.environment, ...props.extraEnvironment, NODE_OPTIONS: '--enable-source-maps' },
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: ESM_REQUIRE_BANNER,
      minify: true,
      sourceMap: true,
      // Bundle the pinned @aws-sdk v3 clients instead of using the runtime's copy, so the
      // cloud runs the SDK versions the tests ran.
      externalModules: [],
    },
  });
}
