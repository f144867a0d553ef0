import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSubvolumeBlocks } from '../../../src/btrfs/inspect.js';
import { parseDuTotal, parseSubvolumeShow, streamUuid } from '../../../src/btrfs/subvolume-show.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/btrfs');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('parseSubvolumeShow on captured btrfs-progs 6.2 output', () => {
  it('reads a writable source subvolume', () => {
    expect(parseSubvolumeShow(fixture('show-writable-source.txt'))).toEqual({
      name: 'vol',
      path: 'vol',
      uuid: 'b0abfe59-098e-5542-9f06-f71e5ed8f1f0',
      parentUuid: null,
      receivedUuid: null,
      readonly: false,
      generation: 10,
      cgen: 7,
      id: 256,
    });
  });

  it('reads a read-only snapshot and takes the caller path over the printed one', () => {
    const info = parseSubvolumeShow(fixture('show-readonly-snapshot.txt'), '/mnt/src/snap2');
    expect(info).toMatchObject({
      name: 'snap2',
      path: '/mnt/src/snap2',
      uuid: 'f67ca92c-0516-b944-b4c2-a81ea5024b49',
      parentUuid: 'b0abfe59-098e-5542-9f06-f71e5ed8f1f0',
      receivedUuid: null,
      readonly: true,
      generation: 10,
      cgen: 10,
    });
    expect(streamUuid(info)).toBe(info.uuid);
  });

  it('reads received subvolumes (full and incremental) and forwards their Received UUID as stream UUID', () => {
    const full = parseSubvolumeShow(fixture('show-received-full.txt'));
    expect(full).toMatchObject({
      name: 'snap1',
      path: 'recv/snap1',
      parentUuid: null,
      receivedUuid: '06674192-f5b9-624c-ad7b-d3971f0be8b1',
      readonly: true,
      generation: 11,
      cgen: 8,
    });
    expect(streamUuid(full)).toBe('06674192-f5b9-624c-ad7b-d3971f0be8b1');
    const inc = parseSubvolumeShow(fixture('show-received-incremental.txt'));
    expect(inc.parentUuid).toBe('8be49586-58e5-1943-a88f-db9cfa5d43d8');
    expect(inc.receivedUuid).toBe('f67ca92c-0516-b944-b4c2-a81ea5024b49');
  });

  it('reads the top-level subvolume', () => {
    expect(parseSubvolumeShow(fixture('show-toplevel.txt'))).toMatchObject({
      name: '<FS_TREE>',
      id: 5,
      cgen: 0,
    });
  });

  it('reads the older (4.x) layout with a full path first line and spaces', () => {
    const old = [
      '/mnt/pool/snaps/home.20190101',
      '\tName: \t\t\thome.20190101',
      '\tUUID: \t\t\tAB6E0D22-1111-2222-3333-444455556666',
      '\tParent UUID: \t\t-',
      '\tReceived UUID: \t\t-',
      '\tCreation time: \t\t2019-01-01 00:00:00 +0100',
      '\tSubvolume ID: \t\t300',
      '\tGeneration: \t\t1234',
      '\tGen at creation: \t1200',
      '\tParent ID: \t\t5',
      '\tTop level ID: \t\t5',
      '\tFlags: \t\t\treadonly',
      '\tSnapshot(s):',
      '',
    ].join('\n');
    expect(parseSubvolumeShow(old)).toMatchObject({
      name: 'home.20190101',
      path: '/mnt/pool/snaps/home.20190101',
      uuid: 'ab6e0d22-1111-2222-3333-444455556666',
      readonly: true,
      cgen: 1200,
      id: 300,
    });
  });

  it('refuses output without a UUID or generation, naming the field', () => {
    expect(() => parseSubvolumeShow('ERROR: Not a Btrfs subvolume: Invalid argument\n')).toThrow(/no UUID/);
    const noGen = fixture('show-writable-source.txt').replace(/Generation:.*\n/, '');
    expect(() => parseSubvolumeShow(noGen)).toThrow(/Generation/);
  });
});

describe('parseSubvolumeBlocks', () => {
  it('splits the listing script output into one subvolume per marker, keeping failures', () => {
    const text = [
      '@@sshmux-subvol /d/snap1',
      fixture('show-received-full.txt').trimEnd(),
      '@@sshmux-subvol /d/with space',
      'ERROR: Could not search B-tree: Operation not permitted',
      '@@sshmux-show-failed',
      '',
    ].join('\n');
    const blocks = parseSubvolumeBlocks(text);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatchObject({ path: '/d/snap1', info: { name: 'snap1', path: '/d/snap1' } });
    expect(blocks[1]).toEqual({
      path: '/d/with space',
      info: null,
      error: 'ERROR: Could not search B-tree: Operation not permitted',
    });
    expect(parseSubvolumeBlocks('')).toEqual([]);
  });
});

describe('parseDuTotal', () => {
  it('reads the Total column of `btrfs filesystem du -s --raw`', () => {
    expect(parseDuTotal(fixture('du-s-raw.txt'))).toBe(0);
    expect(
      parseDuTotal(
        '     Total   Exclusive  Set shared  Filename\n 209715200    4096  209711104  /mnt/s/snap\n',
      ),
    ).toBe(209715200);
    expect(parseDuTotal('ERROR: cannot check space of x\n')).toBeNull();
  });
});
