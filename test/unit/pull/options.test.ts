import { describe, expect, it } from 'vitest';
import { normalizePullOptions } from '../../../src/pull/options.js';

describe('normalizePullOptions', () => {
  it("takes push's options with push's defaults", () => {
    const o = normalizePullOptions({ delete: true });
    expect(o).toMatchObject({ checksum: false, delete: true, verify: false, concurrency: 4 });
    expect(Object.isFrozen(o)).toBe(true);
    expect('transport' in o).toBe(false);
  });

  it('refuses `transport` (pull always reads over SFTP) and bad values, by name', () => {
    expect(() => normalizePullOptions({ transport: 'exec' } as never)).toThrow(/`transport`/);
    expect(() => normalizePullOptions({ concurrency: 0 })).toThrow(/`concurrency`/);
    expect(() => normalizePullOptions({ verify: 1 as never })).toThrow(/`verify`/);
  });
});
