/**
 * Seeds API keys for local use: `CAPSTAN_DEV_API_KEY` for tenant `dev`, and
 * `CAPSTAN_DEV_API_KEYS` (`tenant:key,…`). With neither, a key is created once, kept in the
 * data dir (so restarts keep it) and printed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashApiKey, newApiKey, type ApiKeyStore } from '../shared/auth/api-keys.ts';
import type { Clock } from '../shared/clock.ts';

export interface SeededKey {
  readonly tenantId: string;
  readonly apiKey: string;
  readonly generated: boolean;
}

export function parseDevKeys(entries: readonly string[]): { tenantId: string; apiKey: string }[] {
  return entries.map((entry) => {
    const at = entry.indexOf(':');
    if (at <= 0 || at === entry.length - 1) throw new Error(`CAPSTAN_DEV_API_KEYS entry "${entry.slice(0, 20)}…" is not tenant:key`);
    return { tenantId: entry.slice(0, at), apiKey: entry.slice(at + 1) };
  });
}

export async function seedDevKeys(
  store: ApiKeyStore,
  clock: Clock,
  options: { devKey?: string; devKeys: readonly string[]; dataDir: string },
): Promise<SeededKey[]> {
  const seeded: SeededKey[] = parseDevKeys(options.devKeys).map((k) => ({ ...k, generated: false }));
  if (options.devKey) seeded.unshift({ tenantId: 'dev', apiKey: options.devKey, generated: false });
  if (seeded.length === 0) {
    const file = join(options.dataDir, 'dev-api-key');
    const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    const apiKey = existing || newApiKey();
    if (!existing) writeFileSync(file, `${apiKey}\n`, { mode: 0o600 });
    seeded.push({ tenantId: 'dev', apiKey, generated: !existing });
  }
  for (const key of seeded) await store.put({ key_hash: hashApiKey(key.apiKey), tenant_id: key.tenantId, created_at: clock.now() });
  return seeded;
}
