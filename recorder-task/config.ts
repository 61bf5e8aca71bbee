/** Recorder task configuration, read once at startup (zod), frozen and passed down. */
import { hostname } from 'node:os';
import { z } from 'zod';
import { CoreConfigSchema, readConfig } from '../shared/config.ts';

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'is FIRST-LAST, e.g. 40000-40999')
  .transform((v) => v.split('-').map(Number) as [number, number])
  .refine(([first, last]) => first >= 1024 && last <= 65535 && last - first >= 1, 'is within 1024-65535 and holds at least one port pair');

export const RecorderConfigSchema = CoreConfigSchema.extend({
  /** Identity in claims and leases; a Fargate task uses its task id. */
  CAPSTAN_RECORDER_ID: z.string().min(1).default(`recorder-${hostname()}-${process.pid}`),
  /** UDP ports handed out in pairs: even for RTP, the next one for RTCP (RTCP may also be muxed). */
  CAPSTAN_RECORDER_PORT_RANGE: portRange.prefault('40000-40999'),
  CAPSTAN_RECORDER_BIND_HOST: z.string().default('127.0.0.1'),
  /**
   * Host senders are told to use. `discover`: the task's public IPv4, asked once at startup
   * from CAPSTAN_RECORDER_PUBLIC_IP_URL (public-host.ts; the Fargate service sets this).
   */
  CAPSTAN_RECORDER_PUBLIC_HOST: z.string().min(1).default('127.0.0.1'),
  /** Answers the caller's public IPv4 as plain text; used when the public host is `discover`. */
  CAPSTAN_RECORDER_PUBLIC_IP_URL: z.string().url().default('https://checkip.amazonaws.com/'),
  CAPSTAN_RECORDER_QUEUE_URL: z.string().url().optional(),
  CAPSTAN_RECORDER_SEGMENT_SECONDS: z.coerce.number().positive().max(10).default(5),
  CAPSTAN_RECORDER_INACTIVITY_SECONDS: z.coerce.number().positive().default(30),
  CAPSTAN_RECORDER_MAX_DURATION_SECONDS: z.coerce.number().positive().default(4 * 3600),
  /** Packets of an SSRC nobody registered are held this long for a late registration. */
  CAPSTAN_RECORDER_UNKNOWN_SSRC_HOLD_SECONDS: z.coerce.number().nonnegative().default(10),
  CAPSTAN_RECORDER_UNKNOWN_SSRC_HOLD_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  CAPSTAN_RECORDER_SPILL_DIR: z.string().default('.data/recorder-spill'),
  CAPSTAN_RECORDER_SPILL_MAX_BYTES: z.coerce.number().int().positive().default(1024 ** 3),
  CAPSTAN_RECORDER_WORK_DIR: z.string().default('.data/recorder-work'),
  /**
   * Requested socket receive buffer; the kernel caps it at net.core.rmem_max (read back and
   * warned). 32 MiB rides out ~20 ms event-loop stalls at 100 k pkt/s (bench/RESULTS.md).
   */
  CAPSTAN_RECORDER_RECV_BUFFER_BYTES: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  CAPSTAN_RECORDER_MAX_DATAGRAM_BYTES: z.coerce.number().int().min(64).max(65507).default(1500),
  CAPSTAN_RECORDER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  CAPSTAN_RECORDER_HTTP_HOST: z.string().default('127.0.0.1'),
  /** How often a session looks for new commands (tracks, stop) in its event stream, ms. */
  CAPSTAN_RECORDER_WATCH_MS: z.coerce.number().int().positive().default(250),
  /** Graceful stop must end before ECS's stop timeout (default 30 s, up to 120 s). */
  CAPSTAN_RECORDER_STOP_TIMEOUT_SECONDS: z.coerce.number().positive().default(25),
  /**
   * ECS injects this into every task; with it the recorder holds task scale-in protection while
   * it records (task-protection.ts). Unset outside ECS: no protection.
   */
  ECS_AGENT_URI: z.string().url().optional(),
  /** One protection window (1–2880 min), renewed every third of it while recordings are open. */
  CAPSTAN_RECORDER_PROTECTION_MINUTES: z.coerce.number().int().min(1).max(2880).default(30),
  /** SQS lease: visibility timeout of a claimed job, renewed every third of it. */
  CAPSTAN_RECORDER_LEASE_SECONDS: z.coerce.number().int().min(3).default(60),
});

export type RecorderConfig = Readonly<z.infer<typeof RecorderConfigSchema>>;

export const readRecorderConfig = (env: Record<string, string | undefined>): RecorderConfig => readConfig(RecorderConfigSchema, env);
