/**
 * Cheap checks of the LocalStack path that need no Docker: the compose file pins its image and
 * starts the services the stack needs, the scripts are executable, parse, and name things that
 * exist (the stack id, the smoke program, the stack outputs the smoke reads).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface LocalStackService {
  image: string;
  ports: string[];
  environment: Record<string, string>;
  volumes: string[];
}

/**
 * The compose file as data. `yaml` is only a transitive dependency (of aws-cdk-lib and vite),
 * so it is used when present; otherwise a line-based reading of this one file's simple shape.
 */
async function localstackService(text: string): Promise<LocalStackService> {
  const moduleName = 'yaml';
  const yaml = (await import(moduleName).catch(() => undefined)) as { parse?: (s: string) => unknown } | undefined;
  if (yaml?.parse) {
    const doc = yaml.parse(text) as { services: { localstack: LocalStackService } };
    return doc.services.localstack;
  }
  return localstackServiceByLines(text);
}

/** Fallback reader for this file's shape: 4-space service keys, 6-space entries. */
function localstackServiceByLines(text: string): LocalStackService {
  const value = (key: string) => new RegExp(`^\\s{4}${key}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const list = (key: string) => {
    const block = new RegExp(`^\\s{4}${key}:\\n((?:\\s{6}- .*\\n)+)`, 'm').exec(text)?.[1] ?? '';
    return block.split('\n').filter(Boolean).map((line) => line.replace(/^\s*- /, '').replace(/\s+#.*$/, '').replace(/^"|"$/g, ''));
  };
  const envBlock = /^\s{4}environment:\n((?:\s{6}.*\n|\s*#.*\n)+)/m.exec(text)?.[1] ?? '';
  const environment = Object.fromEntries(
    envBlock.split('\n').filter((l) => /^\s{6}[A-Z_]+:/.test(l)).map((l) => {
      const [, k, v] = /^\s{6}([A-Z_]+):\s*(.*)$/.exec(l)!;
      return [k!, v!.replace(/\s+#.*$/, '')];
    }),
  );
  return { image: value('image'), ports: list('ports'), environment, volumes: list('volumes') };
}

describe('localstack/docker-compose.yml', () => {
  it('reads the same with the YAML parser and the line-based fallback', async () => {
    const text = read('localstack/docker-compose.yml');
    const byLines = localstackServiceByLines(text);
    expect(byLines.image).not.toBe('');
    expect(await localstackService(text)).toMatchObject(byLines);
  });

  it('pins the LocalStack image (overridable), publishes the edge port and starts what the stack needs', async () => {
    const service = await localstackService(read('localstack/docker-compose.yml'));
    // A default tag with a version, never `latest`.
    expect(service.image).toMatch(/^\$\{LOCALSTACK_IMAGE:-localstack\/localstack(-pro)?:\d+\.\d+\.\d+\}$/);
    expect(service.ports.some((p) => /(^|:)4566:4566$/.test(p))).toBe(true);
    const services = String(service.environment['SERVICES']).split(',');
    for (const needed of ['dynamodb', 'dynamodbstreams', 's3', 'sqs', 'events', 'lambda', 'iam', 'sts', 'cloudformation', 'ecs']) {
      expect(services, needed).toContain(needed);
    }
    expect(service.environment['LOCALSTACK_AUTH_TOKEN']).toBe('${LOCALSTACK_AUTH_TOKEN:-}');
    // Lambda (and ECS on Pro) run as sibling containers.
    expect(service.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });
});

describe.each(['deploy.sh', 'smoke.sh'])('localstack/%s', (script) => {
  const path = join(HERE, script);

  it('is an executable bash script that parses and stops on errors', () => {
    expect(statSync(path).mode & 0o111, 'executable bits').not.toBe(0);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('set -euo pipefail');
    const check = spawnSync('bash', ['-n', path], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('refers only to files that exist', () => {
    const text = readFileSync(path, 'utf8');
    const files = [...text.matchAll(/\b((?:localstack|infra|shared|recorder-task)\/[\w./-]+\.(?:ts|sh|yml|md))\b/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });
});

describe('what the scripts rely on', () => {
  it('deploy.sh runs a pinned cdklocal through npx and deploys the stack infra/app.ts defines', () => {
    const deploy = read('localstack/deploy.sh');
    expect(deploy).toMatch(/CDKLOCAL_VERSION="\d+\.\d+\.\d+"/);
    expect(deploy).toContain('npx --yes "aws-cdk-local@$CDKLOCAL_VERSION"');
    const stackId = /new CapstanStack\(app, '([^']+)'/.exec(read('infra/app.ts'))?.[1];
    expect(stackId).toBeDefined();
    expect(deploy).toContain(`deploy ${stackId} `);
    expect(read('localstack/smoke.ts')).toContain(`['${stackId}']`);
  });

  it('smoke.ts reads stack outputs the stack defines', () => {
    const smoke = read('localstack/smoke.ts');
    const stack = read('infra/stacks/capstan-stack.ts');
    expect(smoke).toContain("outputs['ApiKeysTableName']");
    expect(stack).toContain("new CfnOutput(this, 'ApiKeysTableName'");
    // The HTTP API construct (id HttpApi) has an output `Url`: logical id HttpApiUrl<hash>.
    expect(smoke).toContain("'HttpApiUrl'");
    expect(stack).toMatch(/new HttpApi\(this, 'HttpApi'/);
    expect(read('infra/constructs/http-api.ts')).toContain("new CfnOutput(this, 'Url'");
  });

  it('the README describes the three files', () => {
    const readme = read('localstack/README.md');
    for (const file of ['docker-compose.yml', 'deploy.sh', 'smoke.sh']) expect(readme).toContain(file);
  });
});
