/** Webhook endpoints: register (SSRF-checked), list, delete, rotate secrets; the tenant signing secret. */
import type { Clock, IdGenerator } from '../clock.ts';
import { activeSecrets, type CreateWebhookRequest, type WebhookEndpoint, type WebhookSecret } from './model.ts';
import type { WebhookEndpointStore } from './store.ts';

export class WebhookNotFoundError extends Error {
  constructor(readonly webhookId: string) {
    super(`webhook ${webhookId} does not exist`);
    this.name = 'WebhookNotFoundError';
  }
}

/** The URL points somewhere Capstan will not send to (loopback, private, metadata, …). */
export class WebhookUrlRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`url is refused: ${reason}`);
    this.name = 'WebhookUrlRefusedError';
  }
}

export type UrlCheck = (url: string, options?: { acceptUnresolved?: boolean }) => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface WebhookEndpointServiceDeps {
  readonly store: WebhookEndpointStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly newSecret: () => string;
  readonly checkUrl: UrlCheck;
}

export const DEFAULT_ROTATION_OVERLAP_SECONDS = 86_400;

export function webhookEndpointService(deps: WebhookEndpointServiceDeps) {
  async function owned(tenantId: string, webhookId: string): Promise<WebhookEndpoint> {
    const endpoint = await deps.store.get(tenantId, webhookId);
    if (endpoint === null) throw new WebhookNotFoundError(webhookId);
    return endpoint;
  }

  const fresh = (now: string): WebhookSecret => ({ secret: deps.newSecret(), created_at: now, expires_at: null });

  return {
    async create(tenantId: string, request: CreateWebhookRequest): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const check = await deps.checkUrl(request.url);
      if (!check.ok) throw new WebhookUrlRefusedError(check.reason);
      const now = deps.clock.now();
      const secret = request.secret === undefined ? fresh(now) : { secret: request.secret, created_at: now, expires_at: null };
      const endpoint: WebhookEndpoint = {
        tenant_id: tenantId,
        webhook_id: deps.ids.next('wh'),
        url: request.url,
        event_types: request.event_types,
        description: request.description ?? null,
        status: 'enabled',
        disabled_reason: null,
        secrets: [secret],
        created_at: now,
        updated_at: now,
      };
      await deps.store.put(endpoint);
      return { endpoint, secret: secret.secret };
    },

    list: (tenantId: string) => deps.store.list(tenantId),
    get: owned,
    /** The registration-time SSRF check, also applied to recordings' own `webhook_url`. */
    checkUrl: deps.checkUrl,
    /** The endpoint, or null: for the dispatcher, which treats a deleted endpoint as a reason, not an error. */
    find: (tenantId: string, webhookId: string) => deps.store.get(tenantId, webhookId),

    /** Stop sending to an endpoint (a 410 from it, or an address the guard refuses); `enable` undoes it. */
    async disable(tenantId: string, webhookId: string, reason: string): Promise<void> {
      const endpoint = await deps.store.get(tenantId, webhookId);
      if (endpoint === null || endpoint.status === 'disabled') return;
      await deps.store.put({ ...endpoint, status: 'disabled', disabled_reason: reason, updated_at: deps.clock.now() });
    },

    async delete(tenantId: string, webhookId: string): Promise<void> {
      if (!(await deps.store.delete(tenantId, webhookId))) throw new WebhookNotFoundError(webhookId);
    },

    /** A new secret; the ones in use keep signing for `overlapSeconds`, so receivers can switch without a gap. */
    async rotate(tenantId: string, webhookId: string, overlapSeconds = DEFAULT_ROTATION_OVERLAP_SECONDS): Promise<{ secret: string; previous_expires_at: string }> {
      const endpoint = await owned(tenantId, webhookId);
      const now = deps.clock.now();
      const expiresAt = new Date(Date.parse(now) + overlapSeconds * 1000).toISOString();
      const kept = endpoint.secrets
        .filter((s) => s.expires_at === null || s.expires_at > now)
        .map((s) => ({ ...s, expires_at: s.expires_at === null || s.expires_at > expiresAt ? expiresAt : s.expires_at }));
      const secret = fresh(now);
      await deps.store.put({ ...endpoint, secrets: [...kept, secret], updated_at: now });
      return { secret: secret.secret, previous_expires_at: expiresAt };
    },

    /** Re-enable an endpoint a 410 or the SSRF guard disabled. */
    async enable(tenantId: string, webhookId: string): Promise<WebhookEndpoint> {
      const endpoint = await owned(tenantId, webhookId);
      const check = await deps.checkUrl(endpoint.url);
      if (!check.ok) throw new WebhookUrlRefusedError(check.reason);
      const updated: WebhookEndpoint = { ...endpoint, status: 'enabled', disabled_reason: null, updated_at: deps.clock.now() };
      await deps.store.put(updated);
      return updated;
    },

    /** The tenant's secret for recordings' own `webhook_url`s (created on first use). */
    async signingSecret(tenantId: string): Promise<string> {
      const now = deps.clock.now();
      const [newest] = activeSecrets(await deps.store.signingSecrets(tenantId, () => fresh(now)), now);
      return newest!;
    },
  };
}

export type WebhookEndpointService = ReturnType<typeof webhookEndpointService>;
