/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id` (stable across
 * retries: the integration event id), `webhook-timestamp` (unix seconds of this attempt),
 * `webhook-signature`: `v1,<base64 HMAC-SHA256("${id}.${timestamp}.${body}")>` keyed with the
 * base64 bytes after `whsec_`, one per active secret, space-separated — two while a rotation
 * overlaps, so receivers holding either secret verify.
 */
import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

function key(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new Error('webhook secrets start with whsec_');
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

export function signWebhook(message: { id: string; timestamp: number; body: string }, secrets: readonly string[]): SignedHeaders {
  if (secrets.length === 0) throw new Error('no secret to sign with');
  const content = `${message.id}.${message.timestamp}.${message.body}`;
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': secrets.map((s) => `v1,${createHmac('sha256', key(s)).update(content).digest('base64')}`).join(' '),
  };
}
