import { readdirSync, statSync } from 'node:fs';
import type { CopyContext } from '../transfer/copy-context.js';
import { downloadFile, uploadFile } from '../transfer/file-copy.js';
import { hasMagic, matchComponent, remoteGlob, unescapeGlob } from '../transfer/remote-glob.js';
import { isDirectory } from '../transfer/sftp-attrs.js';
import type { SftpClient } from '../transfer/sftp-client.js';
import { appendPath, baseName, remoteIsDir } from '../transfer/sftp-paths.js';
import { downloadDir, uploadDir } from '../transfer/tree-copy.js';

const B = (s: string) => Buffer.from(s, 'latin1');
const S = (b: Buffer) => b.toString('latin1');
const localIsDir = (p: string) => statSync(B(p), { throwIfNoEntry: false })?.isDirectory() === true;

/** sftp.c process_get: `pattern` already absolute (pwd glob-escaped); 0 or -1. */
export async function processGet(
  client: SftpClient,
  ctx: CopyContext & { say(line: string): void; quiet: boolean },
  pattern: string,
  dst: string | undefined,
): Promise<number> {
  const { paths, matched } = await remoteGlob(client, B(pattern));
  if (!matched) {
    ctx.error(`File "${S(unescapeGlob(B(pattern)))}" not found.`);
    return -1;
  }
  if (paths.length > 1 && dst !== undefined && !localIsDir(dst)) {
    ctx.error(`Multiple source paths, but destination "${dst}" is not a directory`);
    return -1;
  }
  let err = 0;
  for (const path of paths) {
    let filename = S(baseName(path));
    if (filename === '..') filename = '.';
    const to =
      dst === undefined
        ? filename
        : paths.length === 1 && !localIsDir(dst)
          ? dst
          : S(appendPath(B(dst), B(filename)));
    if (!ctx.quiet) ctx.say(`Fetching ${S(path)} to ${to}\n`);
    const attrs = await client.stat(path).catch(() => undefined);
    const ok =
      path[path.length - 1] === 0x2f && ctx.recursive && attrs && isDirectory(attrs)
        ? await downloadDir(ctx, client, path, B(to), attrs)
        : await downloadFile(ctx, client, path, B(to), attrs);
    if (!ok) err = -1;
  }
  return err;
}

/** sftp.c process_put: the local side is globbed here (GLOB_NOCHECK|GLOB_MARK). */
export async function processPut(
  client: SftpClient,
  ctx: CopyContext & { say(line: string): void; quiet: boolean },
  src: string,
  dst: string | undefined,
  pwd: string,
): Promise<number> {
  const { paths, matched } = localGlob(src);
  const dstIsDir = dst === undefined ? true : await remoteIsDir(client, B(dst));
  if (matched && paths.length > 1 && dst !== undefined && !dstIsDir) {
    ctx.error(`Multiple paths match, but destination "${dst}" is not a directory`);
    return -1;
  }
  let err = 0;
  for (const path of paths) {
    const st = statSync(B(path), { throwIfNoEntry: false });
    if (st === undefined) {
      ctx.error(`stat ${path}: No such file or directory`);
      err = -1;
      continue;
    }
    let filename = S(baseName(B(path)));
    if (filename === '..') filename = '.';
    const to =
      dst === undefined
        ? S(appendPath(B(pwd), B(filename)))
        : paths.length === 1 && !dstIsDir
          ? dst
          : S(appendPath(B(dst), B(filename)));
    if (!ctx.quiet) ctx.say(`Uploading ${path} to ${to}\n`);
    const ok =
      path.endsWith('/') && ctx.recursive
        ? await uploadDir(ctx, client, B(path), B(to))
        : await uploadFile(ctx, client, B(path.replace(/\/+$/, '') || '/'), B(to));
    if (!ok) err = -1;
  }
  return err;
}

/** glob(3) on the local side, bytes as latin1, directories marked with `/`; the pattern itself when nothing matches. */
export function localGlob(pattern: string): { paths: string[]; matched: boolean } {
  const absolute = pattern.startsWith('/');
  const parts = pattern.split('/').filter((p) => p !== '');
  let bases = [absolute ? '/' : ''];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of bases) {
      if (!hasMagic(B(part))) {
        const candidate = `${base}${base === '' || base.endsWith('/') ? '' : '/'}${S(unescapeGlob(B(part)))}`;
        if (statSync(B(candidate), { throwIfNoEntry: false })) next.push(candidate);
        continue;
      }
      let names: Buffer[] = [];
      try {
        names = readdirSync(B(base === '' ? '.' : base), { encoding: 'buffer' });
      } catch {
        names = [];
      }
      for (const n of names.filter((n) => matchComponent(B(part), n)).sort(Buffer.compare)) {
        next.push(`${base}${base === '' || base.endsWith('/') ? '' : '/'}${S(n)}`);
      }
    }
    bases = next;
  }
  if (bases.length === 0 || (parts.length === 0 && !absolute))
    return { paths: [S(unescapeGlob(B(pattern)))], matched: false };
  const mark = (p: string) => (localIsDir(p) && !p.endsWith('/') ? `${p}/` : p);
  return { paths: bases.map(mark), matched: true };
}
