/**
 * DynamoDB Local (AWS's own emulator, shipped as a jar in `amplify-dynamodb-simulator`) on
 * the machine's Java 17. Unlike dynalite it has transactions, TTL and Streams, which the
 * event store and the publisher need.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { boundToParent, freePort, stopChild, type RunningServer } from './child.ts';

const require = createRequire(import.meta.url);

export function dynamoDbLocalJar(): string {
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator', 'DynamoDBLocal.jar');
}

export async function startDynamoDbLocal(options: { port?: number; dataDir?: string; inMemory?: boolean; timeoutMs?: number } = {}): Promise<RunningServer> {
  const port = options.port || (await freePort());
  const jar = dynamoDbLocalJar();
  const storage = options.inMemory || options.dataDir === undefined ? ['-inMemory'] : ['-dbPath', resolve(options.dataDir)];
  if (options.dataDir !== undefined && !options.inMemory) mkdirSync(options.dataDir, { recursive: true });
  // -disableTelemetry: offline and private by default. The cwd is a temp dir because the jar
  // writes a metadata file there. The JVM does not watch stdin, so a shell ends it when this
  // process goes away (boundToParent): an orphaned JVM would keep the data files open.
  const [command, args] = boundToParent('java', [
    '-Xms128m', '-Xmx512m', `-Djava.library.path=${join(dirname(jar), 'DynamoDBLocal_lib')}`, '-jar', jar, '-port', String(port), '-sharedDb', '-disableTelemetry', ...storage,
  ]);
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'], cwd: tmpdir() });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}: ${stderr} (is Java 17 installed?)`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopChild(child, 'dynamodb');
        throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  client.destroy();
  return { name: 'dynamodb', port, endpoint, stop: () => stopChild(child, 'dynamodb') };
}
