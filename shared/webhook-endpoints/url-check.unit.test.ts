import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, classifyAddress, parseAllowlist } from './url-check.ts';

const none = parseAllowlist([]);
const publicResolver = async () => ['93.184.216.34'];

describe('checkWebhookUrl: the SSRF matrix is refused, with the reason', () => {
  const refused: [string, RegExp][] = [
    ['http://127.0.0.1/hook', /loopback/],
    ['http://[::1]/hook', /loopback/],
    ['http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['http://[::ffff:7f00:1]/hook', /loopback/],
    ['http://2130706433/hook', /127\.0\.0\.1, a loopback/],
    ['http://0177.0.0.1/hook', /loopback/],
    ['http://0x7f.0.0.1/hook', /loopback/],
    ['http://0x7f000001/hook', /loopback/],
    ['http://127.1/hook', /loopback/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['http://[fd00:ec2::254]/', /private/],
    ['http://[fe80::1]/', /link-local/],
    ['http://10.1.2.3/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://192.168.0.1/', /private/],
    ['http://100.64.0.1/', /carrier-grade/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://[64:ff9b::10.0.0.1]/', /private/],
    ['http://224.0.0.1/', /multicast/],
    ['file:///etc/passwd', /scheme file:/],
    ['ftp://example.com/', /scheme ftp:/],
    ['https://user:pw@example.com/', /credentials/],
  ];
  it.each(refused)('%s', async (url, reason) => {
    const result = await checkWebhookUrl(url, none, publicResolver);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('a name that resolves to a private address (or to one among several) is refused', async () => {
    expect(await checkWebhookUrl('https://hooks.example.com/', none, async () => ['10.0.0.5'])).toMatchObject({ ok: false });
    expect(await checkWebhookUrl('https://hooks.example.com/', none, async () => ['93.184.216.34', '127.0.0.1'])).toMatchObject({ ok: false });
    expect(await checkWebhookUrl('https://localhost/', none, async () => ['127.0.0.1'])).toMatchObject({ ok: false });
  });

  it('public addresses pass; the allowlist admits hosts, addresses and CIDRs', async () => {
    expect(await checkWebhookUrl('https://hooks.example.com/x', none, publicResolver)).toEqual({ ok: true });
    expect(await checkWebhookUrl('http://93.184.216.34:8080/x', none)).toEqual({ ok: true });
    const allow = parseAllowlist(['localhost', '127.0.0.1', '10.0.0.0/8']);
    expect(await checkWebhookUrl('http://localhost:9000/', allow)).toEqual({ ok: true });
    expect(await checkWebhookUrl('http://127.0.0.1:9000/', allow)).toEqual({ ok: true });
    expect(await checkWebhookUrl('http://10.9.8.7/', allow)).toEqual({ ok: true });
    expect(await checkWebhookUrl('http://192.168.1.1/', allow)).toMatchObject({ ok: false });
  });

  it('classifies addresses', () => {
    expect(classifyAddress('8.8.8.8')).toBe('public');
    expect(classifyAddress('2606:4700::1111')).toBe('public');
    expect(classifyAddress('::ffff:10.0.0.1')).toBe('private');
    expect(classifyAddress('nope')).toBe('not an IP address');
  });
});
