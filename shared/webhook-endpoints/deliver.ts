/**
 * One webhook delivery attempt: POST the signed body, 15 s in all, redirects not followed,
 * at most 4 KiB of the answer read. The address connected to is checked again (the lookup
 * itself refuses non-public answers), so a DNS name that changed to 127.0.0.1 after
 * registration (rebinding) is refused before a byte is sent.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { classifyAddress, mayConnect, type Allowlist } from './url-check.ts';

export type DeliveryOutcome =
  | { readonly outcome: 'delivered'; readonly status: number; readonly duration_ms: number }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled. */
  | { readonly outcome: 'disable'; readonly status: 410; readonly duration_ms: number }
  | { readonly outcome: 'retry'; readonly status: number | null; readonly retry_after: string | null; readonly error: string | null; readonly duration_ms: number }
  /** The address is not one Capstan sends to: not retried, the endpoint is flagged. */
  | { readonly outcome: 'refused'; readonly reason: string; readonly duration_ms: number };

export class SsrfRefusedError extends Error {
  readonly code = 'ESSRF';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SsrfRefusedError';
  }
}

type Resolver = (host: string, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
const systemResolver: Resolver = (host, callback) => dnsLookup(host, { all: true, verbatim: true }, callback);

/** A `lookup` for http.request that only ever yields addresses the guard accepts. */
export function guardedLookup(allow: Allowlist, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    resolve(host, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const bad = addresses.find((a) => !mayConnect(allow, host, a.address));
      if (bad !== undefined || addresses.length === 0) {
        return callback(new SsrfRefusedError(bad ? `${host} resolves to ${bad.address}, a ${classifyAddress(bad.address)} address` : `${host} does not resolve`), '', 4);
      }
      const chosen = addresses[0]!;
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, chosen.address, chosen.family);
    });
  };
}

export interface DeliveryRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly allow: Allowlist;
  readonly timeoutMs?: number;
  /** For tests: how names resolve. */
  readonly resolve?: Resolver;
}

export function deliverWebhook(req: DeliveryRequest): Promise<DeliveryOutcome> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const url = new URL(req.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // A literal address never goes through lookup: check it here.
    if (isIP(host) !== 0 && !mayConnect(req.allow, host, host)) {
      return resolve({ outcome: 'refused', reason: `${host} is a ${classifyAddress(host)} address`, duration_ms: took() });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: 'POST',
        lookup: guardedLookup(req.allow, req.resolve),
        headers: { 'content-type': 'application/json', 'user-agent': 'Capstan-Webhooks/1', 'content-length': Buffer.byteLength(req.body), ...req.headers },
        timeout: req.timeoutMs ?? 15_000,
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 4096) response.destroy();
        });
        const finish = () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ outcome: 'delivered', status, duration_ms: took() });
          else if (status === 410) resolve({ outcome: 'disable', status: 410, duration_ms: took() });
          // 3xx are not followed; 4xx and 5xx are retried (Standard Webhooks practice).
          else resolve({ outcome: 'retry', status, retry_after: response.headers['retry-after'] ?? null, error: null, duration_ms: took() });
        };
        response.once('end', finish);
        response.once('close', finish);
      },
    );
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${req.timeoutMs ?? 15_000} ms`)), req.timeoutMs ?? 15_000);
    request.once('timeout', () => request.destroy(new Error(`no answer within ${req.timeoutMs ?? 15_000} ms`)));
    request.once('error', (error: Error) => {
      clearTimeout(deadline);
      if (error instanceof SsrfRefusedError) resolve({ outcome: 'refused', reason: error.reason, duration_ms: took() });
      else resolve({ outcome: 'retry', status: null, retry_after: null, error: error.message, duration_ms: took() });
    });
    request.once('close', () => clearTimeout(deadline));
    request.end(req.body);
  });
}
