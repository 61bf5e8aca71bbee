/**
 * A webhook receiver as a customer would write one: every request is verified with the
 * `standardwebhooks` library (a bad signature is a 401 and counted), and the effect of an
 * event is applied once per `webhook-id`, however often it arrives. It can go down (the
 * port closes: connection refused) and come back up on the same port, and answer chosen
 * statuses for chosen events.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly recording_id: string;
  readonly sequence: number;
  readonly [key: string]: unknown;
}

export interface WebhookReceiver {
  readonly url: (path?: string) => string;
  /** Every verified request, duplicates included, in arrival order. */
  readonly requests: { path: string; webhookId: string; event: ReceivedEvent; receivedAt: number }[];
  /** Effects applied: one per path and webhook-id (`${path} ${webhookId}`), as each endpoint's owner would. */
  readonly applied: Map<string, ReceivedEvent>;
  /** Whether the event's effect was applied at `path`. */
  appliedAt(path: string, webhookId: string): boolean;
  /** Requests whose signature did not verify. */
  readonly rejected: { path: string; reason: string }[];
  /** Secrets per path prefix (`/` for all): set after registering an endpoint. */
  readonly secrets: Map<string, string>;
  /** Status to answer for an event, by event → status (default 204). */
  respond: (event: ReceivedEvent, path: string) => number | { status: number; headers?: Record<string, string> };
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let port = 0;
  let server: Server | null = null;
  const receiver: WebhookReceiver = {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    requests: [],
    applied: new Map(),
    appliedAt: (path, webhookId) => receiver.applied.has(`${path} ${webhookId}`),
    rejected: [],
    secrets: new Map(),
    respond: () => 204,
    down: async () => {
      if (server === null) return;
      const closing = server;
      server = null;
      closing.closeAllConnections();
      await new Promise<void>((r) => closing.close(() => r()));
    },
    up: async () => {
      if (server !== null) return;
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const path = req.url ?? '/';
          const secret = receiver.secrets.get(path) ?? receiver.secrets.get('/');
          let event: ReceivedEvent;
          try {
            if (secret === undefined) throw new Error('no secret for this path');
            event = new Webhook(secret).verify(body, req.headers as Record<string, string>) as ReceivedEvent;
          } catch (error) {
            receiver.rejected.push({ path, reason: (error as Error).message });
            res.writeHead(401).end();
            return;
          }
          const webhookId = String(req.headers['webhook-id']);
          receiver.requests.push({ path, webhookId, event, receivedAt: performance.now() });
          const answer = receiver.respond(event, path);
          const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
          const effect = `${path} ${webhookId}`;
          if (status >= 200 && status < 300 && !receiver.applied.has(effect)) receiver.applied.set(effect, event);
          res.writeHead(status, headers).end();
        });
      });
      server.listen(port, '127.0.0.1');
      await new Promise((r) => server!.once('listening', r));
      port = (server.address() as AddressInfo).port;
    },
    close: () => receiver.down(),
    waitFor: async (predicate, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`webhook receiver: condition not met within ${timeoutMs} ms (${receiver.requests.length} requests, ${receiver.applied.size} applied)`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
  await receiver.up();
  return receiver;
}
