import type { Ctx, Row } from '../lib/types.js';

export async function btrfsScenario(_ctx: Ctx): Promise<Row[]> {
  return [];
}
