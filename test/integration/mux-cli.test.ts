import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { MuxSandbox } from './mux-helpers.js';

/** The `ssh` arguments of a full CLI argv (after `node main.js ssh`). */
function argvTail(argv: string[]): string[] {
  return argv.slice(3);
}

/** The OpenSSH-compatible surface of `sshmux ssh`: -V, -G, refusals, and the in-process mode. */
describe('sshmux ssh front', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  beforeAll(async () => {
    sshd = await startSshd();
    box = new MuxSandbox(sshd);
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  it('-V prints a version line on stderr and exits 0 without connecting', async () => {
    const r = await box.run(['-V']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(/^sshmux_\d+\.\d+\.\d+ \(OpenSSH-compatible front\), ssh2 [\d.]+, node v\d+/);
    expect(box.daemonPids()).toEqual([]);
  });

  it('-G prints the resolved configuration (as git’s variant probe runs it) and exits 0', async () => {
    const r = await box.run(['-G', '-o', 'SendEnv=GIT_PROTOCOL', '-p', '2222', '-l', 'git', 'example.org']);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^hostname example\.org$/m);
    expect(out).toMatch(/^port 2222$/m);
    expect(out).toMatch(/^user git$/m);
    expect(out).toMatch(/^sendenv GIT_PROTOCOL$/m);
    expect(box.daemonPids()).toEqual([]);
  });

  it('-G reads -F config files', async () => {
    const config = path.join(box.runtimeDir, 'cfg');
    writeFileSync(config, 'Host alias\n  HostName 10.1.2.3\n  Port 2200\n  User bob\n');
    const r = await box.run(['-F', config, '-G', 'alias']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^hostname 10\.1\.2\.3$/m);
    expect(r.stdout.toString()).toMatch(/^user bob$/m);
    expect(r.stdout.toString()).toMatch(/^port 2200$/m);
  });

  it('refuses an unsupported option by name with 255', async () => {
    const r = await box.run(['-X', ...box.sshArgs(), 'true']);
    expect(r.code).toBe(255);
    // -G prints -X as ssh does (forwardx11 yes); connecting with it is refused, naming it.
    expect(r.stderr).toBe(
      "sshmux: option -X is not supported by sshmux when connecting (only with -G); use OpenSSH's ssh for it\n",
    );
  });

  it('runs the login shell without a pty when no command is given and stdin is piped', async () => {
    const r = await box.run(box.sshArgs(), { input: 'echo shell-ran; tty; exit 3\n' });
    expect(r.code).toBe(3);
    expect(r.stdout.toString()).toBe('shell-ran\nnot a tty\n');
    expect(r.stderr).toBe('Pseudo-terminal will not be allocated because stdin is not a terminal.\r\n');
  });

  it('fails an unknown host key under `ask` without a terminal: 255 and the reason, no prompt', async () => {
    const empty = path.join(box.runtimeDir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await box.run([
      '-i',
      sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${empty}`,
      '-o',
      'StrictHostKeyChecking=ask',
      '-p',
      String(sshd.port),
      `root@${sshd.host}`,
      'true',
    ]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/^sshmux: .*127\.0\.0\.1/);
    expect(r.stderr).toMatch(/host key/i);
    const quiet = await box.run([
      '-q',
      '-i',
      sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${empty}`,
      '-p',
      String(sshd.port),
      `root@${sshd.host}`,
      'true',
    ]);
    expect(quiet.code).toBe(255);
    expect(quiet.stderr).toBe('');
  });

  it('under `ask` with a terminal, this process prompts (never the daemon), records the key, then uses the daemon', async () => {
    const known = path.join(box.runtimeDir, 'ask_known_hosts');
    writeFileSync(known, '');
    const argv = [
      process.execPath,
      box.cliPath,
      'ssh',
      '-i',
      sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${known}`,
      '-p',
      String(sshd.port),
      `root@${sshd.host}`,
      'echo via-$((6*7))',
    ];
    // `script` gives the client a controlling terminal, as a person at a shell would have.
    const shellLine = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
    const transcript = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', shellLine, '/dev/null'], { env: box.env(), stdio: 'pipe' });
      let out = '';
      let answered = false;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!answered && out.includes('continue connecting')) {
          answered = true;
          child.stdin.write('yes\n');
        }
      });
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    expect(transcript).toContain("The authenticity of host '[127.0.0.1]:");
    expect(transcript).toContain('via-42');
    // Debian's ssh_config sets HashKnownHosts, so the name may be hashed.
    expect(readFileSync(known, 'utf8')).toMatch(/^(\|1\|\S+|\[127\.0\.0\.1\]:\d+) ssh-ed25519 AAAA/m);
    // Known now: the next call runs through the daemon without asking.
    const next = await box.run([...argvTail(argv)], { stdin: 'ignore' });
    expect(next.code).toBe(0);
    expect(next.stdout.toString()).toBe('via-42\n');
    expect(box.daemonPids()).toHaveLength(1);
  });

  it('SSHMUX_NO_DAEMON=1 connects in-process with the same behaviour and starts no daemon', async () => {
    const direct = new MuxSandbox(sshd);
    try {
      const env = { SSHMUX_NO_DAEMON: '1' };
      const ok = await direct.run([...direct.sshArgs(), 'cat; echo err >&2; exit 5'], { input: 'data', env });
      expect(ok.code).toBe(5);
      expect(ok.stdout.toString()).toBe('data');
      expect(ok.stderr).toBe('err\n');
      const killed = await direct.run([...direct.sshArgs(), 'kill -9 $$'], { env });
      expect(killed.code).toBe(255);
      const n = await direct.run(['-n', ...direct.sshArgs(), 'wc -c'], { input: 'xyz', env });
      expect(n.stdout.toString().trim()).toBe('0');
      const v2 = await direct.run([...direct.sshArgs(), 'echo $GIT_PROTOCOL'], {
        env: { ...env, GIT_PROTOCOL: 'version=2' },
      });
      expect(v2.stdout.toString()).toBe('version=2\n');
      expect(direct.daemonPids()).toEqual([]);
    } finally {
      await direct.cleanup();
    }
  });
});
