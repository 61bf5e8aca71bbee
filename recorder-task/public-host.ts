/**
 * The host a recorder tells senders to use (`ingest.host`). A Fargate task with
 * `assignPublicIp` gets its public IPv4 from the VPC's internet gateway (1:1 NAT): the address
 * is not on the task's network interface and not in the ECS task metadata (v4 lists only the
 * private address). So with `CAPSTAN_RECORDER_PUBLIC_HOST=discover` the recorder asks, once at
 * startup, what source address its egress has (`checkip.amazonaws.com`, an AWS service
 * answering the caller's IP as plain text). That needs no IAM permission (asking EC2's
 * DescribeNetworkInterfaces would need one on Resource "*") and no extra SDK; the address
 * stays the task's for its whole life. Any other value is used as given.
 */
import { isIPv4 } from 'node:net';
import type { RecorderConfig } from './config.ts';

export const DISCOVER_PUBLIC_HOST = 'discover';

export class PublicHostDiscoveryError extends Error {
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublicHostDiscoveryError';
  }
}

export interface DiscoverOptions {
  readonly fetch?: typeof fetch;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  readonly retryDelayMs?: number;
}

/** The IPv4 address `url` answers with (plain text, surrounding whitespace ignored). */
export async function discoverPublicIp(url: string, options: DiscoverOptions = {}): Promise<string> {
  const fetchImpl = options.fetch ?? fetch;
  const attempts = options.attempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
      const body = (await response.text()).trim();
      if (!response.ok) throw new PublicHostDiscoveryError(`${url} answered ${response.status}`, url);
      // Never advertise something that is not an address (an error page, a proxy's banner).
      if (!isIPv4(body)) throw new PublicHostDiscoveryError(`${url} answered something that is not an IPv4 address`, url);
      return body;
    } catch (error) {
      last = error;
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
    }
  }
  throw last instanceof PublicHostDiscoveryError ? last : new PublicHostDiscoveryError(`${url} could not be reached`, url, { cause: last });
}

/** The config with `CAPSTAN_RECORDER_PUBLIC_HOST` resolved (unchanged unless it is `discover`). */
export async function withPublicHost(config: RecorderConfig, options: DiscoverOptions = {}): Promise<RecorderConfig> {
  if (config.CAPSTAN_RECORDER_PUBLIC_HOST !== DISCOVER_PUBLIC_HOST) return config;
  const host = await discoverPublicIp(config.CAPSTAN_RECORDER_PUBLIC_IP_URL, options);
  return Object.freeze({ ...config, CAPSTAN_RECORDER_PUBLIC_HOST: host });
}
