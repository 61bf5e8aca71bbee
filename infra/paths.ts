/**
 * Filesystem anchors for the CDK app. Resolved from this file, not from `process.cwd()`,
 * so `cdk synth`, vitest and editors all bundle the same handler files.
 */
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `functions/<name>/handler.ts`, each exporting `handler`. */
export function handlerEntry(name: string): string {
  return path.join(REPO_ROOT, 'functions', name, 'handler.ts');
}
