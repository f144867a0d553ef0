import { startSshd } from '../helpers/sshd.js';
import { INTEROP_MAX_SESSIONS, type ServerKind, type TestServer } from './test-server.js';

/** The reference: OpenSSH's sshd in the Dockerfile.sshd container. */
export const containerServer: ServerKind = {
  name: 'OpenSSH sshd (container)',
  // The integration project exists only where a Docker engine answers.
  unsupportedHere: () => undefined,
  async start(): Promise<TestServer> {
    const sshd = await startSshd({ sshdOptions: [`MaxSessions=${INTEROP_MAX_SESSIONS}`] });
    return {
      host: sshd.host,
      port: sshd.port,
      keyPath: sshd.keyPath,
      knownHostsFile: sshd.knownHostsFile,
      tmpDir: sshd.tmpDir,
      home: '/home/backup',
      hostConfig: (user) => sshd.hostConfig(user),
      pool: (options) => sshd.pool(options),
      writeSshConfig: (alias, user) => sshd.writeSshConfig(alias, user),
      countLogins: (user) => sshd.countLogins(user),
      sh: (script) => sshd.sh(`cd /home/backup && ${script}`, 'backup'),
      stop: () => sshd.stop(),
    };
  },
};
