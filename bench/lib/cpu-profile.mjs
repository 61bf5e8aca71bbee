// Preload (`NODE_OPTIONS=--import ./bench/lib/cpu-profile.mjs`): profiles the process with the
// inspector and writes `CAPSTAN_CPU_PROFILE_DIR/<pid>.cpuprofile` when it exits. For finding
// where a benchmark's CPU goes; open the file in Chrome DevTools or summarise it with
// `node bench/lib/cpu-top.mjs <file>`.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.CAPSTAN_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on('exit', write);
  process.prependListener('SIGTERM', write);
}
