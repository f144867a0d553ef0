import type { Ctx, Row } from '../lib/types.js';

export async function cliLatencyScenario(_ctx: Ctx): Promise<Row[]> {
  return [];
}
