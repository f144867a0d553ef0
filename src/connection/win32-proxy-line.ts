import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';

/** The program of a Windows ProxyCommand line and the line as the child receives it. */
export interface Win32ProxyLine {
  /** What `spawn` starts (libuv resolves a bare name on PATH, adding .com/.exe). */
  readonly program: string;
  /** The command line's first part, exactly as CreateProcess is handed it. */
  readonly argv0: string;
  /** The rest of the command line, verbatim (libuv joins it to argv0 with one space). */
  readonly rest: string;
}

const split = (line: string, at: number, argv0: string, program: string): Win32ProxyLine => ({
  program,
  argv0,
  rest: line.slice(at + 1),
});

/**
 * Split an expanded ProxyCommand as Win32-OpenSSH starts it. Its ssh_proxy_connect
 * (sshconnect.c, FORK_NOT_SUPPORTED) hands the line, without the `exec ` prefix and with no
 * shell, to posix_spawnp; build_commandline_string (contrib/win32/win32compat/misc.c) leaves a
 * line that starts with `"` as it is, quotes up to the first space after the first `.exe`
 * (so `C:\Program Files\x\nc.exe h 22` runs nc.exe), and otherwise CreateProcess reads the bare
 * line: the shortest prefix ending at a blank that names a file (with `.exe` added when it has
 * no extension) is the program, which lets an unquoted path with spaces work.
 * `exists` is asked only about prefixes that contain a path separator; a bare first word is
 * looked up on PATH by spawn, as CreateProcess does.
 */
export function splitWin32ProxyLine(
  command: string,
  cwd: string,
  exists: (file: string) => boolean = existsSync,
): Win32ProxyLine {
  const line = command.replace(/^[ \t]+/, '');
  if (line === '' || line === '""')
    throw new ConfigError(`ProxyCommand: no program to run in \`${command}\``);
  if (line.startsWith('"')) {
    const close = line.indexOf('"', 1);
    const first = close === -1 ? line : line.slice(0, close + 1);
    const program = first.replaceAll('"', '');
    if (program === '') throw new ConfigError(`ProxyCommand: no program to run in \`${command}\``);
    // libuv joins argv0 and the verbatim rest with one space: drop exactly one here.
    const rest = line.slice(first.length).replace(/^[ \t]/, '');
    return { program, argv0: first, rest };
  }
  const exe = line.indexOf('.exe');
  const space = exe === -1 ? -1 : line.indexOf(' ', exe);
  if (space !== -1) {
    const program = line.slice(0, space);
    return split(line, space, `"${program}"`, program);
  }
  const blanks = [...line.matchAll(/[ \t]/g)].map((m) => m.index);
  const isFile = (candidate: string): boolean => {
    const full = path.win32.resolve(cwd, candidate);
    return exists(full) || (path.win32.extname(candidate) === '' && exists(`${full}.exe`));
  };
  // Win32-OpenSSH first hands CreateProcess the whole line quoted: a program of that name wins.
  if (blanks.length > 0 && /[\\/]/.test(line) && isFile(line))
    return { program: line, argv0: `"${line}"`, rest: '' };
  for (const at of blanks) {
    const candidate = line.slice(0, at);
    if (!/[\\/]/.test(candidate) || isFile(candidate)) return split(line, at, candidate, candidate);
  }
  // No blank, or no prefix names a file: the first word is the program (spawn reports it missing).
  const first = blanks.length === 0 ? line.length : (blanks[0] as number);
  return { program: line.slice(0, first), argv0: line.slice(0, first), rest: line.slice(first + 1) };
}
