/** Appends a benchmark's figures, with the machine they came from, to bench/RESULTS.md. */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

export function appendResult(title: string, lines: readonly string[]): void {
  if (!existsSync(RESULTS)) writeFileSync(RESULTS, '# Benchmark results\n\nAppended by the `bench:*` scripts; newest last.\n');
  const block = [`\n## ${title} — ${new Date().toISOString()}`, `Machine: ${machine()}`, '', ...lines, ''].join('\n');
  appendFileSync(RESULTS, block);
}
