import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasMagic, matchComponent, remoteGlob } from '../../../src/transfer/remote-glob.js';
import { itPosix } from '../../helpers/posix-only.js';
import { startLocalSftp } from './sftp-helpers.js';

const m = (p: string, n: string | Buffer) =>
  matchComponent(Buffer.from(p), typeof n === 'string' ? Buffer.from(n) : n);

describe('glob matching on bytes', () => {
  it('matches as fnmatch(3) does for one component', () => {
    expect(m('*.txt', 'a.txt')).toBe(true);
    expect(m('*.txt', '.hidden.txt')).toBe(false);
    expect(m('.*', '.hidden')).toBe(true);
    expect(m('a?c', 'abc')).toBe(true);
    expect(m('[a-c]x', 'bx')).toBe(true);
    expect(m('[!a-c]x', 'bx')).toBe(false);
    expect(m('[]]', ']')).toBe(true);
    expect(m('\\*', '*')).toBe(true);
    expect(m('\\*', 'a')).toBe(false);
    expect(m('[unclosed', '[unclosed')).toBe(true);
    expect(m('*', Buffer.from([0xff, 0xfe]))).toBe(true);
    expect(hasMagic(Buffer.from('a\\*b'))).toBe(false);
  });

  itPosix('OpenSSH sftp-server')(
    'globs over SFTP against OpenSSH sftp-server, marking directories, GLOB_NOCHECK when nothing matches',
    async () => {
      await using s = await startLocalSftp();
      mkdirSync(path.join(s.dir, 'd1'));
      mkdirSync(path.join(s.dir, 'd2'));
      for (const f of ['d1/a.txt', 'd1/b.log', 'd2/c.txt', 'top.txt']) writeFileSync(path.join(s.dir, f), f);
      const g = async (p: string) => {
        const r = await remoteGlob(s.client, Buffer.from(`${s.dir}/${p}`));
        return { matched: r.matched, paths: r.paths.map((b) => b.toString().slice(s.dir.length + 1)) };
      };
      expect(await g('d*/*.txt')).toEqual({ matched: true, paths: ['d1/a.txt', 'd2/c.txt'] });
      expect(await g('*')).toEqual({ matched: true, paths: ['d1/', 'd2/', 'top.txt'] });
      expect(await g('d1')).toEqual({ matched: true, paths: ['d1/'] });
      expect(await g('*.none')).toEqual({ matched: false, paths: ['*.none'] });
      expect(await g('missing')).toEqual({ matched: false, paths: ['missing'] });
    },
  );
});
