/**
 * The local spill directory: sealed segments wait here until S3 has them, so an S3 outage
 * costs disk instead of memory, and a crashed process leaves them for the next one.
 *
 * Names are `<index, 10 digits>-<writer id>.capseg`. The writer id (random per uploader)
 * keeps a new process from overwriting a file of the same index that a previous process
 * left behind. Files are written as `….capseg.partial` and renamed when complete, so a
 * `.capseg` file is always whole; a `.partial` one was cut by a crash.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE_PATTERN = /^(\d{10})-([0-9a-z]+)\.capseg$/;
const PARTIAL_SUFFIX = '.partial';
export const CORRUPT_SUFFIX = '.corrupt';

export function spillFileName(index: number, writerId: string): string {
  return `${String(index).padStart(10, '0')}-${writerId}.capseg`;
}

export async function ensureSpillDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

/** Writes then renames, so the final name only ever points at a complete segment. */
export async function writeSpillFile(path: string, body: Buffer): Promise<void> {
  const partial = `${path}${PARTIAL_SUFFIX}`;
  try {
    await writeFile(partial, body);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => undefined);
    throw error;
  }
}

export interface SpilledFile {
  readonly path: string;
  readonly index: number;
  readonly sizeBytes: number;
}

/**
 * Segment files left by other writers, oldest index first. A `.partial` file is promoted to
 * a segment: the decoder keeps every whole record before its torn tail, which beats losing
 * the lot (a file cut inside its header is quarantined later, when it fails to decode).
 */
export async function scanSpillDir(dir: string, ownWriterId: string): Promise<SpilledFile[]> {
  const found: SpilledFile[] = [];
  for (const name of await readdir(dir)) {
    let fileName = name;
    if (name.endsWith(PARTIAL_SUFFIX)) {
      fileName = name.slice(0, -PARTIAL_SUFFIX.length);
      const match = FILE_PATTERN.exec(fileName);
      if (match === null || match[2] === ownWriterId) continue;
      await rename(join(dir, name), join(dir, fileName));
    }
    const match = FILE_PATTERN.exec(fileName);
    if (match === null || match[2] === ownWriterId) continue;
    const path = join(dir, fileName);
    found.push({ path, index: Number(match[1]), sizeBytes: (await stat(path)).size });
  }
  return found.sort((a, b) => a.index - b.index || a.path.localeCompare(b.path));
}
