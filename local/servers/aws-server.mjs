// Runs one AWS wire-protocol server in its own process and prints `{"ready":true,"port":N}`.
// It exits when its stdin closes, so it never outlives the process that started it.
// s3rver needs Node's legacy OpenSSL provider for truncated listings (see STACK-NOTES), so it
// runs here under `--openssl-legacy-provider` instead of inside the runtime's process.
//   node --openssl-legacy-provider aws-server.mjs s3 <port> <dir>
//   node aws-server.mjs sqs <port>
//
// The s3 server also prints every object notification s3rver emits as one JSON line,
// `{"s3event":{eventName,bucket,key,size,etag,sequencer,requestId,sourceIp,time}}`, for the
// runtime to turn into the EventBridge event S3 would send (s3rver needs no configuration
// for this: it emits for every bucket). The key is the object key as stored, not URL-encoded.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [kind, portArg, dir] = process.argv.slice(2);
const port = Number(portArg ?? 0);

/**
 * s3rver reports a completed multipart upload as `ObjectCreated:Post`; the request it came
 * from (kept per request in AsyncLocalStorage) tells the two apart, as S3's
 * `ObjectCreated:CompleteMultipartUpload` does.
 */
function forwardObjectEvents(server) {
  const requests = new AsyncLocalStorage();
  const callback = server.callback.bind(server);
  server.callback = () => {
    const handle = callback();
    return (req, res) => requests.run({ method: req.method, url: req.url ?? '' }, () => handle(req, res));
  };
  server.on('event', (event) => {
    const request = requests.getStore();
    for (const record of event.Records ?? []) {
      const multipart = record.eventName === 'ObjectCreated:Post' && request?.method === 'POST' && /[?&]uploadId=/.test(request.url);
      const object = record.s3?.object ?? {};
      const line = {
        s3event: {
          eventName: multipart ? 'ObjectCreated:CompleteMultipartUpload' : record.eventName,
          bucket: record.s3?.bucket?.name,
          key: object.key,
          size: object.size,
          etag: object.eTag,
          sequencer: object.sequencer,
          requestId: record.responseElements?.['x-amz-request-id'],
          sourceIp: record.requestParameters?.sourceIPAddress,
          time: record.eventTime,
        },
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  });
}

async function start() {
  if (kind === 's3') {
    const S3rver = require('s3rver');
    const server = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true, vhostBuckets: false });
    forwardObjectEvents(server);
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
// The parent holds our stdin open: it closes when the parent stops, or dies (even SIGKILL).
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
