/** Poll until `fn` returns true or `ms` pass; returns the time it took. */
export async function eventually(
  fn: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
