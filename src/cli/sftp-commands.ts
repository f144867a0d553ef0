import { SftpStatusError } from '../errors.js';
import { OpenFlag, type SftpClient } from '../transfer/sftp-client.js';
import { copyData } from '../transfer/sftp-extensions.js';
import { rawPath as printablePath, statusText } from '../transfer/sftp-status.js';
import { type Command, Refused, type SftpShell } from './sftp-shell.js';
import { SFTP_HELP } from './sftp-text.js';
import { undoGlobEscape } from './sftp-words.js';

const B = (s: string) => Buffer.from(s, 'latin1');
const why = (err: unknown) => (err instanceof SftpStatusError ? statusText(err.status) : String(err));

/** Arguments a command must have, with sftp's complaint when they are missing. */
function need(
  shell: SftpShell,
  name: string,
  args: string[],
  count: 1 | 2,
  what: 'path' | 'paths' | 'get',
): void {
  if (args.length >= count) return;
  const text =
    what === 'get'
      ? `You must specify at least one path after a ${name} command.`
      : count === 2
        ? `You must specify two paths after a ${name} command.`
        : `You must specify a path after a ${name} command.`;
  shell.io.refusal(text);
  throw new Refused();
}

/** The numeric argument of chmod (octal), chown, chgrp and lumask. */
function numeric(shell: SftpShell, name: string, word: string | undefined, base: 8 | 10): number {
  const ok = word !== undefined && (base === 8 ? /^[0-7]+$/ : /^\d+$/).test(word);
  const n = ok ? Number.parseInt(word, base) : Number.NaN;
  if (!(n >= 0 && n <= 0xffffffff)) {
    shell.io.refusal(`You must supply a numeric argument to the ${name} command.`);
    throw new Refused();
  }
  return n;
}

/** A command sshmux sftp does not implement: refused by name, so a batch stops there. */
const unsupported = (name: string, what: string): Command => ({
  flags: null,
  run: async (shell) => {
    shell.io.error(`${name}: not supported by sshmux sftp (${what}); use OpenSSH's sftp for it`);
    return -1;
  },
});

const getput = (kind: 'get' | 'put', name: string): Command => ({
  flags: 'afPpRr',
  run: async (shell, flags, args) => {
    need(shell, name, args, 1, 'get');
    if (flags.has('a')) {
      shell.io.error(`${name} -a: resuming is not supported by sshmux sftp; transfer the whole file`);
      return -1;
    }
    const ctx = {
      ...shell.copy,
      preserve: shell.copy.preserve || flags.has('p') || flags.has('P'),
      recursive: shell.copy.recursive || flags.has('r') || flags.has('R'),
      progress: shell.showProgress ? shell.copy.progress : undefined,
    };
    const dst = args[1] === undefined ? undefined : undoGlobEscape(args[1]);
    if (kind === 'get') return shell.get(shell.client, ctx, shell.absoluteGlob(args[0]!), dst);
    return shell.put(
      shell.client,
      ctx,
      args[0]!,
      dst === undefined ? undefined : shell.absolute(dst),
      shell.pwd,
    );
  },
});

/** A command that only prints. */
const prints = (text: (shell: SftpShell) => string): Command => ({
  flags: '',
  run: async (shell) => {
    shell.io.out(text(shell));
    return 0;
  },
});

/** copy/cp: sftp_copy over the copy-data extension, the new file with the old one's permissions. */
const copy = (name: string): Command => ({
  flags: '',
  run: async (shell, _f, args) => {
    need(shell, name, args, 2, 'paths');
    const [from, to] = args.map((w) => shell.absolute(undoGlobEscape(w))) as [string, string];
    const c = shell.client;
    if (!c.has('copy-data')) {
      shell.io.error('Server does not support copy-data extension');
      return -1;
    }
    let mode = 0o666;
    try {
      const a = await c.stat(B(from));
      if (a.mode !== undefined) {
        if ((a.mode & 0o170000) !== 0o100000) {
          shell.io.error(`Cannot copy non-regular file: ${from}`);
          return -1;
        }
        mode = a.mode & 0o777;
      }
    } catch (e) {
      shell.io.error(`stat remote: ${why(e)}`);
      return -1;
    }
    const open = async (p: string, flags: number, attrs = {}) => {
      try {
        return await c.open(B(p), flags, attrs);
      } catch (e) {
        shell.io.error(`remote open("${p}"): ${why(e)}`);
        return undefined;
      }
    };
    const src = await open(from, OpenFlag.Read);
    if (src === undefined) return -1;
    const dst = await open(to, OpenFlag.Write | OpenFlag.Creat | OpenFlag.Trunc, { mode });
    if (dst === undefined) {
      await c.close(src, B(from)).catch(() => {});
      return -1;
    }
    const result = await report(
      shell,
      () => copyData(c, src, dst, B(from)),
      (e) => `Couldn't copy file "${from}" to "${to}": ${why(e)}`,
    );
    await c.close(src, B(from)).catch(() => {});
    await c.close(dst, B(to)).catch(() => {});
    return result;
  },
});

const quit: Command = { flags: '', run: async () => 'quit' };

async function report(
  shell: SftpShell,
  op: () => Promise<void>,
  message: (e: unknown) => string,
): Promise<number> {
  try {
    await op();
    return 0;
  } catch (e) {
    shell.io.error(message(e));
    return -1;
  }
}

const link = (symbolic: boolean | 'flag'): Command => ({
  flags: symbolic === 'flag' ? 's' : '',
  run: async (shell, flags, args) => {
    const name = symbolic === 'flag' ? 'ln' : 'symlink';
    need(shell, name, args, 2, 'paths');
    const soft = symbolic === true || flags.has('s');
    const [from, to] = args.map(undoGlobEscape) as [string, string];
    const target = soft ? from : shell.absolute(from);
    const at = shell.absolute(to);
    const c: SftpClient = shell.client;
    return report(
      shell,
      () => (soft ? c.symlink(B(target), B(at)) : c.hardlink(B(target), B(at))),
      (e) => `remote ${soft ? 'symlink' : 'link'} file "${target}" to "${at}": ${why(e)}`,
    );
  },
});

const owner = (name: 'chown' | 'chgrp'): Command => ({
  flags: 'h',
  run: async (shell, flags, args) => {
    const id = numeric(shell, name, args[0], 10);
    need(shell, name, args.slice(1), 1, 'path');
    return shell.eachMatch(args[1]!, true, async (p) => {
      const a = await (flags.has('h') ? shell.client.lstat(p) : shell.client.stat(p));
      if (a.uid === undefined || a.gid === undefined) {
        shell.io.error(`Can't get current ownership of remote file "${printablePath(p)}"`);
        throw new Refused();
      }
      if (!shell.copy.quiet)
        shell.copy.say(`Changing ${name === 'chown' ? 'owner' : 'group'} on ${printablePath(p)}\n`);
      const attrs = name === 'chown' ? { uid: id, gid: a.gid } : { uid: a.uid, gid: id };
      await shell.client.setstat(p, attrs).catch((e) => {
        shell.io.error(`remote setstat "${printablePath(p)}": ${why(e)}`);
        throw e;
      });
    });
  },
});

export const COMMANDS = new Map<string, Command>([
  ['bye', quit],
  ['exit', quit],
  ['quit', quit],
  ['cd', { flags: '', run: async (s, _f, a) => s.cd(a[0] === undefined ? undefined : undoGlobEscape(a[0])) }],
  [
    'chdir',
    { flags: '', run: async (s, _f, a) => s.cd(a[0] === undefined ? undefined : undoGlobEscape(a[0])) },
  ],
  ['pwd', prints((s) => `Remote working directory: ${s.pwd}\n`)],
  ['lpwd', prints(() => `Local working directory: ${process.cwd()}\n`)],
  [
    'lcd',
    { flags: '', run: async (s, _f, a) => s.lcd(a[0] === undefined ? undefined : undoGlobEscape(a[0])) },
  ],
  [
    'lchdir',
    { flags: '', run: async (s, _f, a) => s.lcd(a[0] === undefined ? undefined : undoGlobEscape(a[0])) },
  ],
  [
    'lmkdir',
    {
      flags: '',
      run: async (s, _f, a) => {
        need(s, 'lmkdir', a, 1, 'path');
        return s.lmkdir(undoGlobEscape(a[0]!));
      },
    },
  ],
  [
    'lls',
    {
      flags: null,
      run: async (s, _f, _a, line) => {
        s.lls(line.replace(/^\S+\s*/, ''));
        return 0;
      },
    },
  ],
  ['ls', { flags: '1Safhlnrt', run: async (s, f, a) => s.ls(f, a[0]) }],
  ['dir', { flags: '1Safhlnrt', run: async (s, f, a) => s.ls(f, a[0]) }],
  ['get', getput('get', 'get')],
  ['put', getput('put', 'put')],
  ['mget', getput('get', 'mget')],
  ['mput', getput('put', 'mput')],
  ['reget', unsupported('reget', 'resuming a download')],
  ['reput', unsupported('reput', 'resuming an upload')],
  ['copy', copy('copy')],
  ['cp', copy('cp')],
  [
    'mkdir',
    {
      flags: '',
      run: async (s, _f, a) => {
        need(s, 'mkdir', a, 1, 'path');
        const p = s.absolute(undoGlobEscape(a[0]!));
        return report(
          s,
          () => s.client.mkdir(B(p), { mode: 0o777 }),
          (e) => `remote mkdir "${p}": ${why(e)}`,
        );
      },
    },
  ],
  [
    'rmdir',
    {
      flags: '',
      run: async (s, _f, a) => {
        need(s, 'rmdir', a, 1, 'path');
        const p = s.absolute(undoGlobEscape(a[0]!));
        return report(
          s,
          () => s.client.rmdir(B(p)),
          (e) => `remote rmdir "${p}": ${why(e)}`,
        );
      },
    },
  ],
  [
    'rm',
    {
      flags: '',
      run: async (s, _f, a) => {
        need(s, 'rm', a, 1, 'path');
        return s.eachMatch(a[0]!, true, async (p) => {
          if (!s.copy.quiet) s.copy.say(`Removing ${printablePath(p)}\n`);
          await s.client.remove(p).catch((e) => {
            s.io.error(`remote delete ${printablePath(p)}: ${why(e)}`);
            throw e;
          });
        });
      },
    },
  ],
  [
    'rename',
    {
      flags: 'l',
      run: async (s, f, a) => {
        need(s, 'rename', a, 2, 'paths');
        const [from, to] = a.map((w) => s.absolute(undoGlobEscape(w))) as [string, string];
        return report(
          s,
          () => s.client.rename(B(from), B(to), !f.has('l')),
          (e) => `remote rename "${from}" to "${to}": ${why(e)}`,
        );
      },
    },
  ],
  ['ln', link('flag')],
  ['symlink', link(true)],
  [
    'chmod',
    {
      flags: 'h',
      run: async (s, f, a) => {
        const mode = numeric(s, 'chmod', a[0], 8);
        need(s, 'chmod', a.slice(1), 1, 'path');
        if (f.has('h')) {
          s.io.error('chmod -h: lsetstat is not supported by sshmux sftp; leave -h out');
          return -1;
        }
        return s.eachMatch(a[1]!, true, async (p) => {
          if (!s.copy.quiet) s.copy.say(`Changing mode on ${printablePath(p)}\n`);
          await s.client.setstat(p, { mode }).catch((e) => {
            s.io.error(`remote setstat "${printablePath(p)}": ${why(e)}`);
            throw e;
          });
        });
      },
    },
  ],
  ['chown', owner('chown')],
  ['chgrp', owner('chgrp')],
  [
    'df',
    { flags: 'hi', run: async (s, f, a) => s.df(f, a[0] === undefined ? undefined : undoGlobEscape(a[0])) },
  ],
  [
    'lumask',
    {
      flags: '',
      run: async (s, _f, a) => {
        const mask = numeric(s, 'lumask', a[0], 8);
        process.umask(mask);
        s.io.out(`Local umask: ${mask.toString(8).padStart(3, '0')}\n`);
        return 0;
      },
    },
  ],
  [
    'progress',
    {
      flags: '',
      run: async (s) => {
        s.showProgress = !s.showProgress;
        s.io.out(`Progress meter ${s.showProgress ? 'enabled' : 'disabled'}\n`);
        return 0;
      },
    },
  ],
  ['version', prints(() => 'SFTP protocol version 3\n')],
  ['help', prints(() => SFTP_HELP)],
  ['?', prints(() => SFTP_HELP)],
]);
