#!/usr/bin/env node
// The `sshmux` binary. It runs dist/cli/bundle.cjs, the whole CLI bundled into one CommonJS file
// (scripts/bundle-cli.mjs), compiled with a V8 code cache kept in the user's cache directory:
// git and Ansible start `sshmux ssh` once per fetch or task, and a warm call through the daemon
// otherwise spends most of its CPU resolving, reading and compiling ~100 ES modules.
// Nothing here may change what the CLI does: without a usable cache it only compiles afresh.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';

const bundle = path.join(__dirname, 'bundle.cjs');

/** Which code a run compiles: a cache is kept per kind, each made by the first run of its kind. */
export function runKind(argv: readonly string[]): string {
  const command = argv[0];
  if (command !== 'ssh' && command !== 'scp' && command !== 'sftp') return 'cli';
  return command === 'ssh' && argv.includes('-G') ? 'ssh-G' : command;
}

/** The per-user cache directory, or undefined when there is none this user alone may write. */
export function cacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string | undefined {
  // Not %LOCALAPPDATA%\sshmux: that is the daemon's directory, whose owner and ACL it checks.
  const posixBase = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  const dir =
    platform === 'win32'
      ? env.LOCALAPPDATA && path.join(env.LOCALAPPDATA, 'sshmux-cache')
      : posixBase && path.join(posixBase, 'sshmux');
  if (!dir || !path.isAbsolute(dir)) return undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ownedPrivately(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether only this user can have written `file`. V8 checks a cache against the source's length
 * only, so a cache someone else could write would be code they could make us run.
 */
function ownedPrivately(file: string): boolean {
  if (process.platform === 'win32') return true;
  const st = lstatSync(file);
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0 && !st.isSymbolicLink();
}

function readCache(file: string): Buffer | undefined {
  try {
    return ownedPrivately(file) ? readFileSync(file) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, data: Buffer): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // never written
    }
  }
}

function main(): void {
  let source: string;
  try {
    source = readFileSync(bundle, 'utf8');
  } catch (err) {
    process.stderr.write(
      `sshmux: cannot read ${bundle} (${(err as Error).message}); run \`npm run build\`\n`,
    );
    process.exitCode = 2;
    return;
  }
  const dir = cacheDir();
  // The key names the exact source (a stale cache of the same length would be accepted by V8).
  const key = createHash('sha256').update(source).update(process.version).update(process.arch).digest('hex');
  const cacheFile =
    dir === undefined
      ? undefined
      : path.join(dir, `code-${key.slice(0, 32)}-${runKind(process.argv.slice(2))}.cache`);
  const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile);
  const script = new Script(Module.wrap(source), {
    filename: bundle,
    ...(cachedData !== undefined && { cachedData }),
  });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    // Made at exit, so it holds the functions this kind of run compiled, not only the top level.
    process.once('exit', () => writeCache(cacheFile, script.createCachedData()));
  }
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  wrapper.call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, __dirname);
}

if (require.main === module) main();
