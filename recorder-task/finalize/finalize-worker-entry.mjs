// Worker threads do not inherit the main thread's `--import tsx` loader hooks on Node 20:
// register tsx for this thread, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./finalize-worker.ts');
