import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret } from './secrets.ts';
import { signWebhook } from './signature.ts';

describe('signWebhook (checked with the standardwebhooks reference library)', () => {
  const body = JSON.stringify({ type: 'recording.completed', data: { ok: true } });
  const now = Math.floor(Date.now() / 1000);

  it('verifies with the secret it was signed with', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook({ id: 'evt_1', timestamp: now, body }, [secret]);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('during a rotation both the old and the new secret verify the same delivery', () => {
    const [previous, next] = [newWebhookSecret(), newWebhookSecret()];
    const headers = signWebhook({ id: 'evt_2', timestamp: now, body }, [next, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(next).verify(body, { ...headers })).not.toThrow();
  });

  it('a tampered body, id or timestamp, or another secret, fails', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook({ id: 'evt_3', timestamp: now, body }, [secret]);
    const hook = new Webhook(secret);
    expect(() => hook.verify(body.replace('true', 'false'), { ...headers })).toThrow();
    expect(() => hook.verify(body, { ...headers, 'webhook-id': 'evt_4' })).toThrow();
    expect(() => hook.verify(body, { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow();
    expect(() => signWebhook({ id: 'x', timestamp: now, body }, ['not-a-secret'])).toThrow('whsec_');
  });
});
