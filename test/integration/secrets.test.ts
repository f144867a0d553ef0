import { execFile, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { btrfsAvailable, CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { runCli } from './mux-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PASSPHRASE = 'correct horse battery staple 7f3a9c';

/** The base64 body of an OpenSSH private key file, as lines: any one of them in a log is a leak. */
function keyBodyLines(pem: string): string[] {
  return pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .filter((l) => l.length >= 20);
}

/**
 * Whole CLI flows at -vv and --log-json -vv, with an encrypted key (SSHMUX_PASSPHRASE) and an
 * agent: neither key material, the passphrase nor the daemon token may reach any log.
 */
describe('secrets never reach the logs', () => {
  let sshd: StartedSshd;
  const btrfs = btrfsAvailable();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-secrets-'));
  const runtimeDir = path.join(dir, 'xdg');
  const config = path.join(dir, 'config');
  const encKey = path.join(dir, 'id_enc');
  let agentSock = '';
  let agentPid = 0;
  let forbidden: string[] = [];

  beforeAll(async () => {
    mkdirSync(runtimeDir, { mode: 0o700 });
    // Build while the container starts: the CLI runs from dist/.
    const built = new Promise<void>((resolve) =>
      execFile('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT }, () => resolve()),
    );
    sshd = await startSshd({ btrfs });
    await built;
    const enc = ssh2.utils.generateKeyPairSync('ed25519', {
      passphrase: PASSPHRASE,
      cipher: 'aes256-ctr',
    } as Parameters<typeof ssh2.utils.generateKeyPairSync>[1]);
    writeFileSync(encKey, enc.private, { mode: 0o600 });
    // authorized_keys is bind-mounted from the host: the new key is authorized at once.
    appendFileSync(path.join(sshd.tmpDir, 'authorized_keys'), `${enc.public}\n`);
    // An agent holding the harness key (unencrypted on disk: the agent path must not log it either).
    const out = execFileSync('ssh-agent', ['-s', '-a', path.join(dir, 'agent.sock')], { encoding: 'utf8' });
    agentSock = /SSH_AUTH_SOCK=([^;]+);/.exec(out)![1]!;
    agentPid = Number(/SSH_AGENT_PID=(\d+);/.exec(out)![1]);
    execFileSync('ssh-add', ['-q', sshd.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } });
    const common = [
      `  HostName ${sshd.host}`,
      `  Port ${sshd.port}`,
      `  UserKnownHostsFile ${sshd.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode no',
    ];
    writeFileSync(
      config,
      [
        'Host enc',
        ...common,
        '  User backup',
        `  IdentityFile ${encKey}`,
        '  IdentitiesOnly yes',
        'Host agent',
        ...common,
        '  User backup',
        `  IdentityFile ${path.join(dir, 'no-such-key')}`,
        'Host agentroot',
        ...common,
        '  User root',
        `  IdentityFile ${path.join(dir, 'no-such-key')}`,
        '',
      ].join('\n'),
    );
    await sshd.sh(
      'mkdir -p /home/backup/tree && echo hello > /home/backup/tree/a && chown -R backup /home/backup',
    );
    forbidden = [
      PASSPHRASE,
      ...keyBodyLines(enc.private),
      ...keyBodyLines(readFileSync(sshd.keyPath, 'utf8')),
    ];
  });

  afterAll(async () => {
    await runCli(['ssh', '-O', 'exit', 'x'], { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } }).catch(
      () => {},
    );
    for (const pid of daemonPids()) process.kill(pid, 'SIGKILL');
    if (agentPid) process.kill(agentPid, 'SIGTERM');
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function daemonPids(): number[] {
    try {
      return execFileSync('pgrep', ['-f', '--', `--runtime-dir ${runtimeDir}`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  /** Every file the daemon keeps (its log included), concatenated, and the token it holds. */
  function daemonFiles(): { text: string; token: string } {
    const d = path.join(runtimeDir, 'sshmux');
    let text = '';
    let token = '';
    for (const f of readdirSync(d)) {
      try {
        const body = readFileSync(path.join(d, f), 'utf8');
        if (f === 'token') token = body.trim();
        else text += body;
      } catch {
        // sockets and the like
      }
    }
    return { text, token };
  }

  const env = (extra: Record<string, string> = {}) => {
    const e: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, ...extra };
    delete e.SSH_AUTH_SOCK;
    delete e.SSHMUX_NO_DAEMON;
    delete e.SSHMUX_PASSPHRASE;
    return { ...e, ...extra };
  };

  const flows: [string, string[], Record<string, string>][] = [
    // The daemon never gets a passphrase (it cannot ask, and SSHMUX_PASSPHRASE is not sent to
    // it): an encrypted key is used by the in-process front.
    [
      'ssh (in-process), encrypted key',
      ['ssh', '-F', config, 'enc', 'echo ok'],
      { SSHMUX_PASSPHRASE: PASSPHRASE, SSHMUX_NO_DAEMON: '1' },
    ],
    ['ssh (daemon), agent', ['ssh', '-F', config, 'agent', 'echo ok'], {}],
    [
      'hashsum, encrypted key',
      ['hashsum', '-F', config, 'enc:/home/backup/tree'],
      { SSHMUX_PASSPHRASE: PASSPHRASE },
    ],
    ['hashsum, agent', ['hashsum', '-F', config, 'agent:/home/backup/tree'], {}],
    [
      'push, encrypted key',
      ['push', '-F', config, ROOT_FIXTURE(), 'enc:pushed'],
      { SSHMUX_PASSPHRASE: PASSPHRASE },
    ],
  ];

  function ROOT_FIXTURE(): string {
    const src = path.join(dir, 'push-src');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'f'), 'pushed\n');
    return src;
  }

  for (const json of [false, true]) {
    for (const [name, args, extra] of flows) {
      it(`${name}${json ? ', --log-json' : ''} -vv: succeeds and logs no secret`, async () => {
        const needsAgent = name.includes('agent');
        const r = await runCli([...(json ? ['--log-json'] : []), '-vv', ...args], {
          env: env({ ...extra, ...(needsAgent && { SSH_AUTH_SOCK: agentSock }) }),
        });
        expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
        // The flows really logged at debug level (so the check below looked at something).
        expect(r.stderr).toMatch(json ? /"level":20/ : /sshmux\[debug\]/);
        const { text, token } = daemonFilesIfAny();
        const all = `${r.stderr}\n${r.stdout.toString()}\n${text}`;
        for (const secret of [...forbidden, ...(token ? [token] : [])]) {
          expect(all.includes(secret), `secret ${secret.slice(0, 8)}… in the output of ${name}`).toBe(false);
        }
      });
    }
  }

  function daemonFilesIfAny(): { text: string; token: string } {
    try {
      return daemonFiles();
    } catch {
      return { text: '', token: '' };
    }
  }

  it.runIf(btrfs)('btrfs send -vv --log-json through the agent (root) logs no secret', async () => {
    const src = sshd.btrfs!.source;
    execFileSync('btrfs', ['subvolume', 'create', path.join(src, 'vol')], { stdio: 'ignore' });
    writeFileSync(path.join(src, 'vol', 'x'), 'x\n');
    execFileSync('btrfs', ['subvolume', 'snapshot', '-r', path.join(src, 'vol'), path.join(src, 'snap')], {
      stdio: 'ignore',
    });
    await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/in`);
    for (const json of [false, true]) {
      const r = await runCli(
        [
          ...(json ? ['--log-json'] : []),
          '-vv',
          'btrfs',
          'send',
          '-F',
          config,
          '--no-progress',
          path.join(src, 'snap'),
          `agentroot:${CONTAINER_BTRFS}/in`,
        ],
        { env: env({ SSH_AUTH_SOCK: agentSock }) },
      );
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stderr).toMatch(json ? /"level":20/ : /sshmux\[debug\]/);
      for (const secret of forbidden) expect(r.stderr.includes(secret)).toBe(false);
    }
  });

  it('the daemon token exists, so the check above looked for it', () => {
    expect(daemonFiles().token.length).toBeGreaterThanOrEqual(16);
  });
});
