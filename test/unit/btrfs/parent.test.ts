import { describe, expect, it } from 'vitest';
import { correlate, selectParent } from '../../../src/btrfs/parent.js';
import type { SubvolumeInfo } from '../../../src/btrfs/subvolume-show.js';

let next = 1;
function sv(name: string, over: Partial<SubvolumeInfo> = {}): SubvolumeInfo {
  const n = next++;
  return {
    name,
    path: `/src/${name}`,
    uuid: `uuid-${name}`,
    parentUuid: 'uuid-vol',
    receivedUuid: null,
    readonly: true,
    generation: n * 10,
    cgen: n * 10,
    id: 256 + n,
    ...over,
  };
}
const received = (of: SubvolumeInfo, over: Partial<SubvolumeInfo> = {}) =>
  sv(of.name, {
    uuid: `dst-${of.name}`,
    receivedUuid: of.receivedUuid ?? of.uuid,
    parentUuid: null,
    ...over,
  });

describe('selectParent', () => {
  const s1 = sv('s1', { cgen: 10 });
  const s2 = sv('s2', { cgen: 20 });
  const s3 = sv('s3', { cgen: 30 });
  const s4 = sv('s4', { cgen: 40 });
  const siblings = [s4, s1, s3, s2, sv('vol', { readonly: false, cgen: 5, uuid: 'uuid-vol' })];

  it('picks the newest older read-only sibling the destination has received', () => {
    const choice = selectParent(s4, siblings, [received(s1), received(s2)]);
    expect(choice.parent?.name).toBe('s2');
    expect(choice.match?.name).toBe('s2');
    expect(choice.reason).toMatch(/incremental from s2/);
  });

  it('orders by creation generation, not by the last-modified generation', () => {
    // s2 was modified (e.g. a property set) after s3 was created: its generation is higher, cgen is not.
    const s2touched = { ...s2, generation: 999 };
    const choice = selectParent(s4, [s2touched, s3, s4], [received(s2), received(s3)]);
    expect(choice.parent?.name).toBe('s3');
  });

  it('never picks the source itself, a newer snapshot or a writable subvolume', () => {
    const writable = sv('w', { readonly: false, cgen: 35 });
    const choice = selectParent(s3, [s3, s4, writable], [received(s3), received(s4), received(writable)]);
    expect(choice.parent).toBeNull();
    expect(choice.reason).toMatch(/no read-only snapshot older than s3/);
  });

  it('falls back to a full send with a reason when nothing correlates', () => {
    expect(selectParent(s4, siblings, []).reason).toMatch(/holds no received snapshots/);
    const stranger = sv('other', { receivedUuid: 'uuid-elsewhere' });
    const choice = selectParent(s4, siblings, [stranger]);
    expect(choice.parent).toBeNull();
    expect(choice.reason).toMatch(/none of the 3 older snapshot\(s\) beside s4 \(s3, s2, s1\)/);
  });

  it('ignores a writable destination subvolume (a partial receive has no Received UUID and is writable)', () => {
    const partial = received(s3, { readonly: false });
    expect(selectParent(s4, siblings, [partial]).parent).toBeNull();
  });

  it('correlates received siblings through their Received UUID (relay, pull back)', () => {
    // On a relay source the siblings are themselves received: their stream carries the original UUID.
    const r1 = sv('s1', { uuid: 'mid-s1', receivedUuid: 'uuid-s1', cgen: 10 });
    const r2 = sv('s2', { uuid: 'mid-s2', receivedUuid: 'uuid-s2', cgen: 20 });
    const atFinal = [sv('s1', { uuid: 'fin-s1', receivedUuid: 'uuid-s1' })];
    expect(selectParent(r2, [r1, r2], atFinal).parent?.name).toBe('s1');
    // Pulling back to the original filesystem: the original itself matches by UUID.
    const original = sv('s1', { uuid: 'uuid-s1' });
    expect(correlate(r1, [original])?.uuid).toBe('uuid-s1');
  });
});
