import { describe, expect, it } from 'vitest';
import { resolveReplicateOptions } from '../../../src/btrfs/options.js';
import { spoolIdentity, spoolPath } from '../../../src/btrfs/resume.js';
import type { SubvolumeInfo } from '../../../src/btrfs/subvolume-show.js';

const snap = (uuid: string, generation: number, receivedUuid: string | null = null): SubvolumeInfo => ({
  name: 's',
  path: '/x/s',
  uuid,
  parentUuid: null,
  receivedUuid,
  readonly: true,
  generation,
  cgen: generation,
  id: 256,
});

describe('resume options', () => {
  const base = { source: '/a/s', target: 'nas:/b' };

  it('resumes by default with no spool limit of its own; sizes parse in binary units', () => {
    expect(resolveReplicateOptions(base)).toMatchObject({ resume: true, spoolLimit: null });
    expect(resolveReplicateOptions({ ...base, spoolLimit: '2G' }).spoolLimit).toBe(2 * 1024 ** 3);
    expect(resolveReplicateOptions({ ...base, resume: false }).resume).toBe(false);
  });

  it('refuses a bad resume, a bad spool limit, and a spool limit with resume off, naming them', () => {
    expect(() => resolveReplicateOptions({ ...base, resume: 'yes' as unknown as boolean })).toThrow(
      /Expected `resume` to be true or false, got `yes`/,
    );
    expect(() => resolveReplicateOptions({ ...base, spoolLimit: 'lots' })).toThrow(
      /Expected `spoolLimit` to be a size in bytes like 20G, 512M or a number, got `lots`/,
    );
    expect(() => resolveReplicateOptions({ ...base, resume: false, spoolLimit: '1G' })).toThrow(
      /`spoolLimit` limits the resume spool: it cannot be set together with `resume: false`/,
    );
  });
});

describe('spool identity', () => {
  it('names source, parent and clone sources by UUID, Received UUID and generation, never by name', () => {
    const a = spoolIdentity(snap('u1', 10), snap('p1', 5, 'r1'), [snap('c1', 3)]);
    expect(a).toBe(
      'sshmux-btrfs-spool 1\nsource uuid=u1 received=- gen=10\nparent uuid=p1 received=r1 gen=5\nclone uuid=c1 received=- gen=3\n',
    );
    // Same name, another subvolume (replaced) or the same one changed: a different identity.
    expect(spoolIdentity(snap('u2', 10), null, [])).not.toBe(spoolIdentity(snap('u1', 10), null, []));
    expect(spoolIdentity(snap('u1', 11), null, [])).not.toBe(spoolIdentity(snap('u1', 10), null, []));
    expect(spoolIdentity(snap('u1', 10), null, [])).not.toBe(
      spoolIdentity(snap('u1', 10), snap('p1', 5), []),
    );
  });

  it('keeps the spool in DIR/.sshmux-resume/NAME', () => {
    expect(spoolPath('/srv/backups/', 'home.1')).toBe('/srv/backups/.sshmux-resume/home.1');
  });
});
