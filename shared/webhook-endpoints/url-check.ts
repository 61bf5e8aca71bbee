/**
 * Registration-time check of a webhook URL: http(s), no credentials, and every address the
 * host resolves to is public — unless the host or address is allowlisted
 * (`CAPSTAN_WEBHOOK_ALLOWLIST`: hosts or CIDRs). WHATWG URL parsing already turns decimal,
 * octal, hex and shortened IPv4 forms into dotted quads, so `2130706433` is 127.0.0.1 here.
 * The delivery path checks the address it actually connects to again (DNS rebinding).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const BLOCKED: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
];

/** The embedded IPv4 of an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address. */
function embeddedIpv4(address: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return null;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** One list per class, built once. */
const CLASSES: { label: string; list: BlockList }[] = BLOCKED.map(([net, prefix, type, label]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { label, list };
});

/** `public`, or the class that makes the address unsafe to send to. */
export function classifyAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = embeddedIpv4(bare);
  if (v4 !== null) return classifyAddress(v4);
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return CLASSES.find((c) => c.list.check(bare, type))?.label ?? 'public';
}

export interface Allowlist {
  readonly hosts: ReadonlySet<string>;
  readonly networks: BlockList;
}

/** `CAPSTAN_WEBHOOK_ALLOWLIST`: comma-separated hosts, addresses or CIDRs. */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const hosts = new Set<string>();
  const networks = new BlockList();
  for (const raw of entries.map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    const [addr, prefix] = raw.split('/');
    const family = isIP(addr!);
    if (family === 0) hosts.add(raw);
    else if (prefix !== undefined) networks.addSubnet(addr!, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    else networks.addAddress(addr!, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { hosts, networks };
}

/** May Capstan send to `address` (reached through `host`)? Public, or allowlisted by host or network. */
export function mayConnect(allow: Allowlist, host: string, address: string): boolean {
  if (allow.hosts.has(host.toLowerCase())) return true;
  const family = isIP(address);
  if (family !== 0 && allow.networks.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
  return classifyAddress(address) === 'public';
}

export type Resolve = (host: string) => Promise<string[]>;
const systemResolve: Resolve = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * `acceptUnresolved`: a name that does not resolve now passes (a recording's own
 * `webhook_url`, where refusing would lose the recording over a DNS hiccup; the connect-time
 * guard still checks every address actually used).
 */
export async function checkWebhookUrl(
  url: string,
  allow: Allowlist,
  resolve: Resolve = systemResolve,
  options: { acceptUnresolved?: boolean } = {},
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { ok: false, reason: `scheme ${parsed.protocol} is not http(s)` };
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'credentials in the URL are not allowed' };
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (allow.hosts.has(host)) return { ok: true };
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) return options.acceptUnresolved ? { ok: true } : { ok: false, reason: `host ${host} does not resolve` };
  for (const address of addresses) {
    if (mayConnect(allow, host, address)) continue;
    const kind = classifyAddress(address);
    return { ok: false, reason: `${host} resolves to ${address}, a ${kind} address (add it to CAPSTAN_WEBHOOK_ALLOWLIST to allow it)` };
  }
  return { ok: true };
}
