/** CPU time of a process tree from /proc (Linux), to say where a benchmark's time goes. */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface ProcInfo {
  pid: number;
  ppid: number;
  name: string;
  cpuMs: number;
}

function read(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const name = cmdline[0]?.endsWith('java') ? 'dynamodb-local (java)'
      : cmdline.some((a) => a.endsWith('aws-server.mjs')) ? `${cmdline[cmdline.indexOf(cmdline.find((a) => a.endsWith('aws-server.mjs'))!) + 1]} server (node)`
      : cmdline.some((a) => a.includes('local/main.ts')) ? 'runtime: api + publisher (node)'
      : stat.slice(stat.indexOf('(') + 1, close);
    return { pid, ppid: Number(fields[1]), name, cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** CPU ms so far of `root` and all its descendants, by process name. */
export function treeCpuMs(root: number): Map<string, number> {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => read(Number(d))).filter((p): p is ProcInfo => p !== null);
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!inTree.has(p.pid) && inTree.has(p.ppid)) inTree.add(p.pid), (grew = true);
  }
  const byName = new Map<string, number>();
  for (const p of all) if (inTree.has(p.pid)) byName.set(p.name, (byName.get(p.name) ?? 0) + p.cpuMs);
  return byName;
}

export function diffCpu(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([name, ms]) => [name, ms - (before.get(name) ?? 0)]));
}
