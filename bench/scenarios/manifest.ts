import type { Ctx, Row } from '../lib/types.js';

export async function manifestScenario(_ctx: Ctx): Promise<Row[]> {
  return [];
}
