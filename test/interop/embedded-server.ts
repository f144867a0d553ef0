import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { startEmbeddedSshd } from '../helpers/embedded/embedded-sshd.js';
import { INTEROP_MAX_SESSIONS, type ServerKind, type TestServer } from './test-server.js';

const run = promisify(execFile);

/** The second implementation: ssh2's Server in the test process, commands run locally. */
export const embeddedServer: ServerKind = {
  name: 'embedded ssh2 server',
  unsupportedHere,
  async start(): Promise<TestServer> {
    const s = await startEmbeddedSshd({ maxSessions: INTEROP_MAX_SESSIONS });
    return {
      host: s.host,
      port: s.port,
      keyPath: s.keyPath,
      knownHostsFile: s.knownHostsFile,
      tmpDir: s.tmpDir,
      home: s.home,
      hostConfig: (user) => s.hostConfig(user),
      pool: (options) => s.pool(options),
      writeSshConfig: (alias, user) => s.writeSshConfig(alias, user),
      countLogins: (user) => s.countLogins(user),
      sh: async (script) => (await run('/bin/sh', ['-c', script], { cwd: s.home, encoding: 'utf8' })).stdout,
      stop: () => s.stop(),
    };
  },
};

/**
 * The embedded server runs commands on this machine, and the suite's bodies (like sshmux's
 * manifests and push) expect a GNU/Linux server's userland: on macOS or Windows say so.
 */
function unsupportedHere(): string | undefined {
  if (process.platform === 'win32')
    return 'the bodies run POSIX sh commands on the server, and here the server is Windows';
  try {
    execFileSync(
      '/bin/sh',
      ['-c', "find . -maxdepth 0 -printf '' && sha256sum --version && truncate --version && touch --version"],
      { stdio: 'ignore' },
    );
    return undefined;
  } catch {
    return 'the server side of manifests and push needs GNU find, coreutils and truncate, which this machine lacks';
  }
}
