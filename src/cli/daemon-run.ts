/** The daemon's body, loaded by daemon.ts once the process is guarded. */
import { selectEndpoint } from '../mux/endpoint.js';
import { runDaemon } from '../mux/run-daemon.js';
import { VERSION } from './version.js';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const argv = process.argv.slice(2);
const runtimeDir = option(argv, '--runtime-dir');
if (runtimeDir) process.env.SSHMUX_RUNTIME_DIR = runtimeDir;
const persist = Number(option(argv, '--persist') ?? '60');

runDaemon({
  endpoint: selectEndpoint(),
  version: VERSION,
  persistMs: Number.isFinite(persist) && persist >= 0 ? persist * 1000 : 60_000,
  logLevel: process.env.SSHMUX_DAEMON_LOG_LEVEL ?? 'info',
}).then(
  (code) => process.exit(code),
  () => process.exit(1),
);
