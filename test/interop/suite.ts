import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecError } from '../../src/errors.js';
import { compareManifests } from '../../src/manifest/compare.js';
import { localManifest, remoteManifest } from '../../src/manifest/manifest.js';
import { push } from '../../src/push/push.js';
import { runCli } from '../helpers/cli.js';
import { makeLocalTree, TREE_SCRIPT } from '../unit/manifest/helpers.js';
import { INTEROP_MAX_SESSIONS, type ServerKind, type TestServer } from './test-server.js';

const ALIAS = 'interop';
const SMALL = '40';

/**
 * The client against one SSH server: the pool, `sshmux ssh` and its daemon, manifests and
 * push. The same bodies run against the OpenSSH container (test/integration/interop.test.ts)
 * and the embedded ssh2 server (test/embedded/interop.test.ts).
 */
export function interopSuite(kind: ServerKind): void {
  const title = `interop with the ${kind.name} (MaxSessions ${INTEROP_MAX_SESSIONS})`;
  const why = kind.unsupportedHere();
  // Said, never silent: CI (SSHMUX_REQUIRE_INTEGRATION=1) fails on any skipped test of the suite.
  if (why) process.stderr.write(`sshmux: ${title} skipped: ${why}\n`);
  (why ? describe.skip : describe)(why ? `${title} (skipped: ${why})` : title, () => {
    let server: TestServer;
    let config: string;
    let runtimeDir: string;
    const locals: string[] = [];
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, SSH_AUTH_SOCK: '' };
      delete e.SSHMUX_NO_DAEMON;
      delete e.SSHMUX_RUNTIME_DIR;
      return { ...e, ...extra };
    };
    const ssh = (args: string[], extra: Record<string, string> = {}) =>
      runCli(['ssh', '-F', config, ...args], { env: env(extra) });
    const daemonPids = (): number[] => {
      try {
        return execFileSync('pgrep', ['-f', `daemon.js --runtime-dir ${path.join(runtimeDir, 'sshmux')}`], {
          encoding: 'utf8',
        })
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map(Number);
      } catch {
        return [];
      }
    };

    beforeAll(async () => {
      server = await kind.start();
      config = server.writeSshConfig(ALIAS);
      runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-interop-'));
      const script = readFileSync(TREE_SCRIPT, 'utf8');
      await server.sh(`export SMALL=${SMALL} SPARSE=3M; set -- tree\n${script}`);
    });
    afterAll(async () => {
      if (runtimeDir) {
        await ssh(['-O', 'exit', ALIAS]).catch(() => undefined);
        for (const pid of daemonPids()) process.kill(pid, 'SIGKILL');
        rmSync(runtimeDir, { recursive: true, force: true });
      }
      for (const dir of locals) rmSync(path.dirname(dir), { recursive: true, force: true });
      await server?.stop();
    });

    it('pool: exec of argv and strings, stdout and stderr, exit codes, stdin, check, death by signal', async () => {
      await using pool = server.pool();
      const host = server.hostConfig();
      const r = await pool.exec(host, ['printf', '%s|', 'a b', "it's", '$HOME'], { encoding: 'utf8' });
      expect(r).toMatchObject({ stdout: "a b|it's|$HOME|", stderr: '', exitCode: 0, signal: null });
      expect(await pool.exec(host, 'echo out; echo err >&2; exit 3', { encoding: 'utf8' })).toMatchObject({
        stdout: 'out\n',
        stderr: 'err\n',
        exitCode: 3,
      });
      const err = await pool.exec(host, 'echo boom >&2; exit 4', { check: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecError);
      expect(err).toMatchObject({ exitCode: 4, kind: 'remote', stderr: 'boom\n' });
      expect((await pool.exec(host, ['cat'], { stdin: 'fed through stdin', encoding: 'utf8' })).stdout).toBe(
        'fed through stdin',
      );
      expect(await pool.exec(host, 'kill -TERM $$')).toMatchObject({ exitCode: null, signal: 'TERM' });
      expect((await pool.exec(host, 'pwd', { encoding: 'utf8' })).stdout).toBe(`${server.home}\n`);
    });

    it('pool: spawn with streams, stdin from the caller and the exit status', async () => {
      await using pool = server.pool();
      const proc = await pool.spawn(server.hostConfig(), ['sh', '-c', 'tr a-z A-Z; exit 7']);
      const out: Buffer[] = [];
      proc.stdout.on('data', (d: Buffer) => out.push(d));
      proc.stderr.resume();
      proc.stdin.end('hello spawn\n');
      expect(await proc.exited).toEqual({ code: 7, signal: null });
      expect(Buffer.concat(out).toString()).toBe('HELLO SPAWN\n');
      expect(pool.stats().openChannels).toBe(0);
    });

    it('pool: a burst of 60 past MaxSessions succeeds with at most maxConnectionsPerHost logins', async () => {
      const before = await server.countLogins('backup');
      // channelsPerConnection overshoots MaxSessions: the pool must learn it from the refusals.
      await using pool = server.pool({
        concurrency: 60,
        channelsPerConnection: 10,
        maxConnectionsPerHost: 4,
      });
      const host = server.hostConfig();
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) => pool.exec(host, `sleep 0.2; echo ${i}`, { encoding: 'utf8' })),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.stdout : ''))).toEqual(
        Array.from({ length: 60 }, (_, i) => `${i}\n`),
      );
      const logins = (await server.countLogins('backup')) - before;
      expect(logins).toBeGreaterThanOrEqual(2);
      expect(logins).toBeLessThanOrEqual(4);
      // A connection that was refused has learned the server's limit; one never refused keeps 10.
      expect(Math.min(...pool.stats().perHost[0]!.capacities)).toBeLessThanOrEqual(INTEROP_MAX_SESSIONS);
      expect(pool.stats()).toMatchObject({ openChannels: 0, queued: 0 });
    });

    it('pool: 20 concurrent first calls on one connection make one login and wait for free sessions', async () => {
      const before = await server.countLogins('backup');
      await using pool = server.pool({ maxConnectionsPerHost: 1 });
      const host = server.hostConfig();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => pool.exec(host, `echo ${i}`, { encoding: 'utf8' })),
      );
      expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
      expect((await server.countLogins('backup')) - before).toBe(1);
    });

    it('sshmux ssh: processes share one login through the daemon, and each logs in with SSHMUX_NO_DAEMON=1', async () => {
      const n = INTEROP_MAX_SESSIONS;
      for (const [extra, logins] of [
        [{ SSHMUX_NO_DAEMON: '1' }, n],
        [{}, 1],
      ] as const) {
        const before = await server.countLogins('backup');
        const runs = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            ssh([ALIAS, `echo out ${i}; echo err ${i} >&2; exit ${i + 3}`], extra),
          ),
        );
        const said = JSON.stringify(runs.map((r) => r.stderr));
        expect(
          runs.map((r) => r.code),
          said,
        ).toEqual(Array.from({ length: n }, (_, i) => i + 3));
        expect(runs.map((r) => r.stdout.toString())).toEqual(
          Array.from({ length: n }, (_, i) => `out ${i}\n`),
        );
        expect(runs.map((r) => r.stderr)).toEqual(Array.from({ length: n }, (_, i) => `err ${i}\n`));
        expect((await server.countLogins('backup')) - before, `${JSON.stringify(extra)} ${said}`).toBe(
          logins,
        );
      }
      expect(daemonPids()).toHaveLength(1);
      // The daemon's connection serves the next process too: no new login.
      const before = await server.countLogins('backup');
      const again = await ssh([ALIAS, 'cat'], {});
      expect(again.code).toBe(0);
      expect((await server.countLogins('backup')) - before).toBe(0);
      const check = await ssh(['-O', 'check', ALIAS]);
      expect(check.stderr).toMatch(/^Master running \(pid=\d+/);
    });

    it('manifests: the remote tree hashed in one exec equals the same tree hashed locally; a changed byte shows', async () => {
      const local = makeLocalTree({ SMALL, SPARSE: '3M' });
      locals.push(local);
      await using pool = server.pool();
      const tree = { dest: server.hostConfig(), path: 'tree' };
      const [remote, mine] = await Promise.all([remoteManifest(pool, tree), localManifest(local)]);
      const same = compareManifests(mine, remote);
      expect(same).toMatchObject({ missing: [], extra: [], mismatched: [] });
      expect(same.identical.length).toBeGreaterThan(Number(SMALL));
      expect(remote.get('latin1-\xe9t\xe9-\xff')?.type).toBe('file');
      expect(remote.get('link')).toEqual({ type: 'symlink', target: 'target with space' });

      writeFileSync(path.join(local, 'many/0/f7'), 'small file 8\n');
      const cliArgs = ['verify', '-F', config, local, `${ALIAS}:tree`];
      const differs = await runCli(cliArgs, { env: env({ SSHMUX_NO_DAEMON: '1' }) });
      expect(differs.code).toBe(1);
      expect(differs.stdout.toString()).toContain('many/0/f7');
      writeFileSync(path.join(local, 'many/0/f7'), 'small file 7\n');
      expect((await runCli(cliArgs, { env: env({ SSHMUX_NO_DAEMON: '1' }) })).code).toBe(0);
    });

    it('push: a hostile tree pushed and verified, then nothing to send, then only the changed file', async () => {
      const local = makeLocalTree({ SMALL, SPARSE: '3M' });
      locals.push(local);
      await using pool = server.pool();
      const tree = { dest: server.hostConfig(), path: "pushed -'x'" };
      const first = await push(pool, local, tree, { verify: true });
      expect(first.verified).toBe(true);
      expect(first.symlinks.sort()).toEqual(['link', 'link-to-file']);
      expect(first.uploaded).toContain('latin1-\xe9t\xe9-\xff');
      expect(await server.sh(`readlink "pushed -'x'/link" && cat "pushed -'x'/sub dir/-nested/file"`)).toBe(
        'target with space\nnested\n',
      );

      const second = await push(pool, local, tree);
      expect(second.uploaded).toEqual([]);

      writeFileSync(path.join(local, 'many/0/f30'), 'changed\n');
      const third = await runCli(['push', '-F', config, '--verify', local, `${ALIAS}:pushed -'x'`], {
        env: env({ SSHMUX_NO_DAEMON: '1' }),
      });
      expect(third.code).toBe(0);
      expect(await server.sh(`cat "pushed -'x'/many/0/f30"`)).toBe('changed\n');
      const m = await remoteManifest(pool, tree);
      expect([...m.keys()].filter((p) => p.includes('.sshmux-partial'))).toEqual([]);
    });
  });
}
