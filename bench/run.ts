/**
 * Entry for `npm run bench`: install the ssh2 interop hook for test/helpers (see
 * lib/ssh2-interop-hooks.mjs), then run the benchmark in main.ts.
 */
import { register } from 'node:module';

register('./lib/ssh2-interop-hooks.mjs', import.meta.url);
await import('./main.js');
