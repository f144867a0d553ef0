// The CLI's entry, unbundled (the `sshmux` binary is sshmux.cts, which runs the bundle made
// from this file). Guard the process before anything else loads (see process-guard.ts), then
// run the CLI. No top-level await: the bundle is CommonJS.
import { guardProcess } from './process-guard.js';

guardProcess();
void import('./run.js');
