// Runs one AWS wire-protocol server in its own process and prints `{"ready":true,"port":N}`.
// s3rver needs Node's legacy OpenSSL provider for truncated listings (see STACK-NOTES), so it
// runs here under `--openssl-legacy-provider` instead of inside the runtime's process.
//   node --openssl-legacy-provider aws-server.mjs s3 <port> <dir>
//   node aws-server.mjs sqs <port>
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [kind, portArg, dir] = process.argv.slice(2);
const port = Number(portArg ?? 0);

async function start() {
  if (kind === 's3') {
    const S3rver = require('s3rver');
    const server = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true, vhostBuckets: false });
    const address = await server.run();
    return { port: address.port, close: () => server.close() };
  }
  if (kind === 'sqs') {
    const { createSqsServer } = require('local-aws-sqs');
    const server = await createSqsServer({ port, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false, validateDlqDestination: true });
    return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
  }
  throw new Error(`unknown server kind ${kind}`);
}

const server = await start();
process.stdout.write(`${JSON.stringify({ ready: true, port: server.port })}\n`);
const stop = async () => {
  await server.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
