/**
 * An HTTP server that answers `PUT /task-protection/v1/state` the way the ECS container agent
 * does (`{ protection: { ProtectionEnabled, ExpirationDate, TaskArn } }`, or a `failure`), so
 * the recorder's task scale-in protection can be driven over real HTTP. ECS itself cannot run
 * here; this stands in for the one endpoint the recorder calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProtectionRequest {
  readonly method: string;
  readonly path: string;
  readonly body: { ProtectionEnabled?: boolean; ExpiresInMinutes?: number };
  readonly at: number;
}

export interface FakeEcsAgent {
  readonly uri: string;
  readonly requests: ProtectionRequest[];
  /** Answer the next `n` requests with a failure (HTTP 400 + `failure`, as the agent does for a standalone task). */
  failNext(n: number): void;
  /** The protection state as the agent would hold it now. */
  readonly protectedNow: boolean;
  close(): Promise<void>;
}

const AGENT_PATH = '/api/0123456789abcdef-1234567890';

export async function startFakeEcsAgent(): Promise<FakeEcsAgent> {
  const requests: ProtectionRequest[] = [];
  let failures = 0;
  let state = false;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw === '' ? {} : (JSON.parse(raw) as ProtectionRequest['body']);
      requests.push({ method: req.method ?? '', path: req.url ?? '', body, at: Date.now() });
      res.setHeader('content-type', 'application/json');
      // ECS_AGENT_URI carries a per-task path (http://169.254.170.2/api/<id>), and the endpoint hangs under it.
      if (req.method !== 'PUT' || req.url !== `${AGENT_PATH}/task-protection/v1/state`) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { Code: 'NotFound' } }));
        return;
      }
      if (failures > 0) {
        failures--;
        res.statusCode = 400;
        res.end(JSON.stringify({ failure: { Arn: 'arn:aws:ecs:us-east-1:000000000000:task/c/t', Reason: 'TASK_NOT_VALID' } }));
        return;
      }
      state = body.ProtectionEnabled === true;
      const expires = state ? new Date(Date.now() + (body.ExpiresInMinutes ?? 120) * 60_000).toISOString() : null;
      res.end(JSON.stringify({ protection: { ProtectionEnabled: state, ExpirationDate: expires, TaskArn: 'arn:aws:ecs:us-east-1:000000000000:task/c/t' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}${AGENT_PATH}`,
    requests,
    failNext: (n) => void (failures = n),
    get protectedNow() {
      return state;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
