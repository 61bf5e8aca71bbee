/**
 * Webhook endpoints: a tenant's subscriptions (url, event types, secrets) and the tenant's
 * signing secret for recordings' own `webhook_url`s. Secrets are `whsec_…` (Standard
 * Webhooks); during a rotation the old one keeps signing beside the new one until it expires.
 */
import { z } from 'zod';
import { INTEGRATION_EVENT_TYPES } from '../integration/event-types.ts';

export const WEBHOOK_ID_PATTERN = /^wh_[0-9a-z]{26}$/;
/** The item holding the tenant's signing secret for per-recording webhook URLs. */
export const SIGNING_SECRET_ITEM = '#signing-secret';

export const WebhookSecretSchema = z.object({ secret: z.string(), created_at: z.string(), expires_at: z.string().nullable() });
export type WebhookSecret = z.infer<typeof WebhookSecretSchema>;

export const WebhookEndpointSchema = z.object({
  tenant_id: z.string(),
  webhook_id: z.string(),
  url: z.string(),
  event_types: z.array(z.string()),
  description: z.string().nullable(),
  status: z.enum(['enabled', 'disabled']),
  disabled_reason: z.string().nullable(),
  secrets: z.array(WebhookSecretSchema),
  created_at: z.string(),
  updated_at: z.string(),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

export const CreateWebhookRequestSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048),
    event_types: z
      .array(z.enum([...INTEGRATION_EVENT_TYPES, '*'], { message: `is one of ${INTEGRATION_EVENT_TYPES.join(', ')} or *` }))
      .min(1)
      .max(INTEGRATION_EVENT_TYPES.length + 1)
      .refine((t) => new Set(t).size === t.length, { message: 'event_types must not repeat' }),
    description: z.string().max(500).optional(),
    /** Bring your own secret (e.g. moving from another sender); otherwise one is made. */
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, { message: 'is whsec_ followed by base64' })
      .refine((v) => {
        const bytes = Buffer.from(v.slice('whsec_'.length), 'base64').length;
        return bytes >= 24 && bytes <= 64;
      }, { message: 'must hold 24 to 64 bytes after whsec_' })
      .optional(),
  })
  .strict();
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequestSchema>;

export const RotateSecretRequestSchema = z
  .object({
    /** How long the old secret keeps signing beside the new one (default 24 h, at most 7 days). */
    overlap_seconds: z.number().int().min(0).max(7 * 86_400).optional(),
  })
  .strict();

export const WebhookResourceSchema = z.object({
  id: z.string(),
  url: z.string(),
  event_types: z.array(z.string()),
  description: z.string().nullable(),
  status: z.enum(['enabled', 'disabled']),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const CreatedWebhookSchema = WebhookResourceSchema.extend({ secret: z.string() });

export function toWebhookResource(e: WebhookEndpoint) {
  return { id: e.webhook_id, url: e.url, event_types: e.event_types, description: e.description, status: e.status, disabled_reason: e.disabled_reason, created_at: e.created_at, updated_at: e.updated_at };
}

/** Secrets that sign now: unexpired ones, newest first. */
export function activeSecrets(secrets: readonly WebhookSecret[], now: string): string[] {
  return secrets.filter((s) => s.expires_at === null || s.expires_at > now).sort((a, b) => (a.created_at < b.created_at ? 1 : -1)).map((s) => s.secret);
}

export function subscribes(endpoint: Pick<WebhookEndpoint, 'event_types' | 'status'>, type: string): boolean {
  return endpoint.status === 'enabled' && (endpoint.event_types.includes('*') || endpoint.event_types.includes(type));
}
