/**
 * Configuration: read and validated once at startup, frozen, then passed down.
 * Adapters never read `process.env`.
 */
import { z } from 'zod';

const csv = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((part) => part.trim()).filter(Boolean));

/**
 * A command line: a JSON array of strings (`["node","--import","tsx","main.ts"]`, for
 * arguments with spaces), or else a plain string split on whitespace (no quoting).
 */
export function parseCommandLine(value: string): string[] {
  const trimmed = value.trim();
  const parts: unknown = trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split(/\s+/).filter(Boolean);
  if (!Array.isArray(parts) || parts.length === 0 || !parts.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new Error('is a JSON array of non-empty strings or a space-separated command');
  }
  return parts as string[];
}

const commandLine = z.string().transform((value, ctx) => {
  try {
    return parseCommandLine(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof SyntaxError ? `is not valid JSON: ${error.message}` : (error as Error).message });
    return z.NEVER;
  }
});

export const AwsConfigSchema = z.object({
  AWS_REGION: z.string().default('us-east-1'),
  /** Set for local servers (DynamoDB Local, s3rver, local-aws-sqs); unset in the cloud. */
  CAPSTAN_DYNAMODB_ENDPOINT: z.string().url().optional(),
  CAPSTAN_S3_ENDPOINT: z.string().url().optional(),
  CAPSTAN_SQS_ENDPOINT: z.string().url().optional(),
});

export const CoreConfigSchema = AwsConfigSchema.extend({
  CAPSTAN_EVENTS_TABLE: z.string().min(1).default('capstan-events'),
  CAPSTAN_RECORDINGS_TABLE: z.string().min(1).default('capstan-recordings'),
  CAPSTAN_API_KEYS_TABLE: z.string().min(1).default('capstan-api-keys'),
  CAPSTAN_IDEMPOTENCY_TABLE: z.string().min(1).default('capstan-idempotency'),
  CAPSTAN_FEED_TABLE: z.string().min(1).default('capstan-feed'),
  CAPSTAN_WEBHOOKS_TABLE: z.string().min(1).default('capstan-webhooks'),
  CAPSTAN_DELIVERIES_TABLE: z.string().min(1).default('capstan-webhook-deliveries'),
  /** The webhook retry queue (later attempts and replays) and its dead-letter queue (deliveries out of attempts). */
  CAPSTAN_WEBHOOK_RETRY_QUEUE_URL: z.string().url().optional(),
  CAPSTAN_WEBHOOK_DEAD_LETTER_QUEUE_URL: z.string().url().optional(),
  /**
   * Waits before each webhook retry, seconds, comma-separated (default: 5, 30, 120, 600, 1800,
   * 3600, 7200, 14400, 28800, 28800, 28800: 11 retries over more than 25 h, ±20 % jitter).
   */
  CAPSTAN_WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const parts = value.split(',').map((p) => Number(p.trim()));
      if (parts.some((n) => !Number.isInteger(n) || n < 1 || n > 86_400)) {
        ctx.addIssue({ code: 'custom', message: 'is a comma-separated list of whole seconds between 1 and 86400' });
        return z.NEVER;
      }
      return parts;
    }),
  /** Hosts, addresses or CIDRs webhooks may reach although they are loopback/private (e.g. `127.0.0.1` locally). */
  CAPSTAN_WEBHOOK_ALLOWLIST: csv,
  /**
   * `GET /v1/events` serves events older than this: events committed by concurrent writers
   * can reach the feed slightly out of id order, and a settled page never changes.
   */
  CAPSTAN_FEED_SETTLE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  CAPSTAN_BUCKET: z.string().min(1).default('capstan-media'),
  CAPSTAN_EVENT_BUS_NAME: z.string().min(1).default('capstan'),
  /** Largest accepted request body, bytes. */
  CAPSTAN_MAX_BODY_BYTES: z.coerce.number().int().positive().default(64 * 1024),
  CAPSTAN_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  CAPSTAN_PUBLIC_URL: z.string().url().optional(),
  /** How long a presigned download URL stays valid. */
  CAPSTAN_DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
});

export type CoreConfig = Readonly<z.infer<typeof CoreConfigSchema>>;

export const LocalConfigSchema = CoreConfigSchema.extend({
  CAPSTAN_DATA_DIR: z.string().min(1).default('.data'),
  CAPSTAN_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  CAPSTAN_HTTP_HOST: z.string().default('127.0.0.1'),
  CAPSTAN_DEV_API_KEY: z.string().min(16).optional(),
  /** `tenant:key,tenant:key` */
  CAPSTAN_DEV_API_KEYS: csv,
  /** Ports of the embedded servers; 0 picks a free one. */
  CAPSTAN_DYNAMODB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  CAPSTAN_S3_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  CAPSTAN_SQS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Keep DynamoDB Local in memory (faster, nothing survives a stop): for demos and benchmarks. */
  CAPSTAN_DYNAMODB_IN_MEMORY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** Run the recorder task (RTP ingest) as a child process of `npm start`. */
  CAPSTAN_RECORDER_ENABLED: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** How often the local stream poller asks DynamoDB Streams for new records, ms. */
  CAPSTAN_STREAM_POLL_MS: z.coerce.number().int().positive().default(50),
  /** Start compositor jobs (child processes) for the task routes of shared/topology.ts. */
  CAPSTAN_COMPOSITOR_ENABLED: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** Compositor jobs running at once; more wait in a queue (in memory). */
  CAPSTAN_COMPOSITOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * The compositor job's command, run from the repository root (default: TASKS.compositor
   * in shared/topology.ts). A JSON array of strings, or a string split on whitespace;
   * a leading `node` is the runtime's own Node binary.
   */
  CAPSTAN_COMPOSITOR_COMMAND: commandLine.optional(),
});

export type LocalConfig = Readonly<z.infer<typeof LocalConfigSchema>>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function readConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): Readonly<z.infer<S>> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    throw new ConfigError(
      `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return Object.freeze(parsed.data);
}
