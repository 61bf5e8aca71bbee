/** `npm run synth` as CI and users run it: the CDK CLI, offline, no Docker, Lambdas bundled by the local esbuild. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'capstan-cdk-out-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('cdk synth', () => {
  it('synthesizes the stack offline with every Lambda bundled and the compositor image staged, without Docker', async () => {
    // CDK_DOCKER names the Docker binary CDK would run: pointing it at `false` proves synth needs none.
    await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', out], { env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DOCKER: 'false' }, timeout: 120_000 });
    const template = JSON.parse(readFileSync(join(out, 'Capstan.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: { Runtime?: string } }> };
    // Ours, not CDK's own custom-resource providers (the VPC's default-security-group
    // restriction), which choose their runtime themselves.
    const functions = Object.entries(template.Resources)
      .filter(([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Runtime?.startsWith('nodejs') && !/^Custom.*CustomResourceProviderHandler[0-9A-F]{8}$/.test(logicalId))
      .map(([, r]) => r);
    expect(functions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(functions.map((f) => f.Properties?.Runtime))).toEqual(new Set(['nodejs22.x']));
    const assets = JSON.parse(readFileSync(join(out, 'Capstan.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
    const bundles = Object.values(assets.files).map((f) => join(out, f.source.path)).filter((p) => existsSync(join(p, 'index.mjs')));
    expect(bundles.length).toBeGreaterThanOrEqual(3);
    // The compositor image: its build context staged from the allow-list in /.dockerignore.
    const images = Object.values((JSON.parse(readFileSync(join(out, 'Capstan.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; dockerFile?: string } }> }).dockerImages);
    expect(images.map((i) => i.source.dockerFile)).toEqual(['recorder-task/Dockerfile']);
    const context = join(out, images[0]!.source.directory);
    expect(readdirSync(context).sort()).toEqual(['.dockerignore', 'package-lock.json', 'package.json', 'recorder-task', 'shared', 'tsconfig.json']);
    expect(existsSync(join(context, 'recorder-task', 'Dockerfile'))).toBe(true);
    expect(readdirSync(context, { recursive: true }).map(String).filter((p) => p.endsWith('.test.ts'))).toEqual([]);
  });
});
