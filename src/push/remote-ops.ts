import { RemoteError } from '../errors.js';
import { rawToBytes, safeRemoteDir, shellAssign } from '../manifest/raw-path.js';
import type { Destination, RemoteRunner } from '../pool/types.js';
import { quoteArg, shellCommand } from '../quote.js';

/**
 * Tree operations done by one exec each, whatever the number of paths: the paths travel on
 * stdin NUL-separated (`./`-prefixed, so no name is ever an option) into `xargs -0`, and the
 * root as printf octal data, so every byte of every name survives (SFTP in ssh2 only takes
 * UTF-8 strings).
 */
export class RemoteOps {
  readonly #runner: RemoteRunner;
  readonly #dest: Destination;
  readonly #root: string;
  readonly #signal: AbortSignal | undefined;

  constructor(runner: RemoteRunner, dest: Destination, rawRoot: string, signal?: AbortSignal) {
    this.#runner = runner;
    this.#dest = dest;
    this.#root = rawRoot;
    this.#signal = signal;
  }

  /** `cd` into the root (created when `create`) and then run `body`. */
  script(body: string, create = false): string {
    const enter = create ? 'mkdir -p -- "$r" && cd -- "$r"' : 'cd -- "$r"';
    return `${shellAssign('r', safeRemoteDir(this.#root))} && ${enter} && ${body}`;
  }

  async run(body: string, stdin: Buffer | string = '', create = false): Promise<Buffer> {
    const command = shellCommand(['sh', '-c', this.script(body, create), 'sshmux-push']);
    const r = await this.#runner.exec(this.#dest, command, {
      stdin,
      track: true,
      ...(this.#signal && { signal: this.#signal }),
    });
    if (r.exitCode !== 0) {
      const stderr = Buffer.isBuffer(r.stderr) ? r.stderr.toString('latin1') : r.stderr;
      throw new RemoteError(
        `Remote ${body.split(' ')[0]} failed (exit ${r.exitCode}): ${stderr.trim().slice(-2000)}`,
        {
          destination: typeof this.#dest === 'string' ? this.#dest : this.#dest.originalHost,
        },
      );
    }
    return Buffer.isBuffer(r.stdout) ? r.stdout : Buffer.from(r.stdout);
  }

  /** Create the root directory itself. */
  async ensureRoot(): Promise<void> {
    await this.run('true', '', true);
  }

  /** Run `argv… -- ./p1 ./p2 …` in batches via xargs; nothing when `paths` is empty. */
  async each(argv: string[], paths: readonly string[], perCall?: number): Promise<void> {
    if (paths.length === 0) return;
    const n = perCall ? `-n ${perCall} ` : '';
    await this.run(`exec xargs -0 -r ${n}${argv.map(quoteArg).join(' ')}`, nulList(paths.map(dotSlash)));
  }

  async mkdirs(paths: readonly string[]): Promise<void> {
    await this.each(['mkdir', '-p', '--'], paths);
  }

  async remove(paths: readonly string[]): Promise<void> {
    await this.each(['rm', '-rf', '--'], paths);
  }

  /** Set permission bits, grouped by mode: one exec per distinct mode. */
  async chmod(items: readonly { path: string; mode: number }[]): Promise<void> {
    const byMode = new Map<number, string[]>();
    for (const { path, mode } of items) byMode.set(mode, [...(byMode.get(mode) ?? []), path]);
    for (const [mode, paths] of byMode) await this.each(['chmod', mode.toString(8), '--'], paths);
  }

  /** Create or replace symlinks (`ln -sfn`); targets are data, never `./`-prefixed. */
  async symlinks(items: readonly { path: string; target: string }[]): Promise<void> {
    if (items.length === 0) return;
    const stdin = nulList(items.flatMap(({ path, target }) => [target, dotSlash(path)]));
    await this.run(`exec xargs -0 -r -n 2 sh -c 'ln -sfn -- "$1" "$2"' ln`, stdin);
  }

  /** SHA-256 of the first `length` bytes of one remote file. */
  async sha256Prefix(path: string, length: number): Promise<string> {
    const body = `${shellAssign('p', dotSlash(path))} && head -c ${Math.floor(length)} -- "$p" | sha256sum`;
    const out = (await this.run(body)).toString('latin1');
    const m = /^([0-9a-f]{64}) /.exec(out);
    if (!m) throw new RemoteError(`Unexpected sha256sum output: ${JSON.stringify(out.slice(0, 100))}`);
    return m[1]!;
  }

  /** Body of an exec-channel write for names SFTP cannot carry: stdin appended to the temporary file (emptied first unless continuing). */
  writeScript(item: { tmp: string; start: number }): string {
    return [
      shellAssign('t', dotSlash(item.tmp)),
      item.start === 0 ? ': > "$t"' : 'true',
      'exec cat >> "$t"',
    ].join(' && ');
  }

  uploadCommand(item: { tmp: string; start: number }): string {
    return shellCommand(['sh', '-c', this.script(this.writeScript(item)), 'sshmux-put']);
  }

  /** Mode, mtime, then an atomic `mv` of the temporary file over the final name. */
  finishScript(item: { path: string; tmp: string; mode: number; mtime: number }): string {
    return [
      shellAssign('f', dotSlash(item.path)),
      shellAssign('t', dotSlash(item.tmp)),
      `chmod ${item.mode.toString(8)} -- "$t"`,
      `touch -m -d @${Math.floor(item.mtime)} -- "$t"`,
      'mv -f -- "$t" "$f"',
    ].join(' && ');
  }

  /** Set mode and mtime of existing files: one exec, triples on stdin. */
  async setAttributes(items: readonly { path: string; mode: number; mtime: number }[]): Promise<void> {
    if (items.length === 0) return;
    const stdin = nulList(
      items.flatMap((i) => [i.mode.toString(8), `@${Math.floor(i.mtime)}`, dotSlash(i.path)]),
    );
    await this.run(
      `exec xargs -0 -r -n 3 sh -c 'chmod "$1" -- "$3" && touch -m -d "$2" -- "$3"' attrs`,
      stdin,
    );
  }
}

function dotSlash(rel: string): string {
  return `./${rel}`;
}

function nulList(raws: readonly string[]): Buffer {
  return Buffer.concat(raws.flatMap((r) => [rawToBytes(r), Buffer.from([0])]));
}
