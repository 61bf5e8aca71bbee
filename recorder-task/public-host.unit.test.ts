import { describe, expect, it } from 'vitest';
import { readRecorderConfig } from './config.ts';
import { discoverPublicIp, PublicHostDiscoveryError, withPublicHost } from './public-host.ts';

/** A fetch that answers from a script, one entry per call, and records the URLs asked. */
function scriptedFetch(script: readonly (Response | Error)[]) {
  const urls: string[] = [];
  let call = 0;
  const fake = (async (input: string | URL | Request) => {
    urls.push(String(input));
    const next = script[Math.min(call++, script.length - 1)]!;
    if (next instanceof Error) throw next;
    return next.clone();
  }) as typeof fetch;
  return { fetch: fake, urls };
}

const quick = { attempts: 3, retryDelayMs: 1, timeoutMs: 1000 };

describe('public host discovery', () => {
  it('keeps a configured host as it is and asks nobody', async () => {
    const { fetch, urls } = scriptedFetch([new Response('203.0.113.7\n')]);
    const config = readRecorderConfig({ CAPSTAN_RECORDER_PUBLIC_HOST: 'recorder.example.com' });
    expect((await withPublicHost(config, { ...quick, fetch })).CAPSTAN_RECORDER_PUBLIC_HOST).toBe('recorder.example.com');
    expect(urls).toEqual([]);
  });

  it('replaces `discover` with the address the lookup URL answers, trimmed, in a frozen config', async () => {
    const { fetch, urls } = scriptedFetch([new Response('203.0.113.7\n')]);
    const config = readRecorderConfig({ CAPSTAN_RECORDER_PUBLIC_HOST: 'discover' });
    const resolved = await withPublicHost(config, { ...quick, fetch });
    expect(resolved.CAPSTAN_RECORDER_PUBLIC_HOST).toBe('203.0.113.7');
    expect(resolved.CAPSTAN_RECORDER_PORT_RANGE).toEqual(config.CAPSTAN_RECORDER_PORT_RANGE);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(urls).toEqual(['https://checkip.amazonaws.com/']);
  });

  it('retries network errors and 5xx answers, then succeeds', async () => {
    const { fetch, urls } = scriptedFetch([new TypeError('fetch failed'), new Response('busy', { status: 503 }), new Response('198.51.100.20')]);
    expect(await discoverPublicIp('http://lookup.test/', { ...quick, fetch })).toBe('198.51.100.20');
    expect(urls).toHaveLength(3);
  });

  it('refuses to advertise an answer that is not an IPv4 address', async () => {
    const { fetch } = scriptedFetch([new Response('<html>captive portal</html>')]);
    await expect(discoverPublicIp('http://lookup.test/', { ...quick, fetch })).rejects.toThrow(PublicHostDiscoveryError);
  });

  it('gives up after its attempts, naming the URL and keeping the cause', async () => {
    const cause = new TypeError('fetch failed');
    const { fetch, urls } = scriptedFetch([cause]);
    const error = await discoverPublicIp('http://lookup.test/', { ...quick, fetch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublicHostDiscoveryError);
    expect((error as PublicHostDiscoveryError).url).toBe('http://lookup.test/');
    expect((error as PublicHostDiscoveryError).cause).toBe(cause);
    expect(urls).toHaveLength(3);
  });
});
