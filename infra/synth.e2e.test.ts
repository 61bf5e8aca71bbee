/** `npm run synth` as CI and users run it: the CDK CLI, offline, no Docker, Lambdas bundled by the local esbuild. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'capstan-cdk-out-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('cdk synth', () => {
  it('synthesizes the stack offline with every Lambda bundled', async () => {
    await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', out], { env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' }, timeout: 120_000 });
    const template = JSON.parse(readFileSync(join(out, 'Capstan.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: { Runtime?: string } }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Runtime?.startsWith('nodejs'));
    expect(functions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(functions.map((f) => f.Properties?.Runtime))).toEqual(new Set(['nodejs22.x']));
    const assets = JSON.parse(readFileSync(join(out, 'Capstan.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const bundles = Object.values(assets.files).map((f) => join(out, f.source.path)).filter((p) => existsSync(join(p, 'index.mjs')));
    expect(bundles.length).toBeGreaterThanOrEqual(3);
  });
});
