import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, runProgram } from '../helpers/cli.js';
import { itPosix } from '../helpers/posix-only.js';

/**
 * The `sshmux` binary (dist/cli/sshmux.cjs) runs the bundled CLI with a V8 code cache in the
 * user's cache directory. What it runs must be the CLI, cache or no cache, and a cache it did
 * not make itself (corrupt, or writable by others) must never be used.
 */
describe('the sshmux binary and its code cache', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function cacheHome(): { env: NodeJS.ProcessEnv; dir: string } {
    const home = mkdtempSync(path.join(os.tmpdir(), 'sshmux-cache-'));
    dirs.push(home);
    const env = { XDG_CACHE_HOME: path.join(home, 'xdg'), LOCALAPPDATA: path.join(home, 'local') };
    return {
      env,
      dir:
        process.platform === 'win32'
          ? path.join(env.LOCALAPPDATA, 'sshmux-cache')
          : path.join(env.XDG_CACHE_HOME, 'sshmux'),
    };
  }

  const run = (args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) =>
    runProgram(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd });

  it('makes the cache on the first run and reuses it, unchanged, on the next', async () => {
    const { env, dir } = cacheHome();
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    const first = await run(['--version'], env);
    expect(first.stderr).toBe('');
    expect(first.stdout.toString()).toBe(`sshmux ${version}\n`);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^code-[0-9a-f]{32}-cli\.cache$/);
    const file = path.join(dir, files[0]!);
    const made = statSync(file);
    expect(made.size).toBeGreaterThan(1000);
    const second = await run(['--version'], env);
    expect(second.stdout.toString()).toBe(`sshmux ${version}\n`);
    // A rejected cache would have been written again.
    expect(statSync(file).mtimeMs).toBe(made.mtimeMs);
    expect(readdirSync(dir)).toEqual(files);
  });

  it('keeps one cache per kind of run: ssh -G compiles other code than --version', async () => {
    const { env, dir } = cacheHome();
    const g = await run(['ssh', '-G', '-F', 'none', 'example.org'], env);
    expect(g.code).toBe(0);
    expect(g.stdout.toString()).toContain('hostname example.org\n');
    await run(['--version'], env);
    expect(
      readdirSync(dir)
        .map((f) => f.replace(/^code-[0-9a-f]+-/, ''))
        .sort(),
    ).toEqual(['cli.cache', 'ssh-G.cache']);
  });

  it('prints the same ssh -G output as the unbundled entry, byte for byte', async () => {
    const { env } = cacheHome();
    const args = ['ssh', '-G', '-F', 'none', '-p', '2222', '-o', 'User=git', '-l', 'me', 'example.org', 'ls'];
    const bundled = await run(args, env);
    const unbundled = await runProgram(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], {
      env: { ...process.env, ...env },
    });
    expect(bundled.code).toBe(0);
    expect(bundled.stdout.equals(unbundled.stdout)).toBe(true);
    expect(bundled.stderr).toBe(unbundled.stderr);
  });

  it('compiles afresh and writes a good cache over a corrupt one', async () => {
    const { env, dir } = cacheHome();
    await run(['--version'], env);
    const file = path.join(dir, readdirSync(dir)[0]!);
    const garbage = Buffer.alloc(statSync(file).size, 0x5a);
    writeFileSync(file, garbage);
    const r = await run(['--version'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^sshmux \d/);
    expect(readFileSync(file).equals(garbage)).toBe(false);
  });

  itPosix('file modes')('never reads or writes a cache in a directory others may write', async () => {
    const { env, dir } = cacheHome();
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const r = await run(['--version'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^sshmux \d/);
    expect(readdirSync(dir)).toEqual([]);
  });

  itPosix('file modes')('makes its cache directory 0700 and the cache 0600', async () => {
    const { env, dir } = cacheHome();
    await run(['--version'], env);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, readdirSync(dir)[0]!)).mode & 0o777).toBe(0o600);
  });

  it('runs without any cache directory at all', async () => {
    const { env } = cacheHome();
    const cwd = path.dirname(env.XDG_CACHE_HOME!);
    const r = await run(['--version'], { XDG_CACHE_HOME: 'relative', HOME: '', LOCALAPPDATA: '' }, cwd);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^sshmux \d/);
    // A relative XDG_CACHE_HOME is not a cache directory (the XDG spec says to ignore it).
    expect(readdirSync(cwd)).toEqual([]);
  });
});
