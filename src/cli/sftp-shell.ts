import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { SftpStatusError } from '../errors.js';
import type { CopyContext } from '../transfer/copy-context.js';
import { remoteGlob } from '../transfer/remote-glob.js';
import { isDirectory } from '../transfer/sftp-attrs.js';
import type { SftpClient } from '../transfer/sftp-client.js';
import { statvfs } from '../transfer/sftp-extensions.js';
import { appendPath } from '../transfer/sftp-paths.js';
import { statusText } from '../transfer/sftp-status.js';
import { strerror } from '../transfer/strerror.js';
import { COMMANDS } from './sftp-commands.js';
import { processGet, processPut } from './sftp-getput.js';
import { type LsEntry, type LsFlags, printListing, sortEntries } from './sftp-ls.js';
import { printDf } from './sftp-text.js';
import { escapeGlob, splitWords, undoGlobEscape } from './sftp-words.js';

const B = (s: string) => Buffer.from(s, 'latin1');
const S = (b: Buffer) => b.toString('latin1');
const why = (err: unknown) => (err instanceof SftpStatusError ? statusText(err.status) : strerror(err));

export interface ShellIo {
  /** stdout (latin1 text: one char per byte); writes a pending echo first. */
  out(text: string): void;
  /** OpenSSH's error(): one line on stderr; writes a pending echo first. */
  error(line: string): void;
  /** A command line refused while parsing: its error comes before the line's echo, as in sftp. */
  refusal(line: string): void;
  /** The `sftp> line` echo, written before the command's first output (or at its end). */
  echo(line: string): void;
  flush(): void;
}

/** Thrown for a command line sftp refuses before running it (its error was printed); sftp still echoes it. */
class Refused extends Error {
  constructor() {
    super('refused');
  }
}

/**
 * The commands of OpenSSH's sftp (parse_args + parse_dispatch_command), over one SFTP client.
 * `run` returns -1 for a failed command when errors abort (batch mode), 1 for quit, else 0.
 */
export class SftpShell {
  pwd: string;
  showProgress = true;

  private constructor(
    readonly client: SftpClient,
    readonly io: ShellIo,
    readonly copy: CopyContext & { say(line: string): void; quiet: boolean },
    readonly startdir: string,
  ) {
    this.pwd = startdir;
  }

  static async start(client: SftpClient, io: ShellIo, copy: SftpShell['copy']): Promise<SftpShell> {
    return new SftpShell(client, io, copy, S(await client.realpath('.')));
  }

  absolute(path: string): string {
    return path.startsWith('/') ? path : `${this.pwd}${this.pwd.endsWith('/') ? '' : '/'}${path}`;
  }

  absoluteGlob(path: string): string {
    return path.startsWith('/') ? path : `${escapeGlob(this.pwd)}${this.pwd.endsWith('/') ? '' : '/'}${path}`;
  }

  async run(line: string, errAbort: boolean, echo: boolean): Promise<number> {
    let rest = line.replace(/^[ \t]+/, '');
    let ignoreErrors = false;
    let noEcho = false;
    while (rest[0] === '-' || rest[0] === '@') {
      if (rest[0] === '-') ignoreErrors = true;
      else noEcho = true;
      rest = rest.slice(1);
    }
    rest = rest.replace(/^[ \t]+/, '');
    let err = 0;
    let quit = false;
    let echoed = false;
    try {
      if (rest === '' || rest.startsWith('#')) {
        if (echo && !noEcho) this.io.echo(line);
        return 0;
      }
      if (rest.startsWith('!')) {
        if (echo && !noEcho) this.io.echo(line);
        this.#shell(rest.slice(1));
        return 0;
      }
      let words: string[];
      try {
        words = splitWords(rest);
      } catch (e) {
        this.io.refusal((e as Error).message);
        throw new Refused();
      }
      const name = (words[0] ?? '').toLowerCase();
      const command = COMMANDS.get(name);
      if (command === undefined) {
        this.io.refusal('Invalid command.');
        throw new Refused();
      }
      const parsed = parseFlags(name, words, command.flags, this.io);
      echoed = true;
      if (echo && !noEcho) this.io.echo(line);
      const result = await command.run(this, parsed.flags, parsed.args, rest);
      if (result === 'quit') quit = true;
      else err = result;
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      // sftp echoes a refused line after its error message, as parse_dispatch_command does.
      if (!echoed && echo && !noEcho) this.io.echo(line);
      err = -1;
    }
    this.io.flush();
    if (errAbort && !ignoreErrors && err !== 0) return -1;
    return quit ? 1 : 0;
  }

  #shell(command: string): void {
    this.io.flush();
    const shell = process.env.SHELL || '/bin/sh';
    const r = spawnSync(shell, command === '' ? [] : ['-c', command], { stdio: 'inherit' });
    if (r.status === null) this.io.error('Shell exited abnormally');
    else if (r.status !== 0) this.io.error(`Shell exited with status ${r.status}`);
  }

  /** ls: one directory, or the matches of a glob. */
  async ls(flags: Set<string>, path: string | undefined): Promise<number> {
    const f: LsFlags = {
      long: flags.has('l') || flags.has('n'),
      single: flags.has('1') && !flags.has('l') && !flags.has('n'),
      numeric: flags.has('n'),
      all: flags.has('a'),
      si: flags.has('h'),
      reverse: flags.has('r'),
      sort: flags.has('f') ? 'none' : flags.has('t') ? 'time' : flags.has('S') ? 'size' : 'name',
    };
    const strip = path === undefined || !path.startsWith('/') ? this.pwd : undefined;
    let dir = this.pwd;
    if (path !== undefined) {
      const pattern = this.absoluteGlob(path);
      const { paths, matched } = await remoteGlob(this.client, B(pattern));
      if (!matched) {
        this.io.error(`Can't ls: "${undoGlobEscape(pattern)}" not found`);
        return -1;
      }
      const only = paths.length === 1 ? await this.client.stat(paths[0]!).catch(() => undefined) : undefined;
      if (!(only && isDirectory(only))) {
        const entries: LsEntry[] = [];
        for (const p of paths) {
          // GLOB_KEEPSTAT keeps what stat (not lstat) said: a link shows as what it points to.
          const attrs = await this.client.stat(p).catch(() => this.client.lstat(p).catch(() => ({})));
          entries.push({ name: pathStrip(S(p), strip), attrs });
        }
        // do_globbed_ls sizes its columns by the unstripped paths.
        const longest = Math.max(0, ...paths.map((p) => p.length));
        await printListing(this.client, sortEntries(entries, f), f, this.io.out, longest);
        return 0;
      }
      // Kept with its GLOB_MARK slash: do_ls_dir counts it in the column width.
      dir = S(paths[0]!);
    }
    let listing: Awaited<ReturnType<SftpClient['readdir']>>;
    try {
      listing = await this.client.readdir(B(dir));
    } catch (e) {
      this.io.error(`Couldn't read directory: ${why(e)}`);
      return -1;
    }
    const shown = listing.filter((e) => f.all || e.filename[0] !== 0x2e);
    const entries: LsEntry[] = shown.map((e) => ({
      name: pathStrip(S(appendPath(B(dir), e.filename)), strip),
      attrs: e.attrs,
    }));
    const longest = Math.max(0, ...shown.map((e) => e.filename.length)) + pathStrip(dir, strip).length;
    await printListing(this.client, sortEntries(entries, f), f, this.io.out, longest);
    return 0;
  }

  async cd(path: string | undefined): Promise<number> {
    const target = this.absolute(path === undefined || path === '' ? this.startdir : path);
    let real: string;
    try {
      real = S(await this.client.realpath(B(target)));
    } catch (e) {
      this.io.error(`realpath ${target}: ${why(e)}`);
      return -1;
    }
    const attrs = await this.client.stat(B(real)).catch((e: unknown) => e);
    if (attrs instanceof Error) {
      this.io.error(`stat remote: ${why(attrs)}`);
      return -1;
    }
    if (!isDirectory(attrs as never)) {
      this.io.error(`Can't change directory: "${real}" is not a directory`);
      return -1;
    }
    this.pwd = real;
    return 0;
  }

  /** Run `op` on every match of a remote glob (rm, chmod, chown, chgrp), as sftp does. */
  async eachMatch(path: string, errAbort: boolean, op: (p: Buffer) => Promise<void>): Promise<number> {
    const { paths } = await remoteGlob(this.client, B(this.absoluteGlob(path)));
    let err = 0;
    for (const p of paths) {
      try {
        await op(p);
      } catch {
        err = -1;
        if (errAbort) break;
      }
    }
    return err;
  }

  async df(flags: Set<string>, path: string | undefined): Promise<number> {
    try {
      printDf(await statvfs(this.client, B(this.absolute(path ?? this.pwd))), flags, this.io.out);
      return 0;
    } catch (e) {
      this.io.error(`remote statvfs: ${why(e)}`);
      return -1;
    }
  }

  get: typeof processGet = processGet;
  put: typeof processPut = processPut;

  lcd(path: string | undefined): number {
    const dir =
      path === undefined || path === '' || path === '~'
        ? os.homedir()
        : path.replace(/^~(?=\/)/, os.homedir());
    try {
      process.chdir(dir);
      return 0;
    } catch (e) {
      this.io.error(`Couldn't change local directory to "${dir}": ${strerror(e)}`);
      return -1;
    }
  }

  lmkdir(path: string): number {
    try {
      mkdirSync(B(path), 0o777);
      return 0;
    } catch (e) {
      this.io.error(`Couldn't create local directory "${path}": ${strerror(e)}`);
      return -1;
    }
  }

  lls(args: string): void {
    this.#shell(args === '' ? 'ls' : `ls ${args}`);
  }
}

/** sftp.c path_strip: `path` relative to `strip` when it starts with it. */
function pathStrip(path: string, strip: string | undefined): string {
  if (strip === undefined || !path.startsWith(strip)) return path;
  let len = strip.length;
  if (!strip.endsWith('/') && path[len] === '/') len++;
  return path.slice(len);
}

interface Command {
  /** getopt letters; null for commands that take the rest of the line as is. */
  flags: string | null;
  run(shell: SftpShell, flags: Set<string>, args: string[], line: string): Promise<number | 'quit'>;
}

function parseFlags(name: string, words: string[], letters: string | null, io: ShellIo) {
  const flags = new Set<string>();
  let i = 1;
  if (letters !== null) {
    for (; i < words.length; i++) {
      const w = words[i]!;
      if (w === '--') {
        i++;
        break;
      }
      if (!w.startsWith('-') || w === '-') break;
      for (const c of w.slice(1)) {
        if (!letters.includes(c)) {
          io.refusal(name === 'ls' ? `ls: Invalid flag -${c}` : `${name}: Invalid flag -${c}`);
          throw new Refused();
        }
        flags.add(c);
      }
    }
  }
  return { flags, args: words.slice(i) };
}

export type { Command };
export { Refused };
