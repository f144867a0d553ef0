import type { Ctx, Row } from '../lib/types.js';

export async function gitCloneScenario(_ctx: Ctx): Promise<Row[]> {
  return [];
}
